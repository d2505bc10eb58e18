"""The training settings beside the plots: network, shortcuts, data, schedule, device.

Opens on the embedded default (issue 4): residual and plain nets of depth 20 on the
digits set, sized so the first click shows curves within a minute on a laptop CPU.
The form turns itself into :class:`~resviz.core.train.config.TrainConfig` objects;
a bad value raises :class:`~resviz.core.errors.ConfigError` with the message the user
sees. Choices are remembered between sessions (QSettings).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from ..core.archs import CIFAR_DEPTHS, IMAGENET_DEPTHS, parse_arch
from ..core.errors import ConfigError
from ..core.experiment import DEGRADATION_ITERS, MAX_SEEDS, parse_depths
from ..core.train.config import TrainConfig
from . import settings
from .actions import WindowActions
from .form_values import FormInput, read_widget, write_widget

__all__ = ["TrainControls", "Field", "FIELDS", "DEFAULTS", "data_source"]


@dataclass(frozen=True)
class Field:
    """One setting of the form: the widget that holds it, its first-launch value, and the
    :class:`TrainConfig` field it fills as it is (None: :meth:`TrainControls.base_config`
    works that one out from several widgets)."""

    name: str  # the widget's attribute on TrainControls
    default: bool | int | float | str
    config: str | None = None
    #: The config value for the widget's value, where they differ (a checkbox for a choice).
    to_config: Callable[[bool | int | float | str], object] | None = None

    @property
    def key(self) -> str:
        """Where QSettings remembers it."""
        return f"train/{self.name}"


#: Every setting of the form, in the order it shows them. Restoring, saving and the
#: first-launch values all come from here: a new setting is one row and one widget.
#: The first-launch values: the degradation of issue 3 shows within minutes on digits.
FIELDS: tuple[Field, ...] = (
    Field("depth", 20),
    Field("shortcuts", True),
    Field("option", "A"),
    Field("compare", True),
    Field("data", "digits"),
    Field("data_path", ""),
    Field("download", False),
    # The budget of `resviz experiment degradation` (README): on digits, enough for the
    # degradation problem and the residual nets' advantage to show within minutes on a CPU.
    Field("iters", DEGRADATION_ITERS, "iters"),
    Field("batch_size", 128, "batch_size"),
    Field("lr", 0.1, "lr"),
    Field("warmup", False, "warmup"),
    # Where the learning rate drops (issue #18): auto keeps the paper's 32k/48k for budgets
    # under 32k, so a short run is the start of the paper's run (TrainConfig.schedule).
    Field("schedule", "auto", "schedule"),
    Field("device", "auto", "device"),
    # Checked: compile where it pays (train.compiled.use_compile: a CUDA GPU); unchecked: eager.
    Field("compile", True, "compile", lambda on: "auto" if on else "off"),
    Field("telemetry_every", 10, "telemetry_every"),
    Field("eval_every", 50, "eval_every"),
    Field("depths", "20, 56"),
    # Each net of the degradation experiment trained this many times (issue #18).
    Field("seeds", 1),
    # What Pause, Stop and Shortcuts act on while a group trains (issue #11).
    Field("scope", "group"),
)

#: The first-launch settings by name.
DEFAULTS = {f.name: f.default for f in FIELDS}

_CIFAR_CHOICES = (8, 14) + tuple(d for d in CIFAR_DEPTHS if d <= 110)
_DATA = (
    ("digits", "digits (built in)"),
    ("cifar10", "CIFAR-10"),
    ("folder", "image folder"),
)


class TrainControls(QtWidgets.QWidget):
    """The settings form and the run buttons (the window's actions)."""

    def __init__(self, actions: WindowActions, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("train_controls")
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.addWidget(self._network_box())
        outer.addWidget(self._data_box())
        outer.addWidget(self._schedule_box())
        outer.addWidget(self._buttons(actions))
        outer.addWidget(self._degradation_box(actions))
        self.problem = QtWidgets.QLabel()
        self.problem.setWordWrap(True)
        self.problem.setObjectName("problem")
        self.problem.setToolTip("What is wrong with the settings above, and what to do")
        outer.addWidget(self.problem)
        outer.addStretch(1)
        for combo in self.findChildren(QtWidgets.QComboBox):
            # Size to a short text, not the longest item: the plots need the width.
            combo.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
        self.restore()
        self._on_data_changed()
        self._on_compare_toggled()

    # -- building --------------------------------------------------------------------

    def _network_box(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("Network")
        form = QtWidgets.QFormLayout(box)
        self.depth = QtWidgets.QComboBox()
        for d in _CIFAR_CHOICES:
            self.depth.addItem(f"{d} · CIFAR-style", d)
        for d in IMAGENET_DEPTHS:
            self.depth.addItem(f"{d} · ImageNet-style", d)
        self.depth.setToolTip(
            "Depth of the net. CIFAR-style nets (section 4.2) suit small images; "
            "ImageNet-style nets (Table 1) need a GPU to train in reasonable time."
        )
        form.addRow("Depth", self.depth)
        self.shortcuts = QtWidgets.QCheckBox("on")
        self.shortcuts.setToolTip("On: a ResNet. Off: the plain net of the same depth (section 4.1)")
        self.option = QtWidgets.QComboBox()
        for key, text in (("A", "A: zero-pad"), ("B", "B: project"), ("C", "C: all proj.")):
            self.option.addItem(text, key)
        self.option.setToolTip(
            "Shortcut option of section 3.3: A zero-padding identity, B projections where dimensions "
            "change, C projections everywhere (the CIFAR nets use A, the ImageNet nets B)"
        )
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.shortcuts)
        row.addWidget(self.option, 1)
        form.addRow("Shortcuts", row)
        self.compare = QtWidgets.QCheckBox("plain and residual")
        self.compare.setToolTip(
            "Train both nets of this depth, with and without shortcuts, together step by step, so their "
            "curves grow side by side (they see the same images in the same order)"
        )
        self.compare.toggled.connect(self._on_compare_toggled)
        form.addRow("Compare", self.compare)
        return box

    def _data_box(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("Data")
        form = QtWidgets.QFormLayout(box)
        self.data = QtWidgets.QComboBox()
        for key, text in _DATA:
            self.data.addItem(text, key)
        self.data.setToolTip(
            "digits: 1,797 handwritten digits shipped with resviz (no download). CIFAR-10: the "
            "paper's data set, from a folder. Image folder: your own train/<class>/ and test/<class>/ images."
        )
        self.data.currentIndexChanged.connect(self._on_data_changed)
        form.addRow("Data set", self.data)
        self.data_path = QtWidgets.QLineEdit()
        self.data_path.setPlaceholderText("folder")
        self.browse = QtWidgets.QToolButton()
        self.browse.setText("…")
        self.browse.setToolTip("Choose the folder")
        self.browse.clicked.connect(self._on_browse)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.data_path, 1)
        row.addWidget(self.browse)
        self.path_label = QtWidgets.QLabel("Folder")
        form.addRow(self.path_label, row)
        self.download = QtWidgets.QCheckBox("download if missing (170 MB)")
        self.download.setToolTip("Fetch CIFAR-10 with torchvision into the folder above when it is not there")
        form.addRow("", self.download)
        return box

    def _schedule_box(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("Schedule")
        form = QtWidgets.QFormLayout(box)
        self.iters = QtWidgets.QSpinBox()
        self.iters.setRange(1, 10_000_000)
        self.iters.setSingleStep(100)
        self.iters.setToolTip("Iterations (optimizer steps). The paper trains 64,000 on CIFAR-10")
        form.addRow("Iterations", self.iters)
        self.batch_size = QtWidgets.QSpinBox()
        self.batch_size.setRange(1, 8192)
        self.batch_size.setToolTip("Images per step; the paper uses 128")
        form.addRow("Batch size", self.batch_size)
        self.lr = QtWidgets.QDoubleSpinBox()
        self.lr.setDecimals(4)
        self.lr.setRange(0.0001, 10.0)
        self.lr.setSingleStep(0.01)
        self.lr.setToolTip("Starting learning rate (paper: 0.1), divided by 10 where the schedule says")
        form.addRow("Learning rate", self.lr)
        self.warmup = QtWidgets.QCheckBox("0.01 warm-up (ResNet-110)")
        self.warmup.setToolTip("Train at lr 0.01 until the training error is below 80 % (at most 400 iterations)")
        form.addRow("", self.warmup)
        self.schedule = QtWidgets.QComboBox()
        for text, key in (
            ("auto (paper's under 32k)", "auto"),
            ("paper's: 32k, 48k", "paper"),
            ("scaled: 50 %, 75 %", "scaled"),
        ):
            self.schedule.addItem(text, key)
        self.schedule.setToolTip(
            "Where the learning rate drops. paper's: at 32,000 and 48,000 iterations as in the paper, whatever the "
            "budget, so a short run is the paper's first iterations at lr 0.1 (Fig. 6's left edge); scaled: at 50 % "
            "and 75 % of the iterations, to end a short run at a low rate; auto: the paper's for budgets under "
            "32,000, else scaled. The run's config.json says which ran"
        )
        form.addRow("LR schedule", self.schedule)
        self.device = QtWidgets.QComboBox()
        for name in ("auto", "cpu", "cuda", "mps"):
            self.device.addItem(name, name)
        self.device.setToolTip("auto picks a CUDA GPU, then Apple's MPS, then the CPU")
        form.addRow("Device", self.device)
        self.compile = QtWidgets.QCheckBox("compile the step where it pays")
        self.compile.setToolTip(
            "torch.compile the training step where it pays: on a CUDA GPU (with CUDA graphs, several "
            "times the images/s; the first compile takes a minute, then it is cached), and on the CPU "
            "for long runs only (iterations x batch of 5 million or more), where a first compile of "
            "minutes gains 15-50 %. Unchecked: eager everywhere."
        )
        form.addRow("", self.compile)
        self.telemetry_every = QtWidgets.QSpinBox()
        self.telemetry_every.setRange(1, 100_000)
        self.telemetry_every.setToolTip("Measure residual ratios, response stds and gradient norms every k steps")
        form.addRow("Telemetry every", self.telemetry_every)
        self.eval_every = QtWidgets.QSpinBox()
        self.eval_every.setRange(1, 1_000_000)
        self.eval_every.setToolTip("Measure the test error every this many steps (and at the end)")
        form.addRow("Test every", self.eval_every)
        return box

    def _buttons(self, actions: WindowActions) -> QtWidgets.QWidget:
        w = QtWidgets.QWidget()
        row = QtWidgets.QGridLayout(w)
        row.setContentsMargins(0, 0, 0, 0)
        for i, action in enumerate((actions.start, actions.pause, actions.stop, actions.shortcuts)):
            button = QtWidgets.QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed)
            if action is actions.shortcuts:  # all on, all off, swap each: spelt out (issue #19)
                menu = QtWidgets.QMenu(button)
                menu.addActions(actions.shortcut_choices())
                button.setMenu(menu)
                button.setPopupMode(QtWidgets.QToolButton.ToolButtonPopupMode.MenuButtonPopup)
            row.addWidget(button, i // 2, i % 2)
        label = QtWidgets.QLabel("Acts on")
        self.scope = QtWidgets.QComboBox()
        self.scope.addItem("whole group", "group")
        self.scope.addItem("selected run", "run")
        self.scope.setToolTip(
            "What Pause, Stop and Shortcuts act on while a comparison or an experiment trains: every net "
            "of the group together, or only the run selected in the Runs list (the others go on; a run "
            "resumed alone catches up with them first). The buttons say which."
        )
        label.setToolTip(self.scope.toolTip())
        label.setBuddy(self.scope)
        scope_row = QtWidgets.QHBoxLayout()
        scope_row.addWidget(label)
        scope_row.addWidget(self.scope, 1)
        row.addLayout(scope_row, 2, 0, 1, 2)
        return w

    def _degradation_box(self, actions: WindowActions) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("Degradation experiment")
        form = QtWidgets.QFormLayout(box)
        self.depths = QtWidgets.QLineEdit()
        self.depths.setToolTip("Depths to compare, plain and residual at each (the paper's Fig. 6: 20, 32, 44, 56)")
        form.addRow("Depths", self.depths)
        self.seeds = QtWidgets.QSpinBox()
        self.seeds.setRange(1, MAX_SEEDS)
        self.seeds.setToolTip(
            "Train each net this many times (seeds 0, 1, ...; the plain and residual twins share each seed) "
            "and judge the claims on the spread across seeds, as Table 6 does for ResNet-110 over 5 runs"
        )
        form.addRow("Seeds", self.seeds)
        button = QtWidgets.QToolButton()
        button.setDefaultAction(actions.degradation)
        button.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed)
        form.addRow(button)
        return box

    # -- reacting --------------------------------------------------------------------

    def _on_data_changed(self) -> None:
        key = self.data.currentData()
        needs_path = key in ("cifar10", "folder")
        for w in (self.path_label, self.data_path, self.browse):
            w.setVisible(needs_path)
        self.download.setVisible(key == "cifar10")
        if key == "cifar10":
            self.path_label.setText("Root")
            self.data_path.setPlaceholderText("where CIFAR-10 is (empty: resviz's cache)")
            self.data_path.setToolTip("The folder holding cifar-10-batches-py (torchvision's layout)")
        else:
            self.path_label.setText("Folder")
            self.data_path.setPlaceholderText("a folder with train/ and test/ class folders")
            self.data_path.setToolTip("ImageFolder layout: train/<class>/*.png and test/<class>/*.png")

    def _on_compare_toggled(self) -> None:
        self.shortcuts.setEnabled(not self.compare.isChecked())

    def _on_browse(self) -> None:
        start = self.data_path.text() or str(Path.home())
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Choose the data folder", start)
        if folder:
            self.data_path.setText(folder)

    def show_problem(self, message: str | None) -> None:
        """Show what is wrong with the settings (None clears it)."""
        self.problem.setText(message or "")

    # -- configs -----------------------------------------------------------------------

    def base_config(self, *, arch: str | None = None) -> TrainConfig:
        """The settings as a TrainConfig for ``arch`` (default: the form's net)."""
        depth = int(self.depth.currentData())
        if arch is None:
            arch = f"{'resnet' if self.shortcuts.isChecked() else 'plain'}{depth}"
        key = self.data.currentData()
        data, root = data_source(key, self.data_path.text())
        spec = parse_arch(arch)
        option = self.option.currentData() if not spec.plain else None
        family_default = spec.shortcut
        return TrainConfig(
            arch=arch,
            shortcut=None if option == family_default else option,
            data=data,
            data_root=root,
            download=self.download.isChecked() and key == "cifar10",
            **{f.config: _config_value(f, getattr(self, f.name)) for f in FIELDS if f.config is not None},
        )

    def configs(self) -> list[TrainConfig]:
        """What Start queues: one net, or the plain and the residual net when comparing."""
        if not self.compare.isChecked():
            return [self.base_config()]
        depth = int(self.depth.currentData())
        return [self.base_config(arch=f"plain{depth}"), self.base_config(arch=f"resnet{depth}")]

    def degradation_configs(self) -> list[TrainConfig]:
        """Plain and residual nets at each depth, each of them once per seed: the engine's
        plan (``resviz experiment degradation --seeds``)."""
        from ..core.experiment import degradation_plan

        depths = parse_depths(self.depths.text())
        base = self.base_config(arch=f"resnet{depths[0]}")
        return [config for _, config in degradation_plan(base, depths, self.seeds.value())]

    # -- remembering -------------------------------------------------------------------

    def restore(self) -> None:
        """Fill the form from the saved settings (first launch: :data:`DEFAULTS`)."""
        for f in FIELDS:
            write_widget(getattr(self, f.name), settings.value(f.key, f.default), f.default)

    def save(self) -> None:
        """Remember every setting of the form (the window calls this when it closes)."""
        s = settings.settings()
        for f in FIELDS:
            s.setValue(f.key, read_widget(getattr(self, f.name)))


def _config_value(f: Field, widget: FormInput) -> object:
    value = read_widget(widget)
    return f.to_config(value) if f.to_config is not None else value


def data_source(key: str, path: str) -> tuple[str, str | None]:
    """(data, data_root) of a TrainConfig from a data choice (digits, cifar10, folder) and its path
    field: a folder's path is the data, CIFAR-10's is where it lives (empty: resviz's cache)."""
    path = path.strip()
    if key == "folder":
        if not path:
            raise ConfigError("choose the image folder (train/ and test/ class folders) with the … button")
        return str(Path(path).expanduser()), None
    return key, (str(Path(path).expanduser()) if path and key == "cifar10" else None)
