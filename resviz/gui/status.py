"""The status bar: engine loading, then the active run's progress line.

Progress (issue 4): iteration, loss, images/s, ETA and device, e.g.
``resnet20 · iteration 120 / 400 · loss 0.512 · 940 img/s · ETA 0:32 · cpu (1 thread)``.
A net training in a lockstep group shows the group's images/s, its own share of the step
time and the time spent evaluating instead (its own img/s over the wall clock would count
the other nets' steps: issue #18, :mod:`resviz.core.throughput`).
"""

from __future__ import annotations

from PySide6 import QtWidgets

from ..core.durations import format_duration
from ..core.throughput import NetTime, group_throughput
from .runs import Run

__all__ = ["StatusBar", "progress_text"]


def progress_text(run: Run) -> str:
    """One line about a training run's progress."""
    h = run.history
    parts = [run.name]
    total = run.total_iters
    parts.append(f"iteration {h.last_step:,}" + (f" / {total:,}" if total else ""))
    loss = h.last_scalar("loss")
    if loss is not None:
        parts.append(f"loss {loss:.3f}")
    err = h.last_scalar("train_error")
    if err is not None:
        parts.append(f"train error {err:.1f} %")
    together = [r for r in run.peers if r.live]
    timing = _lockstep(run) if len(together) > 1 and run.live else None
    speed = h.last_scalar("images_per_s")
    if timing is not None:
        parts.append(timing.text(run.name))
        batch = run.config.get("batch_size")
        left = sum(max((r.total_iters or 0) - r.history.last_step, 0) for r in together)
        if batch and timing.images_per_s > 0:
            parts.append(f"ETA {format_duration(left * batch / timing.images_per_s, clock=True)}")
    elif speed:
        parts.append(f"{speed:,.0f} img/s")
        batch = run.config.get("batch_size")
        if total and batch:
            parts.append(f"ETA {format_duration((total - h.last_step) * batch / speed, clock=True)}")
    if run.status == "paused":
        parts.append("paused")
    if len(together) > 1 and run.live:
        parts.append(f"{len(together)} nets in lockstep")
    if run.device:
        parts.append(run.device)
    return " · ".join(parts)


def _lockstep(run: Run):
    """The group's throughput from its nets' recorded step and evaluation times (None before
    every net has recorded one)."""
    times = []
    for peer in run.peers:
        steps, seconds = peer.history.scalar("step_seconds")
        if not len(seconds):
            return None
        before = int(steps[-2]) if len(steps) > 1 else 0
        batch = peer.config.get("batch_size") or 128
        times.append(
            NetTime(
                peer.name,
                (int(steps[-1]) - before) * int(batch),
                float(seconds[-1]),
                float(seconds.sum()),
                float(peer.history.scalar("eval_seconds")[1].sum()),
            )
        )
    return group_throughput(times)


class StatusBar(QtWidgets.QStatusBar):
    """Messages on the left; progress and the engine's state on the right."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.progress_label = QtWidgets.QLabel()
        self.progress_label.setToolTip("The training run: iteration, loss, error, speed, time left, device")
        self.progress_bar = QtWidgets.QProgressBar()
        self.progress_bar.setMaximumWidth(120)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setToolTip("Iterations done of the run's total")
        self.progress_bar.hide()
        self.engine_label = QtWidgets.QLabel()
        self.engine_label.setToolTip("torch, torchvision and Captum load in the background after the window opens")
        self.addPermanentWidget(self.progress_label)
        self.addPermanentWidget(self.progress_bar)
        self.addPermanentWidget(self.engine_label)

    def set_engine(self, text: str) -> None:
        self.engine_label.setText(text)

    def show_progress(self, run: Run | None) -> None:
        """The active run's line (None: nothing training)."""
        if run is None:
            self.progress_label.setText("")
            self.progress_bar.hide()
            return
        self.progress_label.setText(progress_text(run))
        total = run.total_iters
        if total:
            self.progress_bar.setMaximum(total)
            self.progress_bar.setValue(min(run.history.last_step, total))
            self.progress_bar.show()
