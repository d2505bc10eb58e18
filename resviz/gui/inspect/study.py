"""A study of the net shown that takes a while, in a thread of its own: its result and whether
it still holds.

The lesion study (Veit et al. 2016), the feature pass of "what a channel sees" (Zeiler &
Fergus 2014) and the loss landscape (Li et al. 2018) each go over a whole split, seconds to
minutes. Each runs in its own thread on its own copy of the weights, with the switches as
they were when it started, so the user goes on poking at the net meanwhile (CONTRIBUTING.md,
"An inspect job"). Its result then describes that net with those switches:

* once the net's switches move away from them, the result is *stale*, and the view says so;
* a result is remembered by the net it is of (:func:`net_identity`) and the switches, so
  going back to a net or to switches already studied shows that result again at once;
  running it again for a net the thread has seen is a hit in the core's cache, which this
  study's copies share.

:class:`Study` is that state; the session owns one per kind and tells each when the net
or its switches change.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

from PySide6 import QtCore

from ..worker import _lower_thread_priority
from .jobs import Job, JobWorker
from .results import StudyProgress, Switches

if TYPE_CHECKING:
    from ...core.data import DataSet
    from ...core.inspect import Inspector, LoadedModel

__all__ = ["Study", "NetKey", "net_identity"]

#: What a study result is of: the net's identity and its test images (see net_identity).
NetKey = Hashable
#: Results remembered per study (by net and switches): the core's cache bounds the bytes.
MEMO = 4


def net_identity(loaded: LoadedModel, data: DataSet | None) -> NetKey:
    """What makes two loads the same net with the same images: the file (path, size and
    modification time), the architecture, the input recipe, and the data set's name and
    sizes. Loading the same checkpoint again gives the same key; a rewritten file does not."""
    try:
        st = os.stat(loaded.source)
        stamp: tuple = (st.st_size, st.st_mtime_ns)
    except (OSError, ValueError):
        stamp = ()  # a torchvision weights name: fixed weights
    images = (data.name, len(data.train), len(data.test)) if data is not None else None
    return (loaded.source, stamp, loaded.arch, loaded.model.is_plain, loaded.preprocess.key, images)


class Study(QtCore.QObject):
    """One kind of study of the net shown, run in the background (subclasses say which)."""

    changed = QtCore.Signal()  # result, running or stale
    progress = QtCore.Signal(int, int)  # done, total
    message = QtCore.Signal(str)  # one line of news
    problem = QtCore.Signal(str, str)  # title, message

    #: What it is called in messages ("lesion study").
    label = "study"

    def __init__(self, thread_name: str, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = JobWorker(thread_name, setup=_lower_thread_priority, parent=self)
        self.result: Any = None
        self.ran_with: Switches = ()  # the switches ``result`` was measured with
        self.stale = False  # the net's switches have moved since ``result``
        self._net: NetKey | None = None  # the net shown, as the session last said
        self._now: Switches = ()  # its switches, as the session last said
        self._job: Job | None = None
        self._memo: OrderedDict[tuple, Any] = OrderedDict()
        self._copy: tuple[LoadedModel, Inspector] | None = None  # the study thread's only
        self._cache = None  # the core's cache, shared by this thread's copies (made there)

    @property
    def running(self) -> bool:
        """A study is queued or running (until its result, failure or cancel arrives)."""
        return self._job is not None

    def start(self) -> None:
        """Start the thread (once torch has loaded)."""
        self.worker.start()

    def cancel(self) -> None:
        """Stop the study at its next check (its result is dropped)."""
        if self._job is not None:
            self._job.cancel()

    def forget(self, switches: Switches, net: NetKey | None = None) -> None:
        """Another net arrived (``net``, with ``switches``): a study of the one before would
        mislead, so it is cancelled and its result dropped, unless this net was studied before."""
        self.cancel()
        self._net, self._now = net, switches
        self.result, self.ran_with, self.stale = None, (), False
        self._recall()
        self.changed.emit()

    def switches_moved(self, switches: Switches) -> None:
        """The net's switches are now ``switches``: does the result still describe them?"""
        self._now = switches
        if not self._recall():
            self.stale = self.result is not None and switches != self.ran_with
        self.changed.emit()

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Cancel the study and end the thread; True if it ended within ``timeout``."""
        return self.worker.shutdown(timeout)

    def _recall(self) -> bool:
        """Show the remembered result for the net and switches now, if there is one."""
        hit = self._memo.get((self._net, self._now)) if self._net is not None else None
        if hit is None:
            return False
        self._memo.move_to_end((self._net, self._now))
        self.result, self.ran_with, self.stale = hit, self._now, False
        return True

    # -- for subclasses ---------------------------------------------------------------------

    def _submit(self, fn: Callable[[Job], Any], switches: Switches) -> Job | None:
        """Run ``fn`` in the study's thread (None while another study of this kind runs)."""
        if self._job is not None:
            return None
        net = self._net
        self._job = self.worker.submit(
            fn,
            self.label,
            on_done=lambda result: self._on_done(result, net, switches),
            on_partial=self._on_progress,
            on_failed=self._on_ended,
            on_cancelled=self._on_ended,
        )
        self.changed.emit()
        return self._job

    def _done_message(self, result: Any) -> str:
        """The status line when a result arrives."""
        return f"{self.label} done"

    def _inspector_for(self, loaded: LoadedModel) -> Inspector:
        """The study thread's own copy of the net (made once per loaded model)."""
        from ...core.inspect import Inspector

        if self._copy is None or self._copy[0] is not loaded:
            self._copy = (loaded, Inspector(loaded, cache=self.core_cache()))
        return self._copy[1]

    def core_cache(self):
        """The core's cache of this study's copies (made in the study thread: it needs torch)."""
        if self._cache is None:
            from ...core.inspect.cache import AttributionCache

            self._cache = AttributionCache()
        return self._cache

    # -- the thread's answers (GUI thread) ---------------------------------------------------

    def _on_done(self, result: Any, net: NetKey | None, switches: Switches) -> None:
        self._job = None
        if net is not None:
            self._memo[(net, switches)] = result
            self._memo.move_to_end((net, switches))
            while len(self._memo) > MEMO:
                self._memo.popitem(last=False)
        self.result, self.ran_with = result, switches
        self.stale = switches != self._now
        self.changed.emit()
        self.message.emit(self._done_message(result))

    def _on_progress(self, progress: StudyProgress) -> None:
        self.progress.emit(progress.done, progress.total)

    def _on_ended(self, failure: str | None = None) -> None:
        self._job = None
        self.changed.emit()
        if failure is None:
            self.message.emit(f"{self.label} cancelled")
        else:
            self.problem.emit(f"The {self.label} stopped", failure)
