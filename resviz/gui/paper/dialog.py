"""Run > Reproduce the paper: the data, the depths and the budget, and the cost, before anything starts.

The dialog measures each depth's speed on the chosen device (a few uncounted warm-up
steps, then a few timed ones: :mod:`resviz.core.paper.cost`) and shows the estimate with
what the paper's full schedule would take here, and a smaller budget where the chosen one
is over an hour. Such a long job starts only once the user ticks that they know how long
it takes (the rule of ``resviz experiment paper --yes``). CIFAR-10 is downloaded by
torchvision only when "Allow download" is ticked.
"""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets

from ...core.durations import format_long_duration
from ...core.errors import ConfigError
from ...core.paper.numbers import FULL_SCHEDULE
from ...core.paper.plan import PAPER_DEPTHS, PAPER_MAX_SEEDS, PAPER_PLAIN_DEPTHS, PaperPlan
from ..theme import theme
from .estimate import Estimated, EstimateJob

__all__ = ["PaperDialog"]

_DATA = (
    ("cifar10", "CIFAR-10 (the paper's)"),
    ("folder", "an image folder (train/ and test/)"),
    ("digits", "digits (built in: a quick look)"),
)
_DEVICES = (("auto", "auto (CUDA, then MPS, then the CPU)"), ("cpu", "CPU"), ("cuda", "CUDA GPU"), ("mps", "Apple MPS"))


def _join(depths) -> str:
    return ", ".join(str(d) for d in depths)


