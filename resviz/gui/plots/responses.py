"""Std of each 3x3 layer's response (after BN, before the addition and ReLU): paper Fig. 7.

The paper finds ResNets' responses generally smaller than their plain counterparts',
and smaller in deeper ResNets ("the residual functions might be generally closer to
zero than the non-residual functions"). Every visible run is overlaid, in layer order
(top) and sorted by magnitude (bottom), as in the figure.

What is drawn is the paper's measurement: the fixed test batch with BN in eval mode, at
the run's latest evaluation (``test_response_std``). A run without it (trained before the
metric existed, or live before its first evaluation) shows its training-batch value and
says so in the legend: after BN in training mode that sits near |gamma| (issue #12).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg

from ...core.runs.history import FIG7_FALLBACK, FIG7_METRIC, fig7_responses
from ..runs import Run, RunsModel
from .base import PlotPanel, style_profile

__all__ = ["ResponsePanel", "TITLES"]

#: The top plot's title by what its runs show: all the paper's measurement, some the fallback.
#: (Short: the panel's title is elided beyond its width; the tooltip says the rest.)
TITLES = {
    FIG7_METRIC: "3×3 response std (Fig. 7) · test images, BN eval",
    FIG7_FALLBACK: "3×3 response std (Fig. 7) · training batch",
    "mixed": "3×3 response std (Fig. 7) · test; some training batch",
}
_FALLBACK_NOTE = " · training batch"
_TIP = (
    "Paper Fig. 7: the std of every 3×3 layer's output after BN, before the addition and ReLU.\n"
    "Drawn: each run's latest measurement on a fixed batch of 500 test images with BN in eval\n"
    "mode (taken at every evaluation). Runs marked '· training batch' have none yet (older runs,\n"
    "or before the first evaluation) and show the probed training batch, BN in training mode,\n"
    "which sits near |gamma| and says little about the trained net."
)


@dataclass
class _Items:
    ordered: pg.PlotDataItem
    sorted: pg.PlotDataItem


class ResponsePanel(PlotPanel):
    """Response std per 3x3 layer of every visible run, in layer order and sorted."""

    def __init__(self, runs: RunsModel, parent=None) -> None:
        super().__init__(runs, parent)
        self.ordered = self.add_plot(
            "response_std",
            TITLES[FIG7_METRIC],
            row=0,
            left="std",
            bottom="layer index (input → output)",
            hint="Each shown run's response std per 3×3 layer (the paper's Fig. 7) appears here "
            "after its first evaluation.",
        )
        self.sorted = self.add_plot(
            "response_std_sorted",
            "… sorted by magnitude",
            row=1,
            left="std",
            bottom="layer index (sorted)",
            quantity="Layer response std, sorted by magnitude",
            hint="The same responses, sorted by magnitude, appear here.",
        )
        self.sorted.setXLink(self.ordered)
        self.legend = self.add_legend(self.ordered)
        self._items: dict[Run, _Items] = {}
        #: Which metric each run's curves show (FIG7_METRIC or FIG7_FALLBACK).
        self.drawn: dict[Run, str] = {}
        self.setToolTip(_TIP)
        self.attach_existing()

    def _add_run(self, run: Run) -> None:
        items = _Items(pg.PlotDataItem(name=run.name), pg.PlotDataItem())
        self.ordered.addItem(items.ordered)
        self.sorted.addItem(items.sorted)
        self._items[run] = items

    def _drop_run(self, run: Run) -> None:
        items = self._items.pop(run, None)
        self.drawn.pop(run, None)
        if items is not None:
            self.legend.removeItem(items.ordered)
            self.ordered.removeItem(items.ordered)
            self.sorted.removeItem(items.sorted)

    def _draw_run(self, run: Run) -> None:
        items = self._items.get(run)
        latest, metric = fig7_responses(run.history)
        if items is None or latest is None:
            return
        keep = np.isfinite(latest)
        index = np.arange(1, len(latest) + 1)  # the paper counts layers from 1
        items.ordered.setData(index[keep], latest[keep])
        items.sorted.setData(np.arange(1, int(keep.sum()) + 1), np.sort(latest[keep])[::-1])
        if self.drawn.get(run) != metric:
            self.drawn[run] = metric
            self._style_run(run)  # the legend says which measurement the run shows
            self._retitle()

    def _retitle(self) -> None:
        shown = {m for r, m in self.drawn.items() if r.visible}
        key = shown.pop() if len(shown) == 1 else ("mixed" if shown else FIG7_METRIC)
        if self._titles["response_std"] != TITLES[key]:
            self.set_title("response_std", TITLES[key])

    def _style_run(self, run: Run) -> None:
        items = self._items.get(run)
        if items is None:
            return
        # Plain nets dashed, residual nets solid: the figure's two families at a glance.
        for item in (items.ordered, items.sorted):
            style_profile(item, run)
        note = _FALLBACK_NOTE if self.drawn.get(run) == FIG7_FALLBACK else ""
        present = next((label for sample, label in self.legend.items if sample.item is items.ordered), None)
        if present is not None and present.text != run.name + note:
            self.legend.removeItem(items.ordered)  # renamed: a legend label is set when added
        self.sync_legend(self.legend, items.ordered, run.name + note, run.visible)
        self._retitle()
