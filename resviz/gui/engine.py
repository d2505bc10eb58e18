"""Load torch, torchvision, Captum and the training engine in the background.

Importing them takes ~8 s on the project's 2-core machine; the window must appear in
under 2 s (issue 4). So the window is shown first and :class:`EngineLoader` imports the
stack in a thread, then announces :attr:`EngineLoader.ready` on the GUI thread. Until
then the status bar says so and Start stays disabled.
"""

from __future__ import annotations

import importlib
import threading
import time

from PySide6 import QtCore

__all__ = ["EngineLoader", "ENGINE_MODULES"]

#: What the app needs before it can train or inspect, in import order.
ENGINE_MODULES: tuple[str, ...] = (
    "torch",
    "torchvision",
    "captum.attr",
    "resviz.core.models",
    "resviz.core.train.trainer",
    "resviz.core.train.control",
    "resviz.core.runs",
)


class EngineLoader(QtCore.QObject):
    """Imports :data:`ENGINE_MODULES` in a daemon thread; emits ``ready`` or ``failed``."""

    #: Emitted on the GUI thread once everything is imported.
    ready = QtCore.Signal()
    #: Emitted on the GUI thread with a message when an import failed.
    failed = QtCore.Signal(str)
    # Carries the thread's outcome to the GUI thread (a queued connection: the loader
    # object lives on the GUI thread, the emit happens on the import thread).
    _finished = QtCore.Signal(object)

    def __init__(self, modules: tuple[str, ...] = ENGINE_MODULES, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._modules = modules
        self._thread: threading.Thread | None = None
        self.is_ready = False
        self.error: str | None = None
        self.seconds: float | None = None
        self._finished.connect(self._on_finished, QtCore.Qt.ConnectionType.QueuedConnection)

    @property
    def started(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        """Begin importing (once); returns at once."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._import_all, name="resviz-engine-import", daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the import thread ends (tests and ``resviz screenshot``)."""
        if self._thread is None:
            return self.is_ready
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _import_all(self) -> None:
        t0 = time.perf_counter()
        outcome: object = None
        try:
            for name in self._modules:
                importlib.import_module(name)
        except Exception as exc:  # any failure must reach the user, not die in a thread
            outcome = exc
        self.seconds = time.perf_counter() - t0
        self._finished.emit(outcome)

    def _on_finished(self, outcome: object) -> None:
        if outcome is None:
            self.is_ready = True
            self.ready.emit()
            return
        if isinstance(outcome, ModuleNotFoundError):
            self.error = (
                f"could not load {outcome.name or 'a module'}: it is not installed. "
                "Reinstall resviz with its dependencies (pip install resviz) and start again."
            )
        else:
            self.error = f"could not load the training engine: {outcome}"
        self.failed.emit(self.error)
