"""The status bar: engine loading, then the active run's progress line.

Progress (issue 4): iteration, loss, images/s, ETA and device, e.g.
``resnet20 · iteration 120 / 400 · loss 0.512 · 940 img/s · ETA 0:32 · cpu (1 thread)``.
"""

from __future__ import annotations

from PySide6 import QtWidgets

from ..core.durations import format_duration
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
    speed = h.last_scalar("images_per_s")
    if speed:
        parts.append(f"{speed:,.0f} img/s")
        batch = run.config.get("batch_size")
        if total and batch:
            parts.append(f"ETA {format_duration((total - h.last_step) * batch / speed, clock=True)}")
    if run.status == "paused":
        parts.append("paused")
    together = [r for r in run.peers if r.live]
    if len(together) > 1 and run.live:
        parts.append(f"{len(together)} nets in lockstep")
    if run.device:
        parts.append(run.device)
    return " · ".join(parts)


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
