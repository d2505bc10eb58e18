"""The app's preferences that are not part of a run's settings: training threads.

How many torch threads a run in the app takes is a property of the machine, not of the
experiment, so it lives here (remembered with QSettings) rather than in the training
form. "auto" applies :func:`~resviz.gui.worker.worker_threads`'s rule, the one place the
app decides it; a number overrides the rule for this machine.
"""

from __future__ import annotations

import os

from PySide6 import QtWidgets

from . import settings
from .worker import worker_threads

__all__ = ["THREADS_KEY", "PreferencesDialog", "training_threads"]

#: Where QSettings keeps the choice: 0 is "auto", N > 0 is N threads.
THREADS_KEY = "train/threads"


def training_threads(cpus: int | None = None) -> int | None:
    """Torch threads for a run in the app: the user's choice, else the rule (None: torch's)."""
    return worker_threads(cpus, preference=settings.value(THREADS_KEY, 0))


class PreferencesDialog(QtWidgets.QDialog):
    """Edit > Preferences: training threads (auto or a number), applied to the next run."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("preferences")
        self.setWindowTitle("Preferences")
        form = QtWidgets.QFormLayout(self)
        cpus = os.cpu_count() or 1
        self.threads = QtWidgets.QSpinBox()
        self.threads.setObjectName("training_threads")
        self.threads.setRange(0, max(cpus, 1) * 2)
        auto = worker_threads(cpus)
        self.threads.setSpecialValueText(f"auto ({auto if auto is not None else cpus})")
        self.threads.setToolTip(
            "Torch threads for training in the app. auto leaves the interface a core on small machines "
            f"(this one has {cpus}); more threads train faster when nothing else needs the cores, "
            "fewer keep the window smooth. Applies to runs started from now on."
        )
        self.threads.setValue(max(0, int(settings.value(THREADS_KEY, 0))))
        form.addRow("Training threads", self.threads)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def accept(self) -> None:
        settings.settings().setValue(THREADS_KEY, self.threads.value())
        super().accept()
