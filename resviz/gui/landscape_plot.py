"""The loss landscape drawn with pyqtgraph: 2D contour maps side by side, or 1D curves.

As Li et al. 2018 (arXiv:1712.09913, Fig. 5) show ResNet-56 beside its no-shortcut twin:
one map per net, both on one colour scale (:func:`resviz.core.landscape.contour_levels`,
log-spaced from the lowest loss of both nets to the highest), so a chaotic plain net and a
smooth residual one are read on the same footing. A 2D map is an ``ImageItem`` of the loss
(log scale) with ``IsocurveItem`` s at the shared levels; a 1D sweep is two plots, the
training loss and the training error along the direction. Every item is made once and
updated with ``setImage`` / ``setData`` (DESIGN.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from .theme import theme

if TYPE_CHECKING:
    from ..core.landscape import Landscape

__all__ = ["LandscapePlot", "N_LEVELS"]

#: Contour lines per map (the CLI's figure draws 24 on a larger page).
N_LEVELS = 14
_NETS = 2  # the net shown and its twin
_HINT = "Run the sweep to see the training loss\naround the trained weights"


class _Map:
    """One net's 2D map: the plot, its loss image, its contour lines and its centre."""

    def __init__(self, layout: pg.GraphicsLayout, col: int) -> None:
        self.plot: pg.PlotItem = layout.addPlot(row=0, col=col)
        self.plot.setAspectLocked(True)
        self.plot.setLabel("bottom", "a (direction 1)")
        self.plot.setLabel("left", "b (direction 2)")
        self.plot.setMenuEnabled(False)
        self.image = pg.ImageItem()
        self.plot.addItem(self.image)
        self.lines = [pg.IsocurveItem() for _ in range(N_LEVELS)]
        for line in self.lines:
            line.setParentItem(self.image)  # in the image's pixels: the image's rect places them
        self.centre = pg.ScatterPlotItem(size=12, symbol="+")
        self.plot.addItem(self.centre)
        self.hint = pg.TextItem(_HINT, anchor=(0.5, 0.5))
        self.plot.addItem(self.hint, ignoreBounds=True)


