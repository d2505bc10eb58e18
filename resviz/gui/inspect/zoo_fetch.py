"""The Inspect tab's "Trained nets": the zoo's nets in one click (issue #20).

A cached net loads at once (the session's worker verifies and reads it). Another is first
downloaded on a thread of its own by :func:`resviz.core.download.fetch`, with a progress
dialog whose Cancel stops it between chunks (the partial file stays and the next attempt
resumes it); an error (offline, refused, a hash that does not match) goes to the window's
error box, naming the URL and the folder to put the file in by hand.
"""

from __future__ import annotations

import threading

from PySide6 import QtCore, QtWidgets

from ...core.zoo import ZOO, ZooEntry

__all__ = ["ZooFetch", "zoo_label"]


def zoo_label(entry: ZooEntry) -> str:
    """``resnet56-cifar10 — CIFAR-10, 6.61% error (cached)`` for the combo."""
    where = "cached" if entry.cached() is not None else f"{entry.size_mb:.0f} MB to download"
    return f"{entry.name} — {entry.dataset}, {entry.published_error:.2f}% error ({where})"


class ZooFetch(QtCore.QObject):
    """Downloads one zoo net at a time on a thread, with progress and Cancel."""

    progress = QtCore.Signal(object, object)  # bytes done, bytes total (or None); Python ints: > 2 GiB safe
    finished = QtCore.Signal(str)  # the zoo name, once its file is in the cache and verified
    failed = QtCore.Signal(str, str)  # the zoo name, the one-line message
    cancelled = QtCore.Signal(str)

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._stop: threading.Event | None = None
        self._thread: threading.Thread | None = None
        self.dialog: QtWidgets.QProgressDialog | None = None
        self._label = ""

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, name: str, parent: QtWidgets.QWidget | None = None) -> bool:
        """Download ``name`` unless a download is running; False when one is."""
        if self.busy:
            return False
        entry = ZOO[name]
        self._stop = threading.Event()
        self._label = f"Downloading {entry.name} ({entry.size_mb:.1f} MB) from {entry.source}"
        dialog = QtWidgets.QProgressDialog(f"{self._label} …", "Cancel", 0, 1000, parent)
        dialog.setWindowTitle("Trained nets")
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setValue(0)
        dialog.canceled.connect(self.cancel)
        self.dialog = dialog
        self.progress.connect(self._on_progress)
        dialog.open()
        self._thread = threading.Thread(target=self._run, args=(entry, self._stop), name="zoo-download", daemon=True)
        self._thread.start()
        return True

    def cancel(self) -> None:
        """Stop the download at its next chunk."""
        if self._stop is not None:
            self._stop.set()

    def wait(self, timeout: float | None = None) -> None:
        """Join the download thread (for tests and shutdown)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self, entry: ZooEntry, stop: threading.Event) -> None:
        # Signals emitted here reach the GUI thread queued (the QObject lives there).
        from ...core.download import DownloadCancelled, fetch
        from ...core.errors import ResvizError

        try:
            fetch(entry.file, progress=lambda done, total: self._emit(self.progress, done, total), cancel=stop)
        except DownloadCancelled:
            self._emit(self.cancelled, entry.name)
        except ResvizError as exc:
            self._emit(self.failed, entry.name, str(exc))
        except Exception as exc:  # a bug must not vanish with the thread
            self._emit(self.failed, entry.name, f"{type(exc).__name__}: {exc}")
        else:
            self._emit(self.finished, entry.name)
        finally:
            try:
                QtCore.QMetaObject.invokeMethod(self, "_close_dialog", QtCore.Qt.ConnectionType.QueuedConnection)
            except RuntimeError:
                pass  # the window closed meanwhile: nothing left to tell

    def _emit(self, signal, *args) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # the window (and this object) closed during the download
            stop = self._stop
            if stop is not None:
                stop.set()

    @QtCore.Slot()
    def _close_dialog(self) -> None:
        if self.dialog is not None:
            self.dialog.canceled.disconnect(self.cancel)
            self.dialog.close()
            self.dialog.deleteLater()
            self.dialog = None
        self.progress.disconnect(self._on_progress)

    def _on_progress(self, done: int, total: int | None) -> None:
        dialog = self.dialog
        if dialog is None:
            return
        if total:
            dialog.setLabelText(f"{self._label}: {done / 1e6:.1f} of {total / 1e6:.1f} MB")
            # Last: a modal dialog's setValue processes events, the queued close among them.
            dialog.setValue(min(1000, int(1000 * done / total)))
        else:
            dialog.setMaximum(0)  # busy indicator: the server did not say how much
