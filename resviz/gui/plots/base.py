"""What every plot panel shares: following the runs model and the theme, and export.

A panel is a ``pg.GraphicsLayoutWidget`` holding named ``PlotItem`` s. Items are made
once per run and updated with ``setData`` / ``setImage`` (DESIGN.md); a panel that is
not on screen (another tab) only marks itself stale and redraws when shown.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from ..runs import Run, RunsModel
from ..theme import theme
from .items import Plot
from .redraw import redraw_queue

__all__ = ["PlotPanel", "style_profile", "stage_ticks", "pen_for"]


def pen_for(run: Run, width: float = 1.5, style: QtCore.Qt.PenStyle = QtCore.Qt.PenStyle.SolidLine) -> QtGui.QPen:
    """The run's colour as a cosmetic pen (same width at any zoom)."""
    pen = pg.mkPen(theme().run_colour(run.colour_index), width=width, style=style)
    pen.setCosmetic(True)
    return pen


def style_profile(item: pg.PlotDataItem, run: Run) -> None:
    """A per-layer profile line (Fig. 7 style): the run's colour with a dot at every layer,
    dashed while the net trains without shortcuts, hidden with the run."""
    colour = theme().run_colour(run.colour_index)
    style = QtCore.Qt.PenStyle.SolidLine if run.shortcuts_on else QtCore.Qt.PenStyle.DashLine
    item.setPen(pen_for(run, 1.5, style))
    item.setSymbol("o")
    item.setSymbolSize(4)
    item.setSymbolBrush(colour)
    item.setSymbolPen(pg.mkPen(colour))
    item.setVisible(run.visible)


def stage_ticks(
    names: list[str], levels: dict[str, str] | None = None, *, short: bool = False
) -> list[tuple[float, str]]:
    """Axis ticks for layer or block names: one at the middle of each stage.

    ``layer2.0.conv1`` belongs to stage ``layer2``; ``levels`` maps a stage to the
    level name shown with it ("layer2 · mid"), so per-layer axes read as the low / mid /
    high levels the inspector uses too. ``short`` gives the level alone ("mid"), for
    narrow vertical axes.
    """
    ticks: list[tuple[float, str]] = []
    start, current = 0, None
    for i, name in enumerate([*names, None]):
        stage = None if name is None else name.split(".")[0]
        if stage != current:
            if current is not None:
                label = current
                if levels and current in levels:
                    label = levels[current] if short else f"{current} · {levels[current]}"
                ticks.append(((start + i - 1) / 2, label))
            start, current = i, stage
    return ticks


