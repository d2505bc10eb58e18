"""Residual ratio |F(x)| / |x| per block: the latest values as bars, and their history.

The paper's hypothesis (section 3.1) is that residual functions stay small, near an
identity mapping; in a trained residual net every bar sits well below 1 and the deeper
blocks below the shallower ones (compare Fig. 7). The panel shows the runs model's
current run; dashed lines separate the stages (where blocks downsample).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from ..runs import Run, RunsModel
from ..theme import theme
from .base import PlotPanel, stage_ticks
from .heatmap import Heatmap

__all__ = ["ResidualsPanel", "stage_levels"]

METRIC = "residual_ratio"


def stage_levels(run: Run) -> dict[str, str]:
    """Stage name -> level name ("layer1" -> "low") from the run's layout."""
    names, levels = run.layout.get(METRIC, []), run.layout.get("block_levels", [])
    return {name.split(".")[0]: level for name, level in zip(names, levels, strict=True)}


class ResidualsPanel(PlotPanel):
    """Bars of the latest residual ratio per block, and a block x iteration heatmap."""

    def __init__(self, runs: RunsModel, parent=None) -> None:
        super().__init__(runs, parent)
        self.bars_plot = self.add_plot(
            "residual_ratio",
            "Residual ratio |F(x)|/|x| per block",
            row=0,
            left="|F(x)| / |x|",
            bottom="block, by level (input → output)",
            quantity="Residual ratio |F(x)|/|x| per block",
            current_run=True,
            hint="The selected run's residual ratio |F(x)|/|x| of every block appears here (residual nets only).",
        )
        self.heat_plot = self.add_plot(
            "residual_ratio_history",
            "… over iterations",
            row=1,
            left="block",
            bottom="iteration",
            quantity="Residual ratio |F(x)|/|x| per block over iterations",
            current_run=True,
            hint="The selected run's residual ratio of every block over iterations appears here.",
        )
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.8)
        self.bars_plot.addItem(self.bars)
        self.bars_plot.setMouseEnabled(x=False, y=True)
        self.heatmap = Heatmap(self.heat_plot, label="|F(x)| / |x|")
        self.heatmaps.append(self.heatmap)
        self._separators: list[pg.InfiniteLine] = []
        self._shown: Run | None = None
        self._shown_width = -1
        self.attach_existing()

    def _draw_current(self, run: Run | None) -> None:
        if run is None:
            self.bars.setOpts(x=[], height=[])
            self.heatmap.clear()
            self.set_title("residual_ratio", "Residual ratio |F(x)|/|x| per block")
            self._shown = None
            return
        latest = run.history.latest_vector(METRIC)
        width = 0 if latest is None else len(latest)
        if run is not self._shown or width != self._shown_width:
            self._relabel(run, width)
        if latest is None:
            self.bars.setOpts(x=[], height=[])
            self.heatmap.clear()
            return
        colour = theme().run_colour(run.colour_index)
        heights = np.nan_to_num(latest, nan=0.0)
        self.bars.setOpts(x=np.arange(width), height=heights, width=0.8, brush=colour, pen=pg.mkPen(colour))
        self.heatmap.show(*run.history.vector(METRIC))

    def _relabel(self, run: Run, width: int) -> None:
        """Titles, stage ticks and stage separators for the run now shown."""
        self._shown, self._shown_width = run, width
        # A resnet whose shortcuts were switched off mid-run says so (plainN says it by name).
        off = " (shortcuts off)" if not run.plain and not run.shortcuts_on else ""
        self.set_title("residual_ratio", f"Residual ratio |F(x)|/|x| — {run.name}{off}")
        self.set_title("residual_ratio_history", f"… over iterations — {run.name}")
        names = run.names(METRIC)[:width]
        levels = stage_levels(run)
        short = stage_ticks(names, levels, short=True)  # "low", "mid", "high": fits narrow plots
        self.bars_plot.getAxis("bottom").setTicks([short, []])
        self.heat_plot.getAxis("left").setTicks([[(t + 0.5, label) for t, label in short], []])
        for line in self._separators:
            self.bars_plot.removeItem(line)
            self.heat_plot.removeItem(line)
        self._separators = []
        downsamples = run.layout.get("block_downsamples", [])
        muted = pg.mkPen(theme().colours.muted, style=pg.QtCore.Qt.PenStyle.DashLine)
        for i, down in enumerate(downsamples[:width]):
            if down and i > 0:
                for plot, pos, angle in ((self.bars_plot, i - 0.5, 90), (self.heat_plot, float(i), 0)):
                    line = pg.InfiniteLine(pos=pos, angle=angle, pen=muted, movable=False)
                    plot.addItem(line, ignoreBounds=True)
                    self._separators.append(line)
        self.bars_plot.setXRange(-0.6, max(width, 1) - 0.4, padding=0)
