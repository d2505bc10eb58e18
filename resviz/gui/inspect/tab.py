"""The "Inspect" tab: load a trained net, give it an image, look inside, cut it (issue 5).

Left: the model, the image as the net sees it, the top-5 predictions and the gallery
of test images. Right, top to bottom: the attributions across low / mid / high (or one
input map; after surgery the intact net's above the altered one's), the block strip for
shortcut surgery, and three views of the net in tabs: the activations' channel grids with
the neuron view, what each channel sees over the test split (issue #13), and the lesion
study. Every view follows the :class:`InspectSession`; the tab only turns drops, pastes,
menu actions and remembered settings into session calls.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from .. import settings
from ..train_tab import _splitter
from .activations import ActivationsView
from .attributions import COLOUR_MAPS, AttributionView
from .canvas import ImageCanvas, error_colour
from .features_view import FeatureView
from .gallery import GalleryView
from .inputs import IMAGE_SUFFIXES, MODEL_SUFFIXES, clipboard_content, has_weights, sort_paths
from .lesion_view import LesionPanel
from .model_box import ModelBox
from .predictions import PredictionBars
from .session import InspectSession
from .sources import DataChoice
from .surgery_strip import BlockStrip

if TYPE_CHECKING:
    from ..main_window import MainWindow
    from ..runs import Run

__all__ = ["InspectTab"]

_MODEL_FILTER = "Weights (*.pt *.pth *.th *.ckpt *.bin *.safetensors);;All files (*)"
_IMAGE_FILTER = "Images (" + " ".join(f"*{s}" for s in IMAGE_SUFFIXES) + ");;All files (*)"


class InspectTab(QtWidgets.QWidget):
    """Everything of issue 5's app half, over one :class:`InspectSession`."""

    #: Dropped files with these suffixes come here (the window switches to this tab).
    FILE_SUFFIXES: tuple[str, ...] = IMAGE_SUFFIXES + MODEL_SUFFIXES

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.setObjectName("inspect_tab")
        self.main = window  # not .window(): QWidget has that method
        self.session = InspectSession(window.engine, parent=self)
        s = self.session
        self.model_box = ModelBox(s, window.runs, window.actions.open_model)
        self.image = ImageCanvas(
            "drop an image on the window, paste one (Ctrl+V), or pick a test image below", min_side=160
        )
        self.image.setToolTip("The image as the net sees it: resized and cropped to its input, before normalising")
        self.image_info = QtWidgets.QLabel()
        self.image_info.setWordWrap(True)
        self.image_info.setToolTip("Where the image came from and what decoding did to it")
        self.image_problem = QtWidgets.QLabel()
        self.image_problem.setWordWrap(True)
        self.image_problem.setObjectName("problem")
        self.image_problem.setToolTip("Why the last image could not be used (the image shown stays)")
        self.image_problem.hide()
        self.open_image = QtWidgets.QPushButton("Open…")
        self.open_image.setToolTip("Show an image file (Ctrl+Shift+I)")
        self.open_image.clicked.connect(window.actions.open_image.trigger)
        self.paste_button = QtWidgets.QPushButton("Paste")
        self.paste_button.setToolTip("Use the image (or image file) on the clipboard (Ctrl+V)")
        self.paste_button.clicked.connect(self.paste)
        self.predictions = PredictionBars(s)
        self.attributions = AttributionView(s)
        self.activations = ActivationsView(s)
        self.features = FeatureView(s)
        self.strip = BlockStrip(s)
        self.gallery = GalleryView(s)
        self.lesion = LesionPanel(s)
        self.activity = QtWidgets.QProgressBar()
        self.activity.setRange(0, 0)
        self.activity.setMaximumHeight(10)
        self.activity.setTextVisible(False)
        self.activity.setToolTip("The inspector is working (loading, predicting, attributing)")
        self.activity.hide()
        self._build()
        self._connect(window)
        self._restore()

    # -- building ------------------------------------------------------------------------

    def _build(self) -> None:
        image_box = QtWidgets.QGroupBox("Image, as the net sees it")
        col = QtWidgets.QVBoxLayout(image_box)
        col.setContentsMargins(6, 6, 6, 6)
        col.addWidget(self.image, 1)
        col.addWidget(self.image_info)
        col.addWidget(self.image_problem)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.open_image)
        buttons.addWidget(self.paste_button)
        col.addLayout(buttons)
        predictions_box = _boxed("Top-5 predictions", self.predictions)
        gallery_box = _boxed("Gallery", self.gallery)
        self.gallery.setMinimumHeight(150)
        left = QtWidgets.QWidget()
        left_col = QtWidgets.QVBoxLayout(left)
        left_col.setContentsMargins(4, 4, 4, 4)
        left_col.addWidget(self.model_box)
        left_col.addWidget(image_box, 1)
        left_col.addWidget(predictions_box)
        left_col.addWidget(self.activity)
        left_col.addWidget(gallery_box, 1)
        # The column scrolls rather than forcing the window taller than a laptop screen.
        scroll = QtWidgets.QScrollArea()
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        bar = scroll.style().pixelMetric(QtWidgets.QStyle.PixelMetric.PM_ScrollBarExtent)
        scroll.setMinimumWidth(max(300, left.minimumSizeHint().width() + bar + 4))
        self.strip.setMaximumHeight(140)
        # The views of the whole net share one place: a tab each (1280 x 800 has room for
        # the heatmaps, the strip and one of them at a time).
        self.views = QtWidgets.QTabWidget()
        self.views.setDocumentMode(True)
        self.views.setUsesScrollButtons(False)  # three short titles fit; no unlabelled arrows
        for widget, title, tip in (
            (
                self.activations,
                "Activations",
                "The most active channels of each level on the image shown; click one to attribute it to the pixels",
            ),
            (
                self.features,
                "What a channel sees",
                "Every level's most active channels by the test images where each responds most (Zeiler & Fergus 2014)",
            ),
            (
                self.lesion,
                "Lesion study",
                "The test error with one block's residual branch deleted or shortcut removed (Veit et al. 2016)",
            ),
        ):
            self.views.addTab(widget, title)
            self.views.setTabToolTip(self.views.count() - 1, tip)
        for arrow in self.views.tabBar().findChildren(QtWidgets.QToolButton):  # Qt's scroll arrows, if shown
            arrow.setToolTip("Scroll the tabs")
        self.centre = _splitter(
            QtCore.Qt.Orientation.Vertical,
            _boxed("Attributions", self.attributions),
            self.strip,
            self.views,
        )
        for i, stretch in enumerate((4, 0, 4)):
            self.centre.setStretchFactor(i, stretch)
        # First-launch proportions (a splitter scales them to its height): the heatmaps
        # and the views share the room, the strip gets what its buttons need.
        self.centre.setSizes([300, 115, 330])
        self.main_split = _splitter(QtCore.Qt.Orientation.Horizontal, scroll, self.centre)
        self.main_split.setStretchFactor(0, 0)
        self.main_split.setStretchFactor(1, 1)
        self.main_split.setSizes([360, 1000])  # first launch: room for the model's names
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.main_split)

    def _connect(self, window: MainWindow) -> None:
        s = self.session
        window.actions.open_model.triggered.connect(self._on_open_model)
        window.actions.open_image.triggered.connect(self._on_open_image)
        paste = QtGui.QShortcut(QtGui.QKeySequence(QtGui.QKeySequence.StandardKey.Paste), self)
        # The whole window while this tab shows (a tab page is hidden otherwise): clicking the
        # tab bar leaves the focus outside the page. Text fields still paste text first.
        paste.setContext(QtCore.Qt.ShortcutContext.WindowShortcut)
        paste.activated.connect(self.paste)
        paste.setWhatsThis("Paste an image from the clipboard")  # Help › Keyboard shortcuts says so
        # Window-wide actions, not the buttons' own shortcuts: a button's shortcut works only
        # while its sub-tab shows (issue #19).
        for action, view in (
            (window.actions.lesion_study, self.lesion),
            (window.actions.channel_features, self.features),
        ):
            window.addAction(action)
            action.triggered.connect(lambda _=False, view=view: self.start_view(view))
        s.problem.connect(window.show_error)
        s.image_problem.connect(self._on_image_problem)
        s.message.connect(lambda text: window.status.showMessage(text, 10_000))
        s.image_changed.connect(self._on_image)
        s.busy_changed.connect(self.activity.setVisible)
        self.activations.see_features.connect(self._on_see_features)
        # Choices are written a moment after the last change: a QSettings write costs ~14 ms
        # here, far too much for every step of a dragged slider.
        self._remember = QtCore.QTimer(self)
        self._remember.setSingleShot(True)
        self._remember.setInterval(500)
        self._remember.timeout.connect(self._save_choices)
        a = self.attributions
        for signal in (a.method.currentIndexChanged, a.cmap.currentIndexChanged, a.opacity.valueChanged):
            signal.connect(self._remember.start)

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        s = self.session
        if s.gallery is None and s.loaded is None and not s.busy:
            # The first visit: something to click before any net is loaded (the built-in
            # digits, ~1 s in the worker; not at start-up, which must stay light).
            s.set_data(DataChoice("digits"))

    # -- settings ----------------------------------------------------------------------------

    def splitters(self) -> dict[str, QtWidgets.QSplitter]:
        return {"main": self.main_split, "centre": self.centre}

    def _on_see_features(self, level: str, channel: int) -> None:
        """The activations' "What it sees": the channel in the feature grid."""
        self.views.setCurrentWidget(self.features)
        self.features.open_channel(level, channel)

    def start_view(self, view: LesionPanel | FeatureView) -> bool:
        """Bring ``view`` (the lesion study, what channels see) to the front and start its
        work; say why not when it cannot start. True if started."""
        self.main.tabs.setCurrentWidget(self)
        self.views.setCurrentWidget(view)
        if view.run.isEnabled():
            view.run.click()
            return True
        s = self.session
        what = "the lesion study" if view is self.lesion else "finding what channels see"
        if s.loaded is None:
            why = f"load a model first (a run's checkpoint above, a weights file, or drop one) for {what}"
        elif s.data is None:
            why = f"the test images are still loading: try {what} again in a moment"
        elif s.study.running or s.features.running:
            why = f"{what} is already running"
        else:
            why = view.run.toolTip()
        self.main.status.showMessage(f"Cannot start: {why}", 10_000)
        return False

    def _restore(self) -> None:
        s = settings.settings()
        method = settings.value("inspect/method", self.session.method)
        try:
            self.session.set_method(method)
        except ValueError:  # a method of another version: keep the default
            pass
        cmap = settings.value("inspect/cmap", COLOUR_MAPS[0])
        self.attributions.set_colour_map(cmap if cmap in COLOUR_MAPS else COLOUR_MAPS[0])
        self.attributions.opacity.setValue(max(0, min(100, settings.value("inspect/opacity", 50))))
        for name, splitter in self.splitters().items():
            state = s.value(f"inspect/splitter_{name}")
            if isinstance(state, QtCore.QByteArray) and not state.isEmpty():
                splitter.restoreState(state)

    def _save_choices(self) -> None:
        s = settings.settings()
        s.setValue("inspect/method", self.attributions.method.currentData())
        s.setValue("inspect/cmap", self.attributions.colour_map())
        s.setValue("inspect/opacity", self.attributions.opacity.value())

    def save_state(self) -> None:
        """Remember the choices and splitters (the window calls this when it closes)."""
        self._remember.stop()
        self._save_choices()
        s = settings.settings()
        for name, splitter in self.splitters().items():
            s.setValue(f"inspect/splitter_{name}", splitter.saveState())

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Stop the inspector's threads (the window is closing)."""
        return self.session.shutdown(timeout)

    def plots(self) -> dict[str, pg.PlotItem]:
        """The tab's plots by export name (File > Export plots includes them)."""
        return {"lesion_study": self.lesion.chart.plot}

    # -- what the user hands in --------------------------------------------------------------

    def open_paths(self, paths: list[str | Path]) -> None:
        """Dropped or pasted paths: a weights file or run folder loads, an image is shown."""
        dropped = sort_paths(paths)
        for folder in dropped.folders:
            self._open_folder(folder)
        if dropped.models:
            self.session.load_model(dropped.models[0], arch=self.model_box.arch_override())
            if len(dropped.models) > 1:
                self.main.status.showMessage(f"{len(dropped.models)} weights files dropped: loading the first", 10_000)
        if dropped.images:
            self.session.open_image(dropped.images[0])
            if len(dropped.images) > 1:
                self.main.status.showMessage(f"{len(dropped.images)} images dropped: showing the first", 10_000)

    def _open_folder(self, folder: Path) -> None:
        from ...core.runs.reader import is_run_folder

        if is_run_folder(folder):
            run = self.main.open_run_folder(folder)
            if run is not None and not self.model_box.load_run_checkpoint(run):
                self.main.show_error(
                    "Nothing to inspect yet",
                    f"{run.name} has no checkpoint yet: one is written every few iterations "
                    "and when the run ends. Try again then.",
                )
        elif has_weights(folder):
            self.session.load_model(folder, arch=self.model_box.arch_override())
        else:
            self._on_image_problem(
                f"{folder} is a folder, not an image or a model: drop an image file (PNG, JPEG, ...), "
                "a weights file (.pt, .pth, .safetensors) or a run folder"
            )

    def inspect_run(self, run: Run) -> None:
        """Load ``run``'s latest checkpoint (the runs list's menu)."""
        if not self.model_box.load_run_checkpoint(run):
            self.main.show_error("Nothing to inspect yet", f"{run.name} has no checkpoint yet")

    def paste(self) -> None:
        """Use what the clipboard holds: an image, image files, or a path."""
        clipboard = QtGui.QGuiApplication.clipboard()
        mime = clipboard.mimeData()
        content = (
            clipboard_content(mime, clipboard.image() if mime is not None and mime.hasImage() else None)
            if mime is not None
            else "the clipboard is empty: copy an image first"
        )
        if isinstance(content, list):
            self.open_paths(content)
        elif isinstance(content, bytes):
            self.session.open_image(content, name="the pasted image")
        else:
            self._on_image_problem(content)

    def _on_open_model(self) -> None:
        self.main.tabs.setCurrentWidget(self)
        start = settings.value("inspect/last_model", str(settings.runs_root()))
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Open a model (checkpoint or weights)", start, _MODEL_FILTER
        )
        if path:
            settings.settings().setValue("inspect/last_model", str(Path(path).parent))
            self.session.load_model(path, arch=self.model_box.arch_override())

    def _on_open_image(self) -> None:
        self.main.tabs.setCurrentWidget(self)
        start = settings.value("inspect/last_image", str(Path.home()))
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open an image", start, _IMAGE_FILTER)
        if path:
            settings.settings().setValue("inspect/last_image", str(Path(path).parent))
            self.session.open_image(path)

    # -- feedback ------------------------------------------------------------------------------

    def _on_image_problem(self, message: str) -> None:
        self.main.last_error = message
        self.image_problem.setText(message)
        self.image_problem.setStyleSheet(f"color: {error_colour()};")
        self.image_problem.show()
        self.main.status.showMessage(f"Cannot use this image: {message}", 15_000)

    def _on_image(self) -> None:
        s = self.session
        self.image_problem.hide()
        if s.image is None:
            return
        h, w = s.image.rgb.shape[:2]
        seen = s.prepared.display if s.prepared is not None else s.image.rgb
        sh, sw = seen.shape[:2]
        info = f"{s.image.name} · {w}×{h}" + (f" → {sw}×{sh}" if (sh, sw) != (h, w) else "")
        info += "".join(f" · {note}" for note in s.image.notes)
        self.image_info.setText(info)
        self.image.set_rgb(seen)


def _boxed(title: str, widget: QtWidgets.QWidget) -> QtWidgets.QGroupBox:
    box = QtWidgets.QGroupBox(title)
    layout = QtWidgets.QVBoxLayout(box)
    layout.setContentsMargins(2, 2, 2, 2)
    layout.addWidget(widget)
    return box