class PlotPanel(pg.GraphicsLayoutWidget):
    """A set of plots over the runs; subclasses fill in the ``_*_run`` hooks.

    Plots that overlay every visible run use ``_draw_run``; plots of one run (bars,
    heatmaps) show the runs model's current run through ``_draw_current``.
    """

    def __init__(self, runs: RunsModel, parent=None) -> None:
        super().__init__(parent)
        self.runs = runs
        self.plots: dict[str, pg.PlotItem] = {}
        self._titles: dict[str, str] = {}
        self._legends: list[pg.LegendItem] = []
        self.heatmaps: list = []  # Heatmap objects to restyle with the theme
        self._slots: dict[Run, tuple[Callable, Callable]] = {}
        self._stale = True
        self._dirty_runs: set[Run] = set()
        self._dirty_current = False
        self.ci.setContentsMargins(4, 4, 8, 4)
        # pyqtgraph titles are at least as wide as their text; below this width the
        # scene would be clipped rather than shrunk, so the splitters stop here.
        self.setMinimumSize(300, 260)
        runs.run_added.connect(self._on_run_added)
        runs.run_removed.connect(self._on_run_removed)
        runs.current_changed.connect(self._on_current_changed)
        theme().changed.connect(self._on_theme_changed)

    def attach_existing(self) -> None:
        """Take the runs already in the model (call at the end of a subclass __init__)."""
        for run in self.runs:
            self._on_run_added(run)
        self._on_theme_changed()

    # -- building ----------------------------------------------------------------------

    def add_plot(
        self,
        name: str,
        title: str,
        *,
        row: int,
        col: int = 0,
        left: str = "",
        bottom: str = "",
        rowspan: int = 1,
        colspan: int = 1,
    ) -> pg.PlotItem:
        """A plot in the panel's grid, registered for theming and export under ``name``."""
        plot = Plot()
        self.addItem(plot, row=row, col=col, rowspan=rowspan, colspan=colspan)
        self.plots[name] = plot
        self._titles[name] = title
        plot.setLabel("left", left)
        plot.setLabel("bottom", bottom)
        plot.getAxis("left").setWidth(54)  # aligned left axes across rows, room for "1e-3"
        for side in ("left", "bottom"):
            axis = plot.getAxis(side)
            # Ratios and norms are plain numbers: no "(x0.001)" SI rescaling of the axis.
            axis.enableAutoSIPrefix(False)
            # Grid lines at major ticks only: the minor grid costs ~5x the paint time of a
            # whole plot (benchmarks/gui_latency.py), which stalls the event loop while training.
            axis.setStyle(maxTickLevel=0)
        plot.setMenuEnabled(True)
        plot.hideButtons()
        return plot

    def add_legend(self, plot: pg.PlotItem) -> pg.LegendItem:
        legend = plot.addLegend(offset=(-8, 8), labelTextSize="8pt", verSpacing=-4)
        legend.setVisible(False)  # until a run is in it
        self._legends.append(legend)
        return legend

    # -- following the runs --------------------------------------------------------------

    def _on_run_added(self, run: Run) -> None:
        changed, styled = partial(self._on_run_changed, run), partial(self._on_run_styled, run)
        run.changed.connect(changed)
        run.style_changed.connect(styled)
        self._slots[run] = (changed, styled)
        self._add_run(run)
        self._style_run(run)
        self._on_run_changed(run)

    def _on_run_removed(self, run: Run) -> None:
        slots = self._slots.pop(run, None)
        if slots is not None:
            run.changed.disconnect(slots[0])
            run.style_changed.disconnect(slots[1])
        self._dirty_runs.discard(run)
        self._drop_run(run)

    def _on_run_changed(self, run: Run) -> None:
        if not self.isVisible():
            self._stale = True
            return
        self._dirty_runs.add(run)
        self._dirty_current |= run is self.runs.current
        redraw_queue().request(self)

    def flush(self) -> None:
        """Draw what changed since the last flush (the redraw queue calls this)."""
        runs, self._dirty_runs = self._dirty_runs, set()
        for run in runs:
            self._draw_run(run)
        if self._dirty_current:
            self._dirty_current = False
            self._draw_current(self.runs.current)

    def _on_run_styled(self, run: Run) -> None:
        self._style_run(run)
        if run is self.runs.current:
            self._draw_current(run)

    def _on_current_changed(self, run: Run | None) -> None:
        if not self.isVisible():
            self._stale = True
            return
        self._dirty_current = True
        redraw_queue().request(self)

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.redraw()

    def redraw(self) -> None:
        """Draw everything from the runs' histories (after a hidden spell or a theme change)."""
        self._stale = False
        self._dirty_runs.clear()
        self._dirty_current = False
        for run in self.runs:
            self._draw_run(run)
        self._draw_current(self.runs.current)

    # -- hooks ---------------------------------------------------------------------------

    def _add_run(self, run: Run) -> None:
        """Create the run's plot items (once)."""

    def _drop_run(self, run: Run) -> None:
        """Remove the run's plot items."""

    def _draw_run(self, run: Run) -> None:
        """Give the run's items their data."""

    def _style_run(self, run: Run) -> None:
        """Apply the run's colour and visibility to its items."""

    def _draw_current(self, run: Run | None) -> None:
        """Show ``run`` in the single-run plots (None: clear them)."""

    # -- theme -------------------------------------------------------------------------

    def _on_theme_changed(self) -> None:
        c = theme().colours
        self.setBackground(c.plot_background)
        fg = pg.mkColor(c.plot_foreground)
        for name, plot in self.plots.items():
            plot.setTitle(self._titles[name], color=c.plot_foreground, size="10pt")
            for side in ("left", "bottom", "right", "top"):
                axis = plot.getAxis(side)
                axis.setPen(fg)
                axis.setTextPen(fg)
            plot.showGrid(x=True, y=True, alpha=c.grid_alpha)
        for legend in self._legends:
            legend.setLabelTextColor(fg)
            bg = pg.mkColor(c.plot_background)
            bg.setAlpha(200)
            legend.setBrush(bg)
            legend.setPen(pg.mkPen(c.muted))
        for heatmap in self.heatmaps:
            heatmap.restyle()
        for run in self.runs:
            self._style_run(run)
        self.redraw()

    @staticmethod
    def sync_legend(legend: pg.LegendItem, item: pg.GraphicsObject, name: str, shown: bool) -> None:
        """Add ``item`` to ``legend`` or take it out, so hidden runs leave the legend."""
        present = any(sample.item is item for sample, _ in legend.items)
        if shown and not present:
            legend.addItem(item, name)
        elif not shown and present:
            legend.removeItem(item)
        legend.setVisible(bool(legend.items))  # an empty legend is a stray little frame

    def set_title(self, name: str, title: str) -> None:
        """Change a plot's title (kept across theme changes)."""
        self._titles[name] = title
        self.plots[name].setTitle(title, color=theme().colours.plot_foreground, size="10pt")
