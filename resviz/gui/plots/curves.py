"""Training error (thin) and test error (bold) against iterations, and the loss.

The shape of the paper's Fig. 1 and Fig. 6: one colour per run, so a deeper plain net
sitting above a shallower one is the degradation problem in plain sight. Events that
change training are marked with vertical lines, one style per kind so they are told apart
(issue 19): shortcut switches dash-dotted and thicker in the run's colour, learning-rate
drops dotted in a neutral grey (every run of a schedule drops at the same step), other
events (pause, warm-up end, resume) dashed in the run's colour. Their labels sit on a top
axis above the plot, never over the curves, and each line's tooltip names run, event and
iteration.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from ...core.records import Event
from ..runs import Run, RunsModel
from ..theme import theme
from .base import PlotPanel, pen_for

__all__ = ["CurvesPanel", "event_label", "marker_pen"]

_DASH = QtCore.Qt.PenStyle.DashLine


def marker_pen(run: Run, kind: str) -> QtGui.QPen:
    """The pen of an event marker: one style per kind of event (see the module docstring)."""
    if kind == "lr_drop":
        pen = pg.mkPen(theme().colours.muted, width=1.5, style=QtCore.Qt.PenStyle.DotLine)
        pen.setCosmetic(True)
        return pen
    if kind == "shortcuts":
        return pen_for(run, 2.0, QtCore.Qt.PenStyle.DashDotLine)
    return pen_for(run, 1.0, _DASH)


def event_label(event: Event) -> str | None:
    """The marker text for an event, or None for events not marked on the curves."""
    kind, detail = event.kind, event.detail
    if kind == "shortcuts":
        switches = [bool(s) for s in detail.get("shortcuts", [])]
        if not switches or all(switches):
            return "shortcuts on"
        if not any(switches):
            return "shortcuts off"
        return f"{switches.count(False)}/{len(switches)} shortcuts off"
    if kind == "lr_drop":
        lr = detail.get("lr")
        return f"lr {lr:g}" if isinstance(lr, (int, float)) else "lr drop"
    if kind == "pause":
        return "paused"
    if kind == "warmup_end":
        return "warm-up ends"
    if kind == "resume" and detail.get("from_checkpoint"):
        return "resumed"
    if kind == "failed":
        return "failed"
    return None


@dataclass
class _Items:
    train: pg.PlotDataItem
    test: pg.PlotDataItem
    loss: pg.PlotDataItem
    #: (line, plot it is in, event kind, step, label text)
    markers: list[tuple[pg.InfiniteLine, pg.PlotItem, str, int, str]] = field(default_factory=list)
    events_seen: int = 0


class CurvesPanel(PlotPanel):
    """Error and loss curves of every run shown."""

    def __init__(self, runs: RunsModel, parent=None) -> None:
        super().__init__(runs, parent)
        self.error = self.add_plot(
            "error",
            "Error % (thin: train, bold: test)",
            row=0,
            left="error (%)",
            bottom="iteration",
            quantity="Error % (thin: training, bold: test)",
            hint="No runs yet.",
        )
        self.loss = self.add_plot(
            "loss",
            "Training loss",
            row=1,
            left="loss",
            bottom="iteration",
            hint="The training loss of every run appears here, step by step, once training starts.",
        )
        self.ci.layout.setRowStretchFactor(0, 3)
        self.ci.layout.setRowStretchFactor(1, 2)
        self.loss.setXLink(self.error)
        self.legend = self.add_legend(self.error)
        # Neutral samples that explain line weights; runs add themselves below them.
        self._key_train = pg.PlotDataItem(name="training")
        self._key_test = pg.PlotDataItem(name="test")
        for key in (self._key_train, self._key_test):
            self.legend.addItem(key, key.name())
        # Keys for the two kinds of marker that matter most, added once one is drawn.
        self._key_markers = {
            "shortcuts": pg.PlotDataItem(name="shortcut switch"),
            "lr_drop": pg.PlotDataItem(name="lr drop"),
        }
        self._items: dict[Run, _Items] = {}
        runs.run_added.connect(self._update_hint)
        runs.run_removed.connect(self._update_hint)
        self.attach_existing()
        self._update_hint()

    def _update_hint(self, *_args) -> None:
        """With no runs yet, say what to do rather than show an empty frame; with runs whose
        first numbers have not come, say what will appear."""
        self._hint_texts["error"] = (
            "No runs yet.<br><b>Start</b> (Ctrl+R) trains the settings on the left;<br>"
            "<b>File › Open run folder</b> (Ctrl+O) follows a run<br>or an experiment on disk."
            if len(self.runs) == 0
            else "The training and test error of every shown run appear here after their first steps."
        )
        self.legend.setVisible(len(self.runs) > 0)  # the key of no lines would be a stray row
        self._update_hints()

    # -- options -----------------------------------------------------------------------

    def set_log_scale(self, on: bool) -> None:
        """Log-scale the error and loss axes (small errors near convergence)."""
        self.error.setLogMode(x=False, y=on)
        self.loss.setLogMode(x=False, y=on)

    @property
    def log_scale(self) -> bool:
        return bool(self.error.ctrl.logYCheck.isChecked())

    # -- hooks -------------------------------------------------------------------------

    def _add_run(self, run: Run) -> None:
        items = _Items(
            train=pg.PlotDataItem(),
            test=pg.PlotDataItem(name=run.name, symbol="o", symbolSize=5),
            loss=pg.PlotDataItem(),
        )
        for item in (items.train, items.loss):
            # Long runs: draw at most ~2 points per pixel column, only what is in view.
            item.setDownsampling(auto=True, method="peak")
            item.setClipToView(True)
            item.setSkipFiniteCheck(True)
        self.error.addItem(items.train)
        self.error.addItem(items.test)
        self.loss.addItem(items.loss)
        self._items[run] = items

    def _drop_run(self, run: Run) -> None:
        items = self._items.pop(run, None)
        if items is None:
            return
        self.legend.removeItem(items.test)
        for item in (items.train, items.test):
            self.error.removeItem(item)
        self.loss.removeItem(items.loss)
        for line, plot, *_ in items.markers:
            plot.removeItem(line)
        self._update_marker_labels()

    def _draw_run(self, run: Run) -> None:
        items = self._items.get(run)
        if items is None:
            return
        h = run.history
        items.train.setData(*h.scalar("train_error"))
        items.test.setData(*h.scalar("test_error"))
        items.loss.setData(*h.scalar("loss"))
        if len(h.events) > items.events_seen:
            for event in h.events[items.events_seen :]:
                self._mark(run, items, event)
            items.events_seen = len(h.events)

    def _mark(self, run: Run, items: _Items, event: Event) -> None:
        text = event_label(event)
        if text is None:
            return
        tip = f"{run.name}: {text} at iteration {event.step}"
        for plot in (self.error, self.loss):
            line = pg.InfiniteLine(pos=event.step, angle=90, movable=False, pen=marker_pen(run, event.kind))
            line.setToolTip(tip)
            line.setVisible(run.visible)
            plot.addItem(line, ignoreBounds=True)
            items.markers.append((line, plot, event.kind, event.step, text))
        self._update_marker_labels()

    def _update_marker_labels(self) -> None:
        """The shown runs' event labels as ticks of a top axis: above the plot, never over data.

        Runs on one schedule drop their learning rate at the same steps; one label there
        reads better than four stacked, so labels at a step are merged ("lr 0.01 · shortcuts on").
        """
        at: dict[int, list[str]] = {}
        kinds: set[str] = set()
        for run, items in self._items.items():
            if not run.visible:
                continue
            for _line, plot, kind, step, text in items.markers:
                if plot is self.error:
                    kinds.add(kind)
                    if text not in at.setdefault(step, []):
                        at[step].append(text)
        top = self.error.getAxis("top")
        if at:
            self.error.showAxis("top")
            # A label at an event near either end may reach past the axis (into the left
            # axis's margin): drawn, not hidden (pyqtgraph hides it by default).
            top.setStyle(showValues=True, hideOverlappingLabels=200)
            top.setTicks([[(float(step), " · ".join(texts)) for step, texts in sorted(at.items())], []])
        else:
            self.error.hideAxis("top")
        for kind, key in self._key_markers.items():
            self.sync_legend(self.legend, key, key.name(), kind in kinds)

    @property
    def marker_labels(self) -> list[tuple[float, str]]:
        """The event labels on the top axis: (iteration, text)."""
        ticks = self.error.getAxis("top")._tickLevels
        return list(ticks[0]) if ticks else []

    def _style_run(self, run: Run) -> None:
        items = self._items.get(run)
        if items is None:
            return
        c = theme().colours
        neutral = pg.mkColor(c.plot_foreground)
        self._key_train.setPen(pg.mkPen(neutral, width=1))
        self._key_test.setPen(pg.mkPen(neutral, width=3))
        colour = theme().run_colour(run.colour_index)
        items.train.setPen(pen_for(run, 1.0))
        items.test.setPen(pen_for(run, 3.0))
        items.test.setSymbolBrush(colour)
        items.test.setSymbolPen(pg.mkPen(colour))
        items.loss.setPen(pen_for(run, 1.0))
        for item in (items.train, items.test, items.loss):
            item.setVisible(run.visible)
        for line, _plot, kind, _step, _text in items.markers:
            line.setVisible(run.visible)
            line.setPen(marker_pen(run, kind))
        self._key_markers["shortcuts"].setPen(self._neutral_pen("shortcuts"))
        self._key_markers["lr_drop"].setPen(self._neutral_pen("lr_drop"))
        self.sync_legend(self.legend, items.test, run.name, run.visible)
        self._update_marker_labels()

    @staticmethod
    def _neutral_pen(kind: str) -> QtGui.QPen:
        """The legend key's pen for a kind of marker (neutral colour, the kind's dash)."""
        c = theme().colours
        if kind == "lr_drop":
            return pg.mkPen(c.muted, width=1.5, style=QtCore.Qt.PenStyle.DotLine)
        return pg.mkPen(c.plot_foreground, width=2, style=QtCore.Qt.PenStyle.DashDotLine)
