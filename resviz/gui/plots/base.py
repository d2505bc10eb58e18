"""What every plot panel shares: following the runs model and the theme, and export.

A panel is a ``pg.GraphicsLayoutWidget`` holding named ``PlotItem`` s. Items are made
once per run and updated with ``setData`` / ``setImage`` (DESIGN.md); a panel that is
not on screen (another tab) only marks itself stale and redraws when shown.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pyqtgraph as pg
import shiboken6
from PySide6 import QtCore, QtGui, QtWidgets

from ..runs import Run, RunsModel
from ..theme import theme
from .items import Plot
from .redraw import redraw_queue

__all__ = ["PlotPanel", "style_profile", "stage_ticks", "pen_for", "text_size"]


def text_size() -> str:
    """The axes' text size ("9pt"): legends use it too, so their labels are never the smaller
    text of a figure (issue 19: 8 pt legends beside 9 pt axes were hard to read in exports)."""
    app = QtWidgets.QApplication.instance()
    points = app.font().pointSizeF() if app is not None else 9.0
    return f"{points if points > 0 else 9.0:g}pt"


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


def fit_legend(legend: pg.LegendItem, width: float | None = None) -> None:
    """As many columns as fit ``width`` (default: the legend's parent's), and the row's
    height set to the entries': pyqtgraph sizes a legend with setGeometry, which a layout
    row does not heed, so a legend wider than a narrow panel pushed the plots out of view and
    a short panel cut its labels off (issue 19)."""
    if width is None:
        view = legend.scene().views()[0] if legend.scene() is not None and legend.scene().views() else None
        width = view.width() if view is not None else 600
    # an entry: the sample (20 px), the text, and the layout's spacing on both sides
    entry = max(
        (label.item.boundingRect().width() + 20 + 2 * legend.layout.horizontalSpacing() for _, label in legend.items),
        default=120,
    )
    cols = int(max(1, min(4, (width - 16) // max(entry, 1))))
    if legend.columnCount != cols:
        legend.setColumnCount(cols)
    height = legend.layout.effectiveSizeHint(QtCore.Qt.SizeHint.PreferredSize).height()
    legend.setMinimumHeight(height if legend.items else 0)
    legend.setMaximumWidth(max(width - 16, 100))


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
        #: name -> (what the plot shows in full words, whether it shows only the current run),
        #: for exported figures' titles ("Gradient norm per layer (log) — plain20, resnet20").
        self._quantities: dict[str, tuple[str | None, bool]] = {}
        #: name -> the hint an empty plot shows in place of axes numbered 0 to 1.
        self._hints: dict[str, pg.TextItem] = {}
        self._hint_texts: dict[str, str] = {}
        self._rows = 0
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
        quantity: str | None = None,
        current_run: bool = False,
        hint: str | None = None,
    ) -> pg.PlotItem:
        """A plot in the panel's grid, registered for theming and export under ``name``.

        ``quantity`` names what it shows in full (the title may lean on the plot above:
        "… over iterations"); ``current_run`` marks a plot of the selected run only (bars,
        heatmaps), so an export names that run rather than every visible one; ``hint`` is
        what an empty plot says will appear.
        """
        plot = Plot()
        self.addItem(plot, row=row, col=col, rowspan=rowspan, colspan=colspan)
        self._rows = max(self._rows, row + rowspan)
        self.plots[name] = plot
        self._titles[name] = title
        self._quantities[name] = (quantity, current_run)  # None: the title as it is then
        plot.export_title = partial(self.figure_title, name)
        if hint:
            self._hint_texts[name] = hint
            item = pg.TextItem(anchor=(0.5, 0.5))
            item.setParentItem(plot.getViewBox())
            plot.getViewBox().sigResized.connect(partial(self._place_plot_hint, name))
            self._hints[name] = item
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
        """The panel's legend, in a row of its own under the plots (issue 19): inside a plot
        it covered the curves that matter most (the high-error deep nets, the last layers).
        Its labels are as large as the axes' text."""
        del plot  # one legend row serves every plot of the panel
        legend = pg.LegendItem(colCount=4, labelTextSize=text_size(), horSpacing=10, verSpacing=-6)
        legend.layout.setContentsMargins(4, 0, 4, 0)
        # pyqtgraph's legends ignore transformations (they float over a zoomable view); in
        # a row of the layout that only stops an export from scaling the key with the plot.
        legend.setFlag(legend.GraphicsItemFlag.ItemIgnoresTransformations, False)
        row = self._rows
        self._rows += 1
        self.addItem(legend, row=row, col=0)
        self.ci.layout.setRowStretchFactor(row, 0)
        legend.setVisible(False)  # until a run is in it
        self._legends.append(legend)
        for name, each in self.plots.items():
            if not self._quantities[name][1]:  # a plot of the selected run alone needs no key of runs
                each.export_legend = legend  # an exported figure carries the key under it
        return legend

    # -- hints for empty plots ---------------------------------------------------------

    def _place_plot_hint(self, name: str, *_args) -> None:
        """Centre the hint, wrapped to the plot's width (again at every resize)."""
        item = self._hints[name]
        rect = self.plots[name].getViewBox().boundingRect()
        item.setTextWidth(max(rect.width() - 16, 80))
        item.setPos(rect.center())

    def _update_hints(self) -> None:
        """Empty plots say what will appear in them instead of showing placeholder axes."""
        muted = theme().colours.muted
        for name, item in self._hints.items():
            plot = self.plots[name]
            empty = self.plot_is_empty(plot)
            if empty:
                item.setHtml(f"<div align='center' style='color:{muted}'>{self._hint_texts[name]}</div>")
                self._place_plot_hint(name)
            item.setVisible(empty)
            for side in ("left", "bottom"):
                plot.getAxis(side).setStyle(showValues=not empty)
            plot.showGrid(x=not empty, y=not empty, alpha=theme().colours.grid_alpha)
        for heatmap in self.heatmaps:
            # No numbers on the colour scale of nothing. (Hiding the ColorBarItem itself
            # crashes the interpreter at exit after a theme change: keep it, unnumbered.)
            heatmap.bar.axis.setStyle(showValues=not self.plot_is_empty(heatmap.plot))

    @staticmethod
    def plot_is_empty(plot: pg.PlotItem) -> bool:
        """No curve, bar or image with data is shown in ``plot``."""
        for item in plot.getViewBox().addedItems:
            if not shiboken6.isValid(item) or not item.isVisible():  # a closing panel's items go first
                continue
            if isinstance(item, pg.PlotDataItem):
                x = item.getData()[0]
                if x is not None and len(x):
                    return False
            elif isinstance(item, pg.ImageItem):
                if item.image is not None and item.image.size:
                    return False
            elif isinstance(item, pg.BarGraphItem):
                height = item.opts.get("height")
                if height is not None and len(height):
                    return False
        return True

    def figure_title(self, name: str) -> str:
        """An exported figure's title: the quantity in full words and the runs it shows."""
        quantity, current_only = self._quantities.get(name, (None, False))
        quantity = quantity or self._titles.get(name, name)
        if current_only:
            names = [self.runs.current.name] if self.runs.current is not None else []
        else:
            names = [run.name for run in self.runs if run.visible]
        return f"{quantity} — {', '.join(names)}" if names else quantity

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
        if not self.isVisible():  # hidden (or closed) since it asked: redraw when shown
            self._stale = True
            return
        runs, self._dirty_runs = self._dirty_runs, set()
        for run in runs:
            self._draw_run(run)
        if self._dirty_current:
            self._dirty_current = False
            self._draw_current(self.runs.current)
        if self._hints:
            self._update_hints()

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

    def resizeEvent(self, event: QtGui.QResizeEvent | None) -> None:
        # pyqtgraph calls this with None while building, before the panel has legends, and
        # once more while closing, after its scene (and the legends in it) are gone
        if event is not None and not getattr(self, "closed", False):
            for legend in getattr(self, "_legends", ()):
                fit_legend(legend, event.size().width())
        super().resizeEvent(event)

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
        self._update_hints()

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
            # pyqtgraph only records the colour for labels added later: redraw those shown
            # (issue 19: after a switch to the light theme they stayed light grey on white).
            for _, label in legend.items:
                label.setText(label.text, color=fg)
            legend.setPen(None)  # a row of its own under the plots: no frame needed
            legend.setBrush(None)
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
        fit_legend(legend)

    def set_title(self, name: str, title: str) -> None:
        """Change a plot's title (kept across theme changes)."""
        self._titles[name] = title
        self.plots[name].setTitle(title, color=theme().colours.plot_foreground, size="10pt")
