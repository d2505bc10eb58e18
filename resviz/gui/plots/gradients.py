"""Gradient norm of every weighted layer, in depth order (log scale), and its history.

Section 4.1 of the paper argues the plain nets' degradation is not vanishing gradients
(BN keeps them healthy) but an optimisation difficulty; this panel lets a user check
that claim on their own runs: the per-layer norms of every visible run overlaid, and a
layer x iteration heatmap (log10) of the current run.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from ..runs import Run, RunsModel
from .base import PlotPanel, stage_ticks, style_profile
from .heatmap import Heatmap
from .residuals import stage_levels

__all__ = ["GradientsPanel"]

METRIC = "grad_norm"


class GradientsPanel(PlotPanel):
    """Per-layer gradient norms of every visible run; heatmap of the current run."""

    def __init__(self, runs: RunsModel, parent=None) -> None:
        super().__init__(runs, parent)
        self.layers = self.add_plot(
            "grad_norm",
            "Gradient norm per layer (log)",
            row=0,
            left="‖∂L/∂W‖",
            bottom="layer index (input → output)",
            hint="Each shown run's gradient norm per layer (input → output) appears here after its first "
            "measurement: a plain net's early layers sink below a residual net's.",
        )
        self.layers.setLogMode(x=False, y=True)
        self.heat_plot = self.add_plot(
            "grad_norm_history",
            "… over iterations (log10)",
            row=1,
            left="layer",
            bottom="iteration",
            quantity="Gradient norm per layer over iterations (log10)",
            current_run=True,
            hint="The selected run's gradient norm of every layer over iterations appears here.",
        )
        self.heatmap = Heatmap(self.heat_plot, label="log10 ‖∂L/∂W‖", log=True)
        self.heatmaps.append(self.heatmap)
        self.legend = self.add_legend(self.layers)
        self._items: dict[Run, pg.PlotDataItem] = {}
        self._shown: tuple[Run, int] | None = None
        self.attach_existing()

    def _add_run(self, run: Run) -> None:
        item = pg.PlotDataItem(name=run.name)
        self.layers.addItem(item)
        self._items[run] = item

    def _drop_run(self, run: Run) -> None:
        item = self._items.pop(run, None)
        if item is not None:
            self.legend.removeItem(item)
            self.layers.removeItem(item)

    def _draw_run(self, run: Run) -> None:
        item = self._items.get(run)
        latest = run.history.latest_vector(METRIC)
        if item is None or latest is None:
            return
        # Zeros (a layer without gradient yet) have no logarithm: leave them out.
        keep = np.isfinite(latest) & (latest > 0)
        item.setData(np.arange(len(latest))[keep], latest[keep])

    def _style_run(self, run: Run) -> None:
        item = self._items.get(run)
        if item is None:
            return
        style_profile(item, run)
        self.sync_legend(self.legend, item, run.name, run.visible)

    def _draw_current(self, run: Run | None) -> None:
        if run is None:
            self.heatmap.clear()
            self.set_title("grad_norm_history", "… over iterations (log10)")
            self._shown = None
            return
        names = run.names(METRIC)
        if (run, len(names)) != self._shown:
            self._shown = (run, len(names))
            self.set_title("grad_norm_history", f"… over iterations (log10) — {run.name}")
            ticks = stage_ticks(names, stage_levels(run), short=True)
            self.heat_plot.getAxis("left").setTicks([[(t + 0.5, label) for t, label in ticks], []])
        self.heatmap.show(*run.history.vector(METRIC))
