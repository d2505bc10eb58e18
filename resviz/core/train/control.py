"""Steering a training loop from another thread, and a queue to watch it from the GUI.

The trainer checks its :class:`TrainControl` between steps, so stop takes effect within one
step and a pause never interrupts a half-done update. The GUI never receives a signal per
step: a timer on its side drains a :class:`QueueSink` at 20-30 Hz (DESIGN.md, hot path).
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Sequence

from ..records import Event, Record, StatusChange

__all__ = ["TrainControl", "GroupControl", "QueueSink"]


class TrainControl:
    """Thread-safe requests to a running trainer: pause, resume, stop, switch shortcuts."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._lock = threading.Lock()
        self._shortcuts: bool | list[bool] | None = None

    def pause(self) -> None:
        """Hold the loop before its next step."""
        self._running.clear()

    def resume(self) -> None:
        """Let a paused loop go on."""
        self._running.set()

    def stop(self) -> None:
        """End the loop after the current step (a paused loop wakes up to end)."""
        self._stop.set()
        self._running.set()

    def set_shortcuts(self, on: bool | Sequence[bool]) -> None:
        """Switch shortcuts (all, or one bool per block) before the next step."""
        with self._lock:
            self._shortcuts = on if isinstance(on, bool) else [bool(v) for v in on]

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def pause_requested(self) -> bool:
        return not self._running.is_set()

    def take_shortcuts(self) -> bool | list[bool] | None:
        """The pending shortcut request, if any, cleared (called by the trainer)."""
        with self._lock:
            pending, self._shortcuts = self._shortcuts, None
        return pending

    def wait_while_paused(self, timeout: float = 0.1) -> bool:
        """Block up to ``timeout`` seconds while paused; True once running (or stopping)."""
        return self._running.wait(timeout)


class GroupControl:
    """The same requests as :class:`TrainControl`, sent to every net of a lockstep group.

    It holds no state of its own: each call goes to every net's control, so "stop the
    group" and "stop plain20" are the same mechanism, and a net paused on its own is
    resumed by resuming the group (issue #11, "act on the selected run or the whole group").
    """

    def __init__(self, controls: Sequence[TrainControl]) -> None:
        self.controls = list(controls)

    def pause(self) -> None:
        for c in self.controls:
            c.pause()

    def resume(self) -> None:
        for c in self.controls:
            c.resume()

    def stop(self) -> None:
        for c in self.controls:
            c.stop()

    def set_shortcuts(self, on: bool | Sequence[bool]) -> None:
        """Switch every net's shortcuts (a per-block list fits only nets of one depth)."""
        for c in self.controls:
            c.set_shortcuts(on)

    @property
    def stop_requested(self) -> bool:
        return all(c.stop_requested for c in self.controls)

    @property
    def pause_requested(self) -> bool:
        return all(c.pause_requested for c in self.controls)


class QueueSink:
    """Collects records, events and status changes for a consumer in another thread.

    ``drain()`` never blocks and returns everything since the last call, in order.
    ``collections.deque`` appends and pops are atomic, so no lock is needed.
    """

    def __init__(self, maxlen: int | None = None) -> None:
        self._items: collections.deque[Record | Event | StatusChange] = collections.deque(maxlen=maxlen)

    def record(self, record: Record) -> None:
        self._items.append(record)

    def event(self, event: Event) -> None:
        self._items.append(event)

    def status(self, change: StatusChange) -> None:
        self._items.append(change)

    def drain(self) -> list[Record | Event | StatusChange]:
        out = []
        while True:
            try:
                out.append(self._items.popleft())
            except IndexError:
                return out
