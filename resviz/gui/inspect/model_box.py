"""Choosing the net to inspect: a run of the app (any of its checkpoints), a weights file,
torchvision's ImageNet weights by name (issue 5, "Load a model"), or a trained net of the
zoo (issue #20: the paper's CIFAR-10 nets and torchvision's, downloaded with progress).

Loading itself happens in the session's worker; this box only says what to load, and
shows what was loaded (architecture, layout, classes, input recipe) in one line.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from ...core.archs import CIFAR_DEPTHS, IMAGENET_DEPTHS
from ...core.errors import ResvizError
from ...core.zoo import ZOO
from ..runs import Run, RunsModel
from .session import InspectSession
from .zoo_fetch import ZooFetch, zoo_label

__all__ = ["ModelBox", "run_checkpoints", "WEIGHTS_NAMES"]

#: torchvision's ResNet weights (``ResNet50_Weights.DEFAULT`` resolves to the best one).
WEIGHTS_NAMES: tuple[str, ...] = tuple(f"ResNet{d}_Weights.DEFAULT" for d in IMAGENET_DEPTHS)
_ARCH_CHOICES: tuple[str, ...] = (
    *(f"resnet{d}" for d in (8, 14, *CIFAR_DEPTHS[:5])),
    *(f"plain{d}" for d in (8, 14, *CIFAR_DEPTHS[:5])),
    *(f"resnet{d}" for d in IMAGENET_DEPTHS),
    *(f"plain{d}" for d in IMAGENET_DEPTHS[:2]),
)
_INFER = "inferred from the weights"


def run_checkpoints(run: Run) -> list[Path]:
    """The run's checkpoint files, newest first (none before its first checkpoint)."""
    if run.run_dir is None:
        return []
    from ...core.runs.reader import RunReader

    try:
        with RunReader(run.run_dir) as reader:
            return list(reversed(reader.checkpoints()))
    except ResvizError:
        return []  # queued or just starting: no run folder yet


def _index_of(combo: QtWidgets.QComboBox, item: object) -> int:
    """The index of the entry whose data *is* ``item`` (-1 if none)."""
    return next((i for i in range(combo.count()) if combo.itemData(i) is item), -1)


def _step_of(path: Path) -> str:
    m = re.search(r"(\d+)", path.stem)
    return f"step {int(m.group(1)):,}" if m else path.name


class _RefreshingCombo(QtWidgets.QComboBox):
    """A combo that asks for fresh items just before it opens (checkpoints keep coming)."""

    about_to_open = QtCore.Signal()

    def showPopup(self) -> None:
        self.about_to_open.emit()
        super().showPopup()