class LandscapePlot(QtWidgets.QStackedWidget):
    """2D maps (the net and its twin, one colour scale) or 1D curves, whichever was swept."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.surface = pg.GraphicsLayoutWidget()
        self.maps = [_Map(self.surface.ci, col) for col in range(_NETS)]
        self.bar = pg.ColorBarItem(values=(0, 1), colorMap="viridis", interactive=False, colorMapMenu=False)
        self.bar.setTitle("loss", size="9pt")  # the training loss, on the maps' one scale
        self.surface.ci.addItem(self.bar, row=0, col=_NETS)
        self.bar.setImageItem([m.image for m in self.maps])
        self.curves = pg.GraphicsLayoutWidget()
        self.loss_plot: pg.PlotItem = self.curves.ci.addPlot(row=0, col=0)
        self.error_plot: pg.PlotItem = self.curves.ci.addPlot(row=0, col=1)
        self.legend = self.loss_plot.addLegend(offset=(-10, 10))
        for plot, left in ((self.loss_plot, "training loss"), (self.error_plot, "training error (%)")):
            plot.setLabel("bottom", "a (step along the direction)")
            plot.setLabel("left", left)
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.addItem(pg.InfiniteLine(0, angle=90, pen=pg.mkPen("#888", style=QtCore.Qt.PenStyle.DotLine)))
        self.loss_curves = [self.loss_plot.plot([], []) for _ in range(_NETS)]
        self.error_curves = [self.error_plot.plot([], []) for _ in range(_NETS)]
        self.addWidget(self.surface)
        self.addWidget(self.curves)
        self.results: tuple[Landscape, ...] = ()
        self.levels = np.zeros(0)
        theme().changed.connect(self._restyle)
        self._restyle()
        self.show_results(())

    # -- what the exporters and the view need -----------------------------------------------------

    def layout_item(self) -> pg.GraphicsLayout:
        """The drawing shown now (2D maps or 1D curves), for PNG and SVG export."""
        return self.surface.ci if self.currentWidget() is self.surface else self.curves.ci

    def shown_maps(self) -> int:
        """How many 2D maps are in the layout now."""
        return sum(m.plot.scene() is not None and m.plot.isVisible() for m in self.maps)

    # -- drawing ------------------------------------------------------------------------------------

    def show_results(self, results: tuple[Landscape, ...]) -> None:
        """Draw ``results`` (one or two nets of one sweep; empty: the hint)."""
        self.results = tuple(results)
        two_d = not results or results[0].dims == 2
        self.setCurrentWidget(self.surface if two_d else self.curves)
        self.levels = np.zeros(0)
        if results:  # core.landscape imports torch: not before there is something to draw
            from ..core.landscape import contour_levels

            self.levels = contour_levels(results, n=N_LEVELS)
        if two_d:
            self._draw_maps()
        else:
            self._draw_curves()

    def _scale(self, loss: np.ndarray) -> np.ndarray:
        """The colour scale's coordinate: log10 of the loss when every level is positive."""
        return np.log10(np.maximum(loss, 1e-12)) if self._log else np.asarray(loss, dtype=np.float64)

    @property
    def _log(self) -> bool:
        return self.levels.size > 0 and float(self.levels[0]) > 0

    def _draw_maps(self) -> None:
        c = theme().colours
        results = self.results
        lo, hi = (
            (float(self._scale(self.levels[[0]])[0]), float(self._scale(self.levels[[-1]])[0])) if results else (0, 1)
        )
        self.bar.setLevels((lo, hi if hi > lo else lo + 1e-6))
        if results:
            ticks = self.levels[:: max(1, len(self.levels) // 6)]
            self.bar.axis.setTicks([[(float(self._scale(np.array([v]))[0]), f"{v:.3g}") for v in ticks], []])
        for i, m in enumerate(self.maps):
            r = results[i] if i < len(results) else None
            m.plot.setVisible(r is not None or i == 0)
            m.hint.setVisible(r is None)
            if r is None:
                m.image.clear()
                for line in m.lines:
                    line.setData(None)
                m.centre.setData([], [])
                m.plot.setTitle("")
                m.hint.setColor(c.muted)
                m.plot.setRange(xRange=(-1, 1), yRange=(-1, 1), padding=0.05)  # the span's default
                continue
            a, b = r.alphas, r.betas
            da = float(a[1] - a[0]) if a.size > 1 else 1.0
            db = float(b[1] - b[0]) if b.size > 1 else 1.0
            data = self._scale(r.loss).T  # pyqtgraph's images are [x, y]: alphas along x
            m.image.setImage(data, autoLevels=False, levels=(lo, hi))
            rect = QtCore.QRectF(a[0] - da / 2, b[0] - db / 2, da * a.size, db * b.size)
            m.image.setRect(rect)
            m.plot.setRange(rect, padding=0.02)
            for line, level in zip(m.lines, self.levels, strict=False):
                line.setData(data, float(self._scale(np.array([level]))[0]))
            m.centre.setData([0.0], [0.0])
            loss, err = r.centre()
            m.plot.setTitle(f"{r.name} · centre: loss {loss:.3g}, error {err:.1f} %", size="9pt")
        self.bar.setVisible(bool(results))

    def _draw_curves(self) -> None:
        self.legend.clear()
        for i, (loss, error) in enumerate(zip(self.loss_curves, self.error_curves, strict=False)):
            r = self.results[i] if i < len(self.results) else None
            for curve, values in ((loss, None if r is None else r.loss), (error, None if r is None else r.error)):
                curve.setData([] if r is None else r.alphas, [] if values is None else values)
            if r is not None:
                self.legend.addItem(loss, r.name)
        self.loss_plot.setLogMode(y=self._log)
        self._restyle()

    def _restyle(self) -> None:
        c = theme().colours
        for w in (self.surface, self.curves):
            w.setBackground(c.plot_background)
        line_pen = pg.mkPen(c.plot_foreground, width=1)
        line_pen.setCosmetic(True)
        for m in self.maps:
            for line in m.lines:
                line.setPen(line_pen)
            m.centre.setPen(pg.mkPen(c.error, width=2))
            m.centre.setBrush(pg.mkBrush(c.error))
        for i, r in enumerate(self.results[:_NETS]):
            plain = "plain" in r.name
            style = QtCore.Qt.PenStyle.DashLine if plain else QtCore.Qt.PenStyle.SolidLine
            pen = pg.mkPen(theme().run_colour(i), width=2, style=style)
            pen.setCosmetic(True)
            for curve in (self.loss_curves[i], self.error_curves[i]):
                curve.setPen(pen)
                curve.setSymbol("o")
                curve.setSymbolSize(4)
                curve.setSymbolBrush(theme().run_colour(i))
