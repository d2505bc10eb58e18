"""The status bar: engine loading, then the active run's progress line.

Progress (issue 4): iteration, loss, images/s, ETA and device, e.g.
``resnet20 · iteration 120 / 400 · loss 0.512 · 940 img/s · ETA 0:32 · cpu (1 thread)``.
A net training in a lockstep group shows the group's images/s, its own share of the step
time and the time spent evaluating instead (its own img/s over the wall clock would count
the other nets' steps: issue #18, :mod:`resviz.core.throughput`).
"""

from __future__ import annotations

import time

from PySide6 import QtCore, QtGui, QtWidgets

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


_PROGRESS_TIP = "The training run: iteration, loss, error, speed, time left, device"


class StatusBar(QtWidgets.QStatusBar):
    """Messages on the left; progress (while training) or the engine's state on the right.

    The two sides never overlap (issue #19): the progress line takes at most
    :attr:`PROGRESS_SHARE` of the bar, and a message is elided to the room left of it, its
    whole text in the bar's tooltip. Nothing stale stays: the progress line goes when
    training ends, and "Ready" shows only while nothing trains.
    """

    #: The most of the bar's width the progress line may take.
    PROGRESS_SHARE = 0.6

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.progress_label = QtWidgets.QLabel()
        self.progress_label.setToolTip(_PROGRESS_TIP)
        self.progress_label.hide()
        self.progress_bar = QtWidgets.QProgressBar()
        self.progress_bar.setMaximumWidth(120)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setToolTip("Iterations done of the run's total")
        self.progress_bar.hide()
        self.engine_label = QtWidgets.QLabel()
        self.engine_label.setToolTip("torch, torchvision and Captum load in the background after the window opens")
        self._message = ""  # the whole of the message shown (elided in the bar)
        self._progress = ""  # the whole progress line
        self._until: float | None = None  # when the message goes (monotonic seconds)
        self.addPermanentWidget(self.progress_label)
        self.addPermanentWidget(self.progress_bar)
        self.addPermanentWidget(self.engine_label)
        self.messageChanged.connect(self._on_message_changed)

    def set_engine(self, text: str) -> None:
        self.engine_label.setText(text)

    def show_progress(self, run: Run | None) -> None:
        """The active run's line (None: nothing training)."""
        self.engine_label.setVisible(run is None)  # not "Ready" while it trains
        if run is None:
            self._progress = ""
            self.progress_label.clear()
            self.progress_label.hide()
            self.progress_bar.hide()
        else:
            self._progress = progress_text(run)
            self.progress_label.show()
            total = run.total_iters
            if total:
                self.progress_bar.setMaximum(total)
                self.progress_bar.setValue(min(run.history.last_step, total))
                self.progress_bar.show()
        self._fit()

    def showMessage(self, text: str, timeout: int = 0) -> None:  # noqa: N802 (Qt's name)
        """Show ``text`` on the left, elided to the room the right-hand side leaves."""
        self._message = text
        self._until = time.monotonic() + timeout / 1000 if timeout > 0 else None
        elided = self._elide(text, self._message_room())
        self.setToolTip(text if elided != text else "")
        super().showMessage(elided, timeout)

    def currentMessage(self) -> str:  # noqa: N802 (Qt's name)
        """The whole message shown (the bar may show it elided: :meth:`shown_message`)."""
        return self._message if self._ours() else self.shown_message()

    def _ours(self) -> bool:
        """The bar shows (an elision of) the message given to :meth:`showMessage`, not, say,
        a menu item's status tip that Qt showed meanwhile."""
        shown = self.shown_message()
        return bool(shown) and (
            shown == self._message or (shown.endswith("…") and self._message.startswith(shown[:-1]))
        )

    def progress_line(self) -> str:
        """The whole progress line (the bar may show it elided to its share)."""
        return self._progress

    def shown_message(self) -> str:
        """The message as the bar paints it (elided to its room)."""
        return super().currentMessage()

    def _on_message_changed(self, text: str) -> None:
        if not text:
            self._message = ""
            self.setToolTip("")

    def _message_room(self) -> int:
        """Pixels left of the permanent widgets: as their size hints say (the layout may not
        have caught up with a new text yet) and as laid out, whichever is less."""
        used, left = 0, self.width()
        for w in (self.progress_label, self.progress_bar, self.engine_label):
            if not w.isHidden():
                used += min(w.sizeHint().width(), w.maximumWidth()) + 8
                if w.isVisible() and w.width() > 1:
                    left = min(left, w.x())
        grip = 24 if self.isSizeGripEnabled() else 0
        return max(0, min(self.width() - used - grip - 40, left - 12))

    def _elide(self, text: str, width: int) -> str:
        return self.fontMetrics().elidedText(text, QtCore.Qt.TextElideMode.ElideRight, width)

    def _fit(self) -> None:
        """Elide the progress line to its share and the message to what is left."""
        share = int(self.width() * self.PROGRESS_SHARE)
        self.progress_label.setMaximumWidth(max(share, 1))
        line = self._elide(self._progress, share - 4) if self._progress else ""
        if line != self.progress_label.text():
            self.progress_label.setText(line)
        # Cut to its share, the line's tooltip carries all of it (issue #19 item 14).
        tip = self._progress if line != self._progress else _PROGRESS_TIP
        if tip != self.progress_label.toolTip():
            self.progress_label.setToolTip(tip)
        if self._message and self._ours():
            elided = self._elide(self._message, self._message_room())
            if elided != self.shown_message():  # shown again for the time it had left
                left = 0 if self._until is None else max(1, int(1000 * (self._until - time.monotonic())))
                super().showMessage(elided, left)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit()
