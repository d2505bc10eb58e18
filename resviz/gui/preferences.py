"""The app's preferences that are not part of a run's settings, remembered with QSettings.

Training threads: how many torch threads a run in the app takes is a property of the
machine, not of the experiment, so it lives here rather than in the training form.
"auto" applies :func:`~resviz.gui.worker.worker_threads`'s rule, the one place the app
decides it; a number overrides the rule for this machine.

Beside it the choices people expect to find here (issue 19): the theme, where runs are
saved, the data set the training form uses, and how plots are exported (width, style,
formats: :class:`~resviz.gui.export.ExportOptions`). Each is stored under the same key
the rest of the app reads (``view/theme``, ``runs/root``, ``train/data``, ``export/*``),
so there is one source for every choice.
"""

from __future__ import annotations

import os

from PySide6 import QtWidgets

from ..core.errors import ResvizError
from . import settings
from .controls import _DATA as DATA_SETS  # the training form's own choices: one list
from .export import EXPORT_FORMATS, EXPORT_STYLES, ExportOptions
from .worker import worker_threads

__all__ = ["THREADS_KEY", "PreferencesDialog", "auto_threads_text", "training_threads"]

#: Where QSettings keeps the choice: 0 is "auto", N > 0 is N threads.
THREADS_KEY = "train/threads"

_STYLES = {"publication": "publication (light, for papers and slides)", "screen": "as on screen"}
_FORMATS = {"png+svg": "PNG and SVG", "png": "PNG only", "svg": "SVG only"}


def auto_threads_text(cpus: int) -> str:
    """What "auto" gives here, by :func:`worker_threads`'s own rule (OMP_NUM_THREADS included)."""
    auto = worker_threads()
    if auto is not None:
        return str(auto)
    omp = os.environ.get("OMP_NUM_THREADS", "").strip()
    return f"{omp}, from OMP_NUM_THREADS" if omp else f"torch's default on {cpus} cores"


def training_threads(cpus: int | None = None) -> int | None:
    """Torch threads for a run in the app: the user's choice, else the rule (None: torch's)."""
    return worker_threads(cpus, preference=settings.value(THREADS_KEY, 0))


def _combo(name: str, choices: dict[str, str] | tuple[tuple[str, str], ...], current: str) -> QtWidgets.QComboBox:
    combo = QtWidgets.QComboBox()
    combo.setObjectName(name)
    for key, text in dict(choices).items():
        combo.addItem(text, key)
    combo.setCurrentIndex(max(combo.findData(current), 0))
    return combo


class PreferencesDialog(QtWidgets.QDialog):
    """File > Preferences: threads, theme, runs folder, data set, export; OK applies and remembers.

    ``parent`` is the main window where there is one: OK then also applies the theme and
    the data set to it at once.
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("preferences")
        self.setWindowTitle("Preferences")
        form = QtWidgets.QFormLayout(self)
        from ..core.cores import usable_cores

        cpus = usable_cores()
        self.threads = QtWidgets.QSpinBox()
        self.threads.setObjectName("training_threads")
        self.threads.setRange(0, max(cpus, 1) * 2)
        self.threads.setSpecialValueText(f"auto ({auto_threads_text(cpus)})")
        self.threads.setToolTip(
            "Torch threads for training in the app. auto leaves the interface a core on small machines "
            f"(this one has {cpus}); more threads train faster when nothing else needs the cores, "
            "fewer keep the window smooth. Applies to runs started from now on."
        )
        self.threads.setValue(max(0, int(settings.value(THREADS_KEY, 0))))
        form.addRow("Training threads", self.threads)

        self.theme = _combo("theme", (("dark", "dark"), ("light", "light")), settings.value("view/theme", "dark"))
        form.addRow("Theme", self.theme)

        self.runs_root = QtWidgets.QLineEdit(str(settings.runs_root()))
        self.runs_root.setObjectName("runs_root")
        self.runs_root.setToolTip(
            "Where runs trained in the app are saved (and listed from at launch). "
            "$RESVIZ_RUNS_DIR, where set, wins over this."
        )
        browse = QtWidgets.QPushButton("Browse…")
        browse.clicked.connect(self._browse_runs_root)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.runs_root, 1)
        row.addWidget(browse)
        form.addRow("Runs folder", row)

        controls = getattr(getattr(parent, "train_tab", None), "controls", None)
        data = controls.data.currentData() if controls is not None else settings.value("train/data", "digits")
        self.data = _combo("data_set", DATA_SETS, data)
        self.data.setToolTip("The data set the training form uses (its Data box shows the same choice)")
        form.addRow("Data set", self.data)

        export = ExportOptions.remembered()
        self.export_width = QtWidgets.QSpinBox()
        self.export_width.setObjectName("export_width")
        self.export_width.setRange(200, 10_000)
        self.export_width.setSingleStep(200)
        self.export_width.setSuffix(" px")
        self.export_width.setValue(export.width)
        self.export_width.setToolTip("Width of exported PNGs; 1800 px is about twice a plot on screen")
        form.addRow("Export width", self.export_width)
        self.export_style = _combo("export_style", {k: _STYLES[k] for k in EXPORT_STYLES}, export.style)
        form.addRow("Export style", self.export_style)
        self.export_formats = _combo("export_formats", {k: _FORMATS[k] for k in EXPORT_FORMATS}, export.formats)
        form.addRow("Export formats", self.export_formats)

        self.problem = QtWidgets.QLabel()
        self.problem.setWordWrap(True)
        self.problem.setVisible(False)
        form.addRow(self.problem)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse_runs_root(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(
            self, "Save runs trained in the app into", self.runs_root.text()
        )
        if folder:
            self.runs_root.setText(folder)

    def accept(self) -> None:
        try:
            export = ExportOptions(
                self.export_width.value(), self.export_style.currentData(), self.export_formats.currentData()
            )
        except ResvizError as exc:  # the widgets' ranges keep this from happening; say so if it does
            self.problem.setText(str(exc))
            self.problem.setVisible(True)
            return
        store = settings.settings()
        store.setValue(THREADS_KEY, self.threads.value())
        store.setValue("view/theme", self.theme.currentData())
        root = self.runs_root.text().strip()
        if root and root != str(settings.runs_root()):
            store.setValue("runs/root", root)
        store.setValue("train/data", self.data.currentData())
        export.save()
        window = self.parent()
        if hasattr(window, "set_theme"):
            window.set_theme(self.theme.currentData())
        controls = getattr(getattr(window, "train_tab", None), "controls", None)
        if controls is not None:
            controls.data.setCurrentIndex(max(controls.data.findData(self.data.currentData()), 0))
        super().accept()
