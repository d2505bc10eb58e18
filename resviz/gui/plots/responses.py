"""Std of each 3x3 layer's response (after BN, before the addition and ReLU): paper Fig. 7.

The paper finds ResNets' responses generally smaller than their plain counterparts',
and smaller in deeper ResNets ("the residual functions might be generally closer to
zero than the non-residual functions"). Every visible run is overlaid, in layer order
(top) and sorted by magnitude (bottom), as in the figure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg

from ..runs import Run, RunsModel
from .base import PlotPanel, style_profile

__all__ = ["ResponsePanel"]

METRIC = "response_std"


@dataclass
class _Items:
    ordered: pg.PlotDataItem
    sorted: pg.PlotDataItem


class ResponsePanel(PlotPanel):
    """Response std per 3x3 layer of every visible run, in layer order and sorted."""

    def __init__(self, runs: RunsModel, parent=None) -> None:
        super().__init__(runs, parent)
        self.ordered = self.add_plot(
            "response_std", "Std of 3×3 layer responses (Fig. 7)", row=0, left="std",
            bottom="layer index (input → output)",
        )
        self.sorted = self.add_plot(
            "response_std_sorted", "… sorted by magnitude", row=1, left="std", bottom="layer index (sorted)",
        )
        self.sorted.setXLink(self.ordered)
        self.legend = self.add_legend(self.ordered)
        self._items: dict[Run, _Items] = {}
        self.attach_existing()

    def _add_run(self, run: Run) -> None:
        items = _Items(pg.PlotDataItem(name=run.name), pg.PlotDataItem())
        self.ordered.addItem(items.ordered)
        self.sorted.addItem(items.sorted)
        self._items[run] = items

    def _drop_run(self, run: Run) -> None:
        items = self._items.pop(run, None)
        if items is not None:
            self.legend.removeItem(items.ordered)
            self.ordered.removeItem(items.ordered)
            self.sorted.removeItem(items.sorted)

    def _draw_run(self, run: Run) -> None:
        items = self._items.get(run)
        latest = run.history.latest_vector(METRIC)
        if items is None or latest is None:
            return
        keep = np.isfinite(latest)
        index = np.arange(1, len(latest) + 1)  # the paper counts layers from 1
        items.ordered.setData(index[keep], latest[keep])
        items.sorted.setData(np.arange(1, int(keep.sum()) + 1), np.sort(latest[keep])[::-1])

    def _style_run(self, run: Run) -> None:
        items = self._items.get(run)
        if items is None:
            return
        # Plain nets dashed, residual nets solid: the figure's two families at a glance.
        for item in (items.ordered, items.sorted):
            style_profile(item, run)
        self.sync_legend(self.legend, items.ordered, run.name, run.visible)