class PaperDialog(QtWidgets.QDialog):
    """Choose the experiment; :meth:`plan` and :attr:`estimated` once accepted."""

    #: How long the form waits after the last edit before measuring (ms).
    DEBOUNCE_MS = 400

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Reproduce the paper (CIFAR-10, section 4.2)")
        self.setObjectName("paper_dialog")
        self._speeds: dict = {}
        self._job: EstimateJob | None = None
        #: The finished estimate for the current choice (None while measuring or invalid).
        self.estimated: Estimated | None = None
        outer = QtWidgets.QVBoxLayout(self)
        intro = QtWidgets.QLabel(
            "Trains the ResNets of Table 6 and the plain nets of Fig. 6 with the paper's recipe (SGD, batch 128, "
            "lr 0.1 divided by 10 at 50 % and 75 % of the iterations, the 0.01 warm-up for 110 layers), then puts "
            "Table 6, Fig. 6, Fig. 7 and the paper's claims beside what happened, in the Paper tab."
        )
        intro.setWordWrap(True)
        outer.addWidget(intro)
        form = QtWidgets.QFormLayout()
        outer.addLayout(form)
        self.data = QtWidgets.QComboBox()
        for key, text in _DATA:
            self.data.addItem(text, key)
        form.addRow("Data", self.data)
        self.path = QtWidgets.QLineEdit()
        self.browse = QtWidgets.QToolButton(text="…")
        self.browse.setToolTip("Choose the folder")
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(self.browse)
        self.path_label = QtWidgets.QLabel("Root")
        form.addRow(self.path_label, row)
        self.download = QtWidgets.QCheckBox("Allow download (torchvision fetches CIFAR-10, 170 MB)")
        form.addRow("", self.download)
        self.depths = QtWidgets.QLineEdit(_join(PAPER_DEPTHS))
        self.depths.setToolTip("The ResNets' depths (Table 6: 20, 32, 44, 56, 110); any 6n+2 but 50 and 152")
        form.addRow("ResNet depths", self.depths)
        self.plain_depths = QtWidgets.QLineEdit(_join(PAPER_PLAIN_DEPTHS))
        self.plain_depths.setToolTip("The plain nets' depths (Fig. 6 left: 20, 32, 44, 56); empty for none")
        form.addRow("Plain depths", self.plain_depths)
        self.iters = QtWidgets.QSpinBox()
        self.iters.setRange(10, 10_000_000)
        self.iters.setSingleStep(1000)
        self.iters.setGroupSeparatorShown(True)
        self.iters.setValue(FULL_SCHEDULE)
        self.iters.setToolTip("Iterations per net: the paper trains 64,000; the lr drops scale with the budget")
        form.addRow("Iterations per net", self.iters)
        self.seeds = QtWidgets.QSpinBox()
        self.seeds.setRange(1, PAPER_MAX_SEEDS)
        self.seeds.setToolTip(
            "Train each net this many times (the plain and residual twins share each seed): Table 6 then gives "
            "best (mean ± std) over them, as the paper does for ResNet-110 over 5 runs, and the claims use "
            "their spread"
        )
        form.addRow("Seeds", self.seeds)
        self.device = QtWidgets.QComboBox()
        for key, text in _DEVICES:
            self.device.addItem(text, key)
        form.addRow("Device", self.device)
        self.estimate = QtWidgets.QLabel()
        self.estimate.setWordWrap(True)
        self.estimate.setObjectName("paper_estimate")
        self.estimate.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.estimate.setMinimumHeight(90)
        self.estimate.setAlignment(QtCore.Qt.AlignmentFlag.AlignTop | QtCore.Qt.AlignmentFlag.AlignLeft)
        box = QtWidgets.QGroupBox("What it costs here")
        QtWidgets.QVBoxLayout(box).addWidget(self.estimate)
        outer.addWidget(box)
        self.confirm = QtWidgets.QCheckBox()
        outer.addWidget(self.confirm)
        outer.addStretch(1)  # extra height below the form, not between its rows
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        self.start = buttons.addButton("Start", QtWidgets.QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        outer.addWidget(buttons)
        self.resize(640, 520)

        self._debounce = QtCore.QTimer(self, singleShot=True, interval=self.DEBOUNCE_MS)
        self._debounce.timeout.connect(self._measure)
        self._poll = QtCore.QTimer(self, interval=100)
        self._poll.timeout.connect(self._on_poll)
        for w in (self.path, self.depths, self.plain_depths):
            w.textChanged.connect(self._on_changed)
        for w in (self.data, self.device):
            w.currentIndexChanged.connect(self._on_changed)
        self.iters.valueChanged.connect(self._on_changed)
        self.seeds.valueChanged.connect(self._on_changed)
        self.download.toggled.connect(self._on_changed)
        self.confirm.toggled.connect(self._update_start)
        self.data.currentIndexChanged.connect(self._on_data_changed)
        self.browse.clicked.connect(self._on_browse)
        self._on_data_changed()
        self._on_changed()

    # -- the choice --------------------------------------------------------------------

    def plan(self) -> PaperPlan:
        """The experiment the form describes; ConfigError naming what is wrong."""
        from ..controls import data_source
        from ..preferences import training_threads

        key = self.data.currentData()
        data, root = data_source(key, self.path.text())

        return PaperPlan(
            data=data,
            data_root=root,
            download=self.download.isChecked() and key == "cifar10",
            depths=self.depths.text(),
            plain_depths=self.plain_depths.text() or "none",
            iters=self.iters.value(),
            seeds=self.seeds.value(),
            device=self.device.currentData(),
            # The threads the app will train with (Preferences, else the rule): the estimate
            # measures the speed with them, so it is what the user gets (issue 19).
            threads=training_threads(),
        )

    def set_choice(
        self,
        *,
        data: str = "cifar10",
        path: str = "",
        depths: str | None = None,
        plain_depths: str | None = None,
        iters: int | None = None,
        device: str | None = None,
        seeds: int | None = None,
    ) -> None:
        """Fill the form (tests, and the window's last choice)."""
        self.data.setCurrentIndex(max(0, self.data.findData(data)))
        self.path.setText(path)
        if depths is not None:
            self.depths.setText(depths)
        if plain_depths is not None:
            self.plain_depths.setText(plain_depths)
        if iters is not None:
            self.iters.setValue(iters)
        if device is not None:
            self.device.setCurrentIndex(max(0, self.device.findData(device)))
        if seeds is not None:
            self.seeds.setValue(seeds)

    # -- reacting ----------------------------------------------------------------------

    def _on_data_changed(self) -> None:
        key = self.data.currentData()
        self.download.setVisible(key == "cifar10")
        for w in (self.path_label, self.path, self.browse):
            w.setVisible(key != "digits")
        if key == "cifar10":
            self.path_label.setText("Root")
            self.path.setPlaceholderText("where cifar-10-batches-py is (empty: resviz's cache)")
        else:
            self.path_label.setText("Folder")
            self.path.setPlaceholderText("a folder with train/ and test/ class folders")

    def _on_browse(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(
            self, "Choose the data folder", self.path.text() or str(Path.home())
        )
        if folder:
            self.path.setText(folder)

    def _on_changed(self, *_args) -> None:
        self.estimated = None
        self.confirm.setChecked(False)
        self._update_start()
        try:
            self.plan()
        except ConfigError as exc:
            self._debounce.stop()
            self._show(f"<span style='color:{theme().colours.error}'>{exc}</span>")
            return
        self._show("<i>measuring …</i>")
        self._debounce.start()

    def _measure(self) -> None:
        try:
            plan = self.plan()
        except ConfigError:
            return
        self._job = EstimateJob(plan, self._speeds).start()
        self._poll.start()

    def _on_poll(self) -> None:
        job = self._job
        if job is None:
            self._poll.stop()
            return
        if not job.done:
            self._show(f"<i>{job.progress}</i>")
            return
        self._poll.stop()
        self._job = None
        try:
            current = self.plan()
        except ConfigError:
            return
        if job.plan != current:  # the choice changed while it measured: measure again
            self._measure()
            return
        if job.error is not None:
            self._show(f"<span style='color:{theme().colours.error}'>{job.error}</span>")
            return
        self.estimated = job.result
        self._show_estimate(job.result)

    def _show_estimate(self, result: Estimated) -> None:
        c = theme().colours
        est = result.estimate
        lines = est.lines()
        html = f"<b>{lines[0]}</b>" + "".join(f"<br>{line}" for line in lines[1:])
        if result.problem:
            html += f"<br><span style='color:{c.error}'>{result.problem}</span>"
        self._show(html)
        self.confirm.setVisible(est.long)
        self.confirm.setText(f"I know this takes about {format_long_duration(est.seconds)}: start it anyway")
        self._update_start()

    def _show(self, html: str) -> None:
        self.estimate.setText(html)
        if self.estimated is None:
            self.confirm.setVisible(False)

    def _update_start(self) -> None:
        r = self.estimated
        ok = r is not None and r.problem is None and (not r.estimate.long or self.confirm.isChecked())
        self.start.setEnabled(ok)
        if r is None:
            self.start.setToolTip("Start is enabled once the estimate is in")
        elif r.problem:
            self.start.setToolTip(r.problem)
        elif r.estimate.long and not self.confirm.isChecked():
            self.start.setToolTip("Over an hour: tick the box above to start it anyway, or choose fewer iterations")
        else:
            self.start.setToolTip(f"Queue the {len(r.estimate.nets)} nets and show them in the Paper tab")

    def done(self, result: int) -> None:
        self._poll.stop()
        self._debounce.stop()
        super().done(result)
