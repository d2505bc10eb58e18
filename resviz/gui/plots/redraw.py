"""One panel redraw per timer tick, so a training run never stalls the event loop.

Measured by benchmarks/gui_latency.py on the project's 2-core machine: redrawing all four
panels after each record blocked the event loop for 50-100 ms; one panel per 15 ms tick
keeps the longest stall under 20 ms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import shiboken6
from PySide6 import QtCore

if TYPE_CHECKING:
    from .base import PlotPanel

__all__ = ["RedrawQueue", "redraw_queue"]


class RedrawQueue(QtCore.QObject):
    """Panels waiting to redraw, served one per short timer tick.

    New data reaches all four panels at once; drawing them in one pass blocks the event
    loop for the sum of their paints (tens of ms on a busy 2-core machine, measured by
    benchmarks/gui_latency.py). Serving one panel per tick keeps every pass to one
    panel's work, while each panel still redraws many times a second.
    """

    INTERVAL_MS = 15

    def __init__(self) -> None:
        super().__init__()
        self._queue: list[PlotPanel] = []
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(self.INTERVAL_MS)
        self._timer.timeout.connect(self._on_timeout)

    def request(self, panel: PlotPanel) -> None:
        if panel not in self._queue:
            self._queue.append(panel)
        if not self._timer.isActive():
            self._timer.start()

    def flush_all(self) -> None:
        """Redraw every waiting panel now (before a screenshot or an assertion)."""
        while self._queue:
            self._serve(self._queue.pop(0))
        self._timer.stop()

    def _on_timeout(self) -> None:
        if self._queue:
            self._serve(self._queue.pop(0))
        if not self._queue:
            self._timer.stop()

    @staticmethod
    def _serve(panel: PlotPanel) -> None:
        if shiboken6.isValid(panel):  # a closed window's panels may be gone
            panel.flush()


_REDRAWS: RedrawQueue | None = None


def redraw_queue() -> RedrawQueue:
    """The app's one :class:`RedrawQueue`."""
    global _REDRAWS
    if _REDRAWS is None:
        _REDRAWS = RedrawQueue()
    return _REDRAWS
