"""Training error (thin) and test error (bold) against iterations, and the loss.

The shape of the paper's Fig. 1 and Fig. 6: one colour per run, so a deeper plain net
sitting above a shallower one is the degradation problem in plain sight. Events that
change training (shortcut switches, learning-rate drops, pauses, warm-up end) are marked
with dashed vertical lines in the run's colour.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyqtgraph as pg
from PySide6 import QtCore

from ...core.records import Event
from ..runs import Run, RunsModel
from ..theme import theme
from .base import PlotPanel, pen_for

__all__ = ["CurvesPanel", "event_label"]

_DASH = QtCore.Qt.PenStyle.DashLine


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
    #: (line, plot it is in, whether it carries the label)
    markers: list[tuple[pg.InfiniteLine, pg.PlotItem, bool]] = field(default_factory=list)
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
        )
        self.loss = self.add_plot("loss", "Training loss", row=1, left="loss", bottom="iteration")
        self.ci.layout.setRowStretchFactor(0, 3)
        self.ci.layout.setRowStretchFactor(1, 2)
        self.loss.setXLink(self.error)
        self.legend = self.add_legend(self.error)
        # Neutral samples that explain line weights; runs add themselves below them.
        self._key_train = pg.PlotDataItem(name="training")
        self._key_test = pg.PlotDataItem(name="test")
        for key in (self._key_train, self._key_test):
            self.legend.addItem(key, key.name())
        self._items: dict[Run, _Items] = {}
        #: (step, text) of the marker labels shown: runs on one schedule drop their learning
        #: rate at the same steps, and one label there reads better than four stacked.
        self._labelled: set[tuple[int, str]] = set()
        self._hint = pg.TextItem(anchor=(0.5, 0.5))
        self._hint.setParentItem(self.error.getViewBox())
        self.error.getViewBox().sigResized.connect(self._place_hint)
        runs.run_added.connect(self._update_hint)
        runs.run_removed.connect(self._update_hint)
        self.attach_existing()
        self._update_hint()

    def _update_hint(self, *_args) -> None:
        """With no runs yet, say what to do rather than show an empty frame."""
        c = theme().colours
        self._hint.setHtml(
            f"<p align='center' style='color:{c.muted}'>No runs yet.<br>"
            "<b>Start</b> (Ctrl+R) trains the settings on the left;<br>"
            "<b>File › Open run folder</b> (Ctrl+O) follows a run<br>or an experiment on disk.</p>"
        )
        self._hint.setTextWidth(340)  # a fixed width, so the anchor can centre it
        self._hint.setVisible(len(self.runs) == 0)
        self.legend.setVisible(len(self.runs) > 0)  # the key of no lines would cover the hint
        self._place_hint()

    def _place_hint(self, *_args) -> None:
        rect = self.error.getViewBox().boundingRect()
        self._hint.setPos(rect.center())

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
        for line, plot, _ in items.markers:
            plot.removeItem(line)

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
        colour = theme().run_colour(run.colour_index)
        first = (event.step, text) not in self._labelled
        self._labelled.add((event.step, text))
        label_opts = {"position": 0.92, "color": colour, "rotateAxis": (1, 0), "anchors": [(1, 1), (1, 1)]}
        on_error = pg.InfiniteLine(
            pos=event.step,
            angle=90,
            movable=False,
            pen=pen_for(run, 1.0, _DASH),
            label=text if first else None,
            labelOpts=label_opts if first else None,
        )
        on_loss = pg.InfiniteLine(pos=event.step, angle=90, movable=False, pen=pen_for(run, 1.0, _DASH))
        on_error.setToolTip(f"{run.name}: {text} at iteration {event.step}")
        for line, plot, has_label in ((on_error, self.error, first), (on_loss, self.loss, False)):
            line.setVisible(run.visible)
            plot.addItem(line, ignoreBounds=True)
            items.markers.append((line, plot, has_label))

    def _on_theme_changed(self) -> None:
        super()._on_theme_changed()
        self._update_hint()

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
        for line, _, has_label in items.markers:
            line.setVisible(run.visible)
            line.setPen(pen_for(run, 1.0, _DASH))
            if has_label:
                line.label.setColor(colour)
        self.sync_legend(self.legend, items.test, run.name, run.visible)
