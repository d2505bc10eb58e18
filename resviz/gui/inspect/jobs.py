"""One worker thread that runs the inspector's jobs in order, cancellably.

The inspector core asks for exactly this (``resviz.core.inspect.inspector``): every call
on an :class:`~resviz.core.inspect.Inspector`, switch changes included, goes to ONE
thread, in order, and each job carries a :class:`~resviz.core.inspect.CancelToken`. The
GUI thread only submits and cancels; results come back through a queued signal, so
callbacks always run on the GUI thread, and a result whose token was cancelled meanwhile
is dropped there (a stale prediction never overwrites a fresh one).

A job may hand back partial results (``job.emit``): predictions before attributions,
one level's heatmap before the next, lesion progress.
"""

from __future__ import annotations

import logging
import queue
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6 import QtCore

from ...core.errors import ResvizError
from ...core.inspect.cancel import Cancelled, CancelToken

__all__ = ["Job", "JobWorker"]

log = logging.getLogger(__name__)

Callback = Callable[[Any], None]


@dataclass(eq=False)
class Job:
    """A unit of work: ``fn(job)`` runs on the worker thread; callbacks on the GUI thread."""

    fn: Callable[[Job], Any]
    label: str
    token: CancelToken = field(default_factory=CancelToken)
    on_done: Callback | None = None
    on_partial: Callback | None = None
    on_failed: Callback | None = None  # gets the message
    on_cancelled: Callable[[], None] | None = None
    _worker: JobWorker | None = field(default=None, repr=False)

    def emit(self, payload: Any) -> None:
        """Send a partial result to the GUI thread (from inside ``fn``)."""
        if self._worker is not None and not self.token.cancelled and not self._worker._send(self, "partial", payload):
            self.token.cancel()  # nobody is listening any more: stop at the next check

    def cancel(self) -> None:
        """Ask the job to stop at its next check; its results are dropped from now on."""
        self.token.cancel()


class JobWorker(QtCore.QObject):
    """A daemon thread with a FIFO of :class:`Job` s; ``busy_changed`` while any is pending."""

    #: True while some job is queued or running, False once all are delivered.
    busy_changed = QtCore.Signal(bool)
    # (job, "partial" | "done" | "failed" | "cancelled", payload): worker thread -> GUI thread.
    _delivered = QtCore.Signal(object, str, object)

    def __init__(
        self, name: str, *, setup: Callable[[], None] | None = None, parent: QtCore.QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.name = name
        self._setup = setup
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._outstanding: list[Job] = []
        self._delivered.connect(self._on_delivered, QtCore.Qt.ConnectionType.QueuedConnection)

    # -- GUI thread ------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return bool(self._outstanding)

    @property
    def started(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        """Start the thread (once). Jobs submitted before wait in the queue."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._main, name=f"resviz-{self.name}", daemon=True)
            self._thread.start()

    def submit(
        self,
        fn: Callable[[Job], Any],
        label: str,
        *,
        on_done: Callback | None = None,
        on_partial: Callback | None = None,
        on_failed: Callback | None = None,
        on_cancelled: Callable[[], None] | None = None,
    ) -> Job:
        """Queue ``fn``; returns the job (``job.cancel()`` drops it or stops it at a check)."""
        job = Job(fn, label, on_done=on_done, on_partial=on_partial, on_failed=on_failed, on_cancelled=on_cancelled)
        job._worker = self
        self._outstanding.append(job)
        if len(self._outstanding) == 1:
            self.busy_changed.emit(True)
        self._queue.put(job)
        return job

    def cancel_all(self) -> None:
        for job in list(self._outstanding):
            job.cancel()

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Cancel everything and end the thread; True if it ended within ``timeout``."""
        self.cancel_all()
        if self._thread is None:
            return True
        self._queue.put(None)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _on_delivered(self, job: Job, kind: str, payload: Any) -> None:
        if kind == "partial":
            if not job.token.cancelled and job.on_partial is not None:
                job.on_partial(payload)
            return
        if job in self._outstanding:
            self._outstanding.remove(job)
        try:
            if kind == "done" and not job.token.cancelled:
                if job.on_done is not None:
                    job.on_done(payload)
            elif kind == "failed" and not job.token.cancelled:
                if job.on_failed is not None:
                    job.on_failed(payload)
            elif job.on_cancelled is not None:
                job.on_cancelled()
        finally:
            if not self._outstanding:
                self.busy_changed.emit(False)

    # -- worker thread ---------------------------------------------------------------

    def _send(self, job: Job, kind: str, payload: Any) -> bool:
        """Queue a delivery to the GUI thread; False once this object is gone (the window
        closed while a long job ran past the wait of :meth:`shutdown`)."""
        try:
            self._delivered.emit(job, kind, payload)
        except RuntimeError:  # "Internal C++ object already deleted"
            return False
        return True

    def _main(self) -> None:
        if self._setup is not None:
            self._setup()
        while True:
            job = self._queue.get()
            if job is None:
                return
            if job.token.cancelled:  # went stale while queued: never started
                outcome: tuple[str, Any] = ("cancelled", None)
            else:
                outcome = self._run(job)
            if not self._send(job, *outcome):
                return

    def _run(self, job: Job) -> tuple[str, Any]:
        try:
            return "done", job.fn(job)
        except Cancelled:
            return "cancelled", None
        except ResvizError as exc:  # a bad file or setting: the message says what to do
            return "failed", str(exc)
        except Exception as exc:  # a bug: keep the app alive, keep the traceback
            log.error("%s failed:\n%s", job.label, traceback.format_exc())
            return "failed", f"{job.label} failed unexpectedly ({type(exc).__name__}: {exc})"