class ModelBox(QtWidgets.QGroupBox):
    """Where the net comes from, its architecture override, and what was loaded."""

    def __init__(
        self, session: InspectSession, runs: RunsModel, open_action, parent: QtWidgets.QWidget | None = None
    ) -> None:
        super().__init__("Model", parent)
        self.session = session
        self.runs = runs
        form = QtWidgets.QFormLayout(self)
        form.setContentsMargins(6, 6, 6, 6)
        self.run = _RefreshingCombo()
        self.run.setToolTip(
            "A run of the runs list: train one on the Train tab, or open a run folder (File menu, or drop it)"
        )
        self.run.setPlaceholderText("no runs yet")
        self.run.about_to_open.connect(self._fill_runs)
        self.run.currentIndexChanged.connect(self._fill_checkpoints)
        self.checkpoint = _RefreshingCombo()
        self.checkpoint.setToolTip("Which of the run's checkpoints to load: its latest, or an earlier one")
        self.checkpoint.about_to_open.connect(self._fill_checkpoints)
        self.load_run = QtWidgets.QPushButton("Load")
        self.load_run.setToolTip("Load the chosen checkpoint of the run")
        self.load_run.clicked.connect(self._on_load_run)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.checkpoint, 1)
        row.addWidget(self.load_run)
        form.addRow("Run", self.run)
        form.addRow("Checkpoint", row)
        self.open_file = QtWidgets.QToolButton()
        self.open_file.setDefaultAction(open_action)
        self.open_file.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.open_file.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed)
        form.addRow("File", self.open_file)
        self.weights = QtWidgets.QComboBox()
        self.weights.setEditable(True)
        self.weights.addItems(WEIGHTS_NAMES)
        self.weights.setCurrentText("ResNet50_Weights.DEFAULT")
        self.weights.lineEdit().setCursorPosition(0)
        self.weights.setToolTip(
            "torchvision's ImageNet weights by name: from the torch hub cache, or downloaded when online"
        )
        self.load_weights = QtWidgets.QPushButton("Load")
        self.load_weights.setToolTip("Load these torchvision weights")
        self.load_weights.clicked.connect(
            lambda: self.session.load_model(self.weights.currentText().strip(), arch=self.arch_override())
        )
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.weights, 1)
        row.addWidget(self.load_weights)
        form.addRow("torchvision", row)
        self.zoo = _RefreshingCombo()
        self.zoo.setToolTip(
            "Trained nets: the paper's CIFAR-10 ResNets (pytorch_resnet_cifar10) and torchvision's ImageNet "
            "ResNets. A cached one loads at once; another is downloaded into torch's hub cache first, "
            "checked against its published SHA-256"
        )
        self.zoo.about_to_open.connect(self._fill_zoo)
        self.load_zoo = QtWidgets.QPushButton("Load")
        self.load_zoo.setToolTip("Load the trained net (downloading it first when it is not cached)")
        self.load_zoo.clicked.connect(self._on_load_zoo)
        self.fetch = ZooFetch(self)
        self.fetch.finished.connect(self._on_fetched)
        self.fetch.failed.connect(lambda name, msg: self.session.problem.emit(f"Cannot download {name}", msg))
        self.fetch.cancelled.connect(lambda name: self.session.message.emit(f"download of {name} cancelled"))
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.zoo, 1)
        row.addWidget(self.load_zoo)
        form.addRow("Trained nets", row)
        self._fill_zoo()
        self.arch = QtWidgets.QComboBox()
        self.arch.setEditable(True)
        self.arch.addItem(_INFER)
        self.arch.addItems(_ARCH_CHOICES)
        self.arch.setToolTip(
            "The architecture to build (plain20 loads resnet20 weights with every shortcut off); "
            "left at 'inferred', it is read from the weights"
        )
        form.addRow("Architecture", self.arch)
        self.description = QtWidgets.QLabel(
            "no model loaded: Load a run's checkpoint, open a file, or drop one on the window"
        )
        self.description.setWordWrap(True)
        self.description.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.description.setToolTip("The loaded net: architecture, where it came from, its input recipe")
        form.addRow(self.description)
        for combo in (self.run, self.checkpoint, self.weights, self.zoo, self.arch):
            combo.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(6)
        #: How many events of each run were seen: a new "checkpoint" event refills the box.
        self._events_seen: dict[Run, int] = {}
        runs.run_added.connect(self._on_run_added)
        runs.run_removed.connect(self._on_run_removed)
        for run in runs:
            self._watch(run)
        runs.current_changed.connect(self._select_run)
        session.model_changed.connect(self._on_model)
        self._fill_runs()

    def arch_override(self) -> str | None:
        text = self.arch.currentText().strip()
        return None if not text or text == _INFER else text

    # -- trained nets (the zoo) ---------------------------------------------------------

    def _fill_zoo(self) -> None:
        """The zoo's entries, each saying whether it is cached (asked again as the list opens)."""
        chosen = self.zoo.currentData() or "resnet18-imagenet"
        self.zoo.clear()
        for name, entry in ZOO.items():
            self.zoo.addItem(zoo_label(entry), name)
            self.zoo.setItemData(
                self.zoo.count() - 1, f"{entry.source}; {entry.licence}", QtCore.Qt.ItemDataRole.ToolTipRole
            )
        self.zoo.setCurrentIndex(max(self.zoo.findData(chosen), 0))

    def _on_load_zoo(self) -> None:
        name = self.zoo.currentData()
        if not name:
            return
        if ZOO[name].cached() is not None:
            self.session.load_model(f"zoo:{name}", arch=self.arch_override())
        elif not self.fetch.start(name, self.window()):
            self.session.message.emit("a trained net is downloading already: wait for it, or cancel it")

    def _on_fetched(self, name: str) -> None:
        self._fill_zoo()
        self.session.load_model(f"zoo:{name}", arch=self.arch_override())

    # -- runs --------------------------------------------------------------------------

    def _on_run_added(self, run: Run) -> None:
        self._watch(run)
        self._fill_runs()

    def _watch(self, run: Run) -> None:
        # A queued run gets its folder when it starts, and checkpoints as it goes.
        run.status_changed.connect(self._fill_runs)
        run.changed.connect(self._on_run_changed)
        self._events_seen[run] = len(run.history.events)

    def _on_run_removed(self, run: Run) -> None:
        run.status_changed.disconnect(self._fill_runs)
        run.changed.disconnect(self._on_run_changed)
        self._events_seen.pop(run, None)
        self._fill_runs()

    def _on_run_changed(self) -> None:
        """Refill the checkpoints when the shown run wrote one (its "checkpoint" event):
        the box follows a training run without being opened (issue #19)."""
        run = self.run.currentData()
        if run is None:
            return
        events = run.history.events
        seen = self._events_seen.get(run, 0)
        self._events_seen[run] = len(events)
        if any(ev.kind == "checkpoint" for ev in events[seen:]):
            self._fill_checkpoints()

    def _fill_runs(self) -> None:
        chosen = self.run.currentData()
        self.run.blockSignals(True)
        self.run.clear()
        for run in self.runs:
            if run.run_dir is not None:
                self.run.addItem(f"{run.name} ({run.status})", run)
        i = _index_of(self.run, chosen) if chosen is not None else -1
        if i < 0 and self.runs.current is not None:
            i = _index_of(self.run, self.runs.current)
        self.run.setCurrentIndex(max(i, 0) if self.run.count() else -1)
        self.run.blockSignals(False)
        self._fill_checkpoints()

    def _select_run(self, run: Run | None) -> None:
        i = _index_of(self.run, run) if run is not None else -1
        if i < 0 and run is not None and run.run_dir is not None:
            self._fill_runs()
            i = _index_of(self.run, run)
        if i >= 0:
            self.run.setCurrentIndex(i)

    def _fill_checkpoints(self) -> None:
        run = self.run.currentData()
        chosen = self.checkpoint.currentData()
        # The user's earlier pick stays; the latest (or nothing) moves on to the newest.
        keep = chosen is not None and self.checkpoint.currentIndex() > 0
        self.checkpoint.clear()
        paths = run_checkpoints(run) if run is not None else []
        for i, path in enumerate(paths):
            self.checkpoint.addItem(f"{_step_of(path)}{' (latest)' if i == 0 else ''}", str(path))
        self.checkpoint.setPlaceholderText("no checkpoint yet" if run is not None else "")
        # Set the index explicitly: with a placeholder text, Qt leaves a refilled combo at -1
        # (nothing chosen, Load had nothing to load: issue #19).
        i = self.checkpoint.findData(chosen) if keep else -1
        self.checkpoint.setCurrentIndex(i if i >= 0 else (0 if paths else -1))
        self.load_run.setToolTip(
            "Load the chosen checkpoint of the run"
            if paths
            else "The run has no checkpoint yet: one is written every few iterations and at its end"
            if run is not None
            else "No run to load: train one on the Train tab, or open a run folder (File menu)"
        )

    def _on_load_run(self) -> None:
        """Load the chosen checkpoint, or say why there is none (never nothing at all)."""
        self._fill_checkpoints()
        run, path = self.run.currentData(), self.checkpoint.currentData()
        if path:
            self.session.load_model(path, arch=self.arch_override())
        elif run is None:
            self.session.message.emit(
                "No run to load: train one on the Train tab, or open a run folder (File > Open run folder)"
            )
        else:
            self.session.message.emit(
                f"{run.name} has no checkpoint yet: one is written every few iterations and when the run "
                "ends; try again then"
            )

    def load_run_checkpoint(self, run: Run) -> bool:
        """Load ``run``'s latest checkpoint (the runs list's "Inspect" menu); False if none."""
        self._select_run(run)
        paths = run_checkpoints(run)
        if not paths:
            return False
        self.session.load_model(paths[0], arch=self.arch_override())
        return True

    def _on_model(self) -> None:
        loaded = self.session.loaded
        if loaded is None:
            self.description.setText("no model loaded")
            return
        source = Path(loaded.source)
        # The file's name is enough in the box; the full path is in the tooltip.
        self.description.setText(loaded.describe().replace(loaded.source, source.name))
        self.description.setToolTip(f"{loaded.describe()}" + "".join(f"\n• {n}" for n in loaded.notes))
        for run in self.runs:  # a checkpoint of a listed run: show which, in the combos
            if run.run_dir is not None and run.run_dir in source.parents:
                self._select_run(run)
                i = self.checkpoint.findData(str(source))
                if i >= 0:
                    self.checkpoint.setCurrentIndex(i)
                break
