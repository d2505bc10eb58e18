"""The lesion study's state in the Inspect tab: its result, whether it still holds, its thread.

A study of a deep net takes a minute, so it runs in a thread of its own, on its own copy of
the weights with the switches as they were when it started (the user goes on poking at the
net meanwhile). Its result then describes those switches: once the net's switches move away
from them, the result is *stale* and the chart says so. :class:`LesionStudy` is that state;
the session owns one and tells it when the net or its switches change.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from PySide6 import QtCore

from ..worker import _lower_thread_priority
from . import tasks
from .jobs import Job, JobWorker
from .results import LesionProgress, Switches

if TYPE_CHECKING:
    from ...core.data import DataSet
    from ...core.inspect import Inspector, LesionResult, LoadedModel

__all__ = ["LesionStudy"]


class LesionStudy(QtCore.QObject):
    """Veit et al.'s lesion study (arXiv:1605.06431) of the net shown, run in the background."""

    changed = QtCore.Signal()  # result, running or stale
    progress = QtCore.Signal(int, int)  # done, total
    message = QtCore.Signal(str)  # one line of news
    problem = QtCore.Signal(str, str)  # title, message

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = JobWorker("lesion", setup=_lower_thread_priority, parent=self)
        self.result: LesionResult | None = None
        self.ran_with: Switches = ()  # the switches ``result`` was measured with
        self.stale = False  # the net's switches have moved since ``result``
        self._now: Switches = ()  # the net's switches as the session last said
        self._job: Job | None = None
        self._copy: tuple[LoadedModel, Inspector] | None = None  # the lesion thread's only

    @property
    def running(self) -> bool:
        """A study is queued or running (until its result, failure or cancel arrives)."""
        return self._job is not None

    def start(self) -> None:
        """Start the thread (once torch has loaded)."""
        self.worker.start()

    def run(self, loaded: LoadedModel, data: DataSet, switches: Switches, limit: int | None) -> Job | None:
        """Study ``loaded`` with ``switches`` on ``limit`` test images of ``data``; None while
        another study runs."""
        if self._job is not None:
            return None
        fn = partial(
            tasks.lesion_study, loaded=loaded, data=data, switches=switches, limit=limit, copy_of=self._inspector_for
        )
        self._job = self.worker.submit(
            fn,
            "lesion study",
            on_done=lambda result: self._on_done(result, switches),
            on_partial=self._on_progress,
            on_failed=self._on_ended,
            on_cancelled=self._on_ended,
        )
        self.changed.emit()
        return self._job

    def cancel(self) -> None:
        """Stop the study after the lesion it is on (its result is dropped)."""
        if self._job is not None:
            self._job.cancel()

    def forget(self, switches: Switches) -> None:
        """Another net arrived (with ``switches``): a study of the one before would mislead."""
        self.cancel()
        self.result, self.ran_with, self.stale, self._now = None, (), False, switches
        self.changed.emit()

    def switches_moved(self, switches: Switches) -> None:
        """The net's switches are now ``switches``: does the result still describe them?"""
        self._now = switches
        self.stale = self.result is not None and switches != self.ran_with
        self.changed.emit()

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Cancel the study and end the thread; True if it ended within ``timeout``."""
        return self.worker.shutdown(timeout)

    # -- the thread's answers (GUI thread) ---------------------------------------------------

    def _on_done(self, result: LesionResult, switches: Switches) -> None:
        self._job = None
        self.result, self.ran_with = result, switches
        self.stale = switches != self._now
        self.changed.emit()
        self.message.emit(f"lesion study of {result.arch} on {result.n_images} test images in {result.seconds:.1f} s")

    def _on_progress(self, progress: LesionProgress) -> None:
        self.progress.emit(progress.done, progress.total)

    def _on_ended(self, failure: str | None = None) -> None:
        self._job = None
        self.changed.emit()
        if failure is None:
            self.message.emit("lesion study cancelled")
        else:
            self.problem.emit("The lesion study stopped", failure)

    # -- the lesion thread ----------------------------------------------------------------

    def _inspector_for(self, loaded: LoadedModel) -> Inspector:
        """The lesion thread's own copy of the net (made once per loaded model)."""
        from ...core.inspect import Inspector

        if self._copy is None or self._copy[0] is not loaded:
            self._copy = (loaded, Inspector(loaded))
        return self._copy[1]
