"""What a channel sees (Zeiler & Fergus 2014): the feature grid and the enlarged channel.

One pass over up to 10,000 test images of the gallery's split records, for every channel
of the low, mid and high levels, the images and places where it responds most
(:class:`~.feature_study.FeatureStudy`, in a thread of its own, with progress and Cancel).
The grid shows the most active channels of each level side by side, each as a mosaic of
its patches: edges and colours at the low level, textures and parts higher up, the patches
growing with the receptive field. Clicking a channel opens it: its patches at full size
(:func:`resviz.core.inspect.features.crop_field`) with their activations and source images,
beside the neuron view, which attributes that channel to the pixels of the image shown.

A result describes the net with the switches it ran with; after surgery it says so and
offers to run again, and going back to a net or switches already seen shows it at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6 import QtCore, QtGui, QtWidgets

from .. import settings
from .canvas import error_colour
from .feature_grid import FeatureGrid, Patch, PatchGrid
from .feature_study import DEFAULT_IMAGES, DEFAULT_K
from .neuron_view import NeuronView
from .results import switches_of
from .session import InspectSession

if TYPE_CHECKING:
    from ...core.data import ImageSet
    from ...core.inspect.features import LevelTopActivations
    from ...core.inspect.preprocess import Preprocess

__all__ = ["FeatureView", "ChannelDetail", "full_size_patches"]

CAPTION = (
    "<b>What a channel sees</b> (Zeiler &amp; Fergus 2014): for each level's most active channels, the "
    "test images where the channel responds most, cropped to the unit's receptive field (to the image "
    "where the field is larger than it). Under each mosaic: <b>#channel · mean activation</b> over the "
    "test images, most active first."
)


def full_size_patches(level: LevelTopActivations, channel: int, split: ImageSet, preprocess: Preprocess) -> list[Patch]:
    """The channel's patches at full size, best first: each field cut from its test image as
    the net sees it (the pass stores large fields downscaled)."""
    from ...core.inspect.features import crop_field

    out = []
    for j in [int(j) for j in level.valid[channel].nonzero()[0]]:
        index = int(level.images[channel, j])
        seen = preprocess.geometry(split.images[index : index + 1].cpu())[0]
        picture = (seen.expand(3, -1, -1) if seen.shape[0] == 1 else seen).permute(1, 2, 0).contiguous().numpy()
        crop = crop_field(
            picture,
            level.field,
            int(level.rows[channel, j]),
            int(level.cols[channel, j]),
            fit=level.cropped_to_image,
        )
        out.append(Patch(crop, float(level.values[channel, j]), index))
    return out


class ChannelDetail(QtWidgets.QWidget):
    """One channel enlarged: its patches at full size beside the neuron view."""

    back = QtCore.Signal()

    def __init__(self, session: InspectSession, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.channel: tuple[str, int] | None = None
        self.back_button = QtWidgets.QPushButton("← All channels")
        self.back_button.setToolTip("Back to the grid of every level's channels (Esc)")
        self.back_button.setShortcut(QtGui.QKeySequence("Esc"))
        self.back_button.clicked.connect(self.back)
        self.title = QtWidgets.QLabel()
        self.title.setWordWrap(True)
        self.patches = PatchGrid()
        self.patches.setToolTip(
            "The test images where this channel responds most, best first, each cut to the "
            "unit's receptive field at full size (grey: off the image). Click one to show its image"
        )
        self.patches.patch_clicked.connect(session.show_test_image)
        self.neuron = NeuronView(session, min_side=96)
        top = QtWidgets.QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.back_button)
        top.addWidget(self.title, 1)
        body = QtWidgets.QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.patches, 3)
        body.addWidget(self.neuron, 2)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(body, 1)

    def show_channel(self, level: LevelTopActivations, channel: int, n_images: int) -> None:
        """Show ``channel`` of ``level`` (a result's level) and attribute it in the image shown."""
        s = self.session
        self.channel = (level.level, channel)
        f = level.field
        self.title.setText(
            f"<b>{level.level} level · {level.module} · channel {channel}</b> · field {f.size}×{f.size} px"
            + (" (larger than the image: patches cut to the image)" if level.cropped_to_image else "")
            + " · "
            f"mean activation {float(level.mean[channel]):.3g} over {n_images:,} test images"
        )
        if level.dead[channel]:
            self.patches.set_patches(
                [],
                f"Channel {channel} is zero on every test image and place (a dead ReLU "
                "unit): no image excites it, so it has no patches",
            )
        elif s.data is None or s.loaded is None:
            self.patches.set_patches([], "")
        else:
            self.patches.set_patches(full_size_patches(level, channel, s.data.test, s.loaded.preprocess))
        s.pick_channel(level.level, channel)


class FeatureView(QtWidgets.QWidget):
    """Run / Cancel, the pass's settings and progress, the grid, and the enlarged channel."""

    def __init__(self, session: InspectSession, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setObjectName("features")
        study = session.features
        self.caption = QtWidgets.QLabel(CAPTION)
        self.caption.setWordWrap(True)
        self.run = QtWidgets.QPushButton("Find what channels see")
        self.run.setToolTip(
            "One pass over the test images: every channel's strongest units, cropped to their "
            "receptive fields (Ctrl+Shift+F)"
        )
        self.cancel = QtWidgets.QPushButton("Cancel")
        self.cancel.setToolTip("Stop the pass (nothing is kept)")
        self.images = QtWidgets.QSpinBox()
        self.images.setRange(10, 50_000)
        self.images.setSingleStep(1000)
        self.images.setValue(settings.value("inspect/features_images", DEFAULT_IMAGES))
        self.images.setSuffix(" images")
        self.images.setToolTip("How many test images the pass looks at (spread evenly over the split)")
        self.channels = QtWidgets.QSpinBox()
        self.channels.setRange(1, 64)
        self.channels.setValue(settings.value("inspect/features_channels", 8))
        self.channels.setSuffix(" ch./level")
        self.channels.setToolTip("How many of each level's most active channels the grid shows")
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setToolTip("Test images looked at so far")
        self.state = QtWidgets.QLabel()
        self.state.setWordWrap(True)
        self.grid = FeatureGrid()
        self.grid.setToolTip("Each channel's best patches as a mosaic, most active channels first; click one")
        scroll = QtWidgets.QScrollArea()
        scroll.setWidget(self.grid)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.detail = ChannelDetail(session)
        self.pages = QtWidgets.QStackedWidget()
        self.pages.addWidget(scroll)
        self.pages.addWidget(self.detail)
        bar = QtWidgets.QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        for w in (self.run, self.cancel, self.images, self.channels, self.progress):
            bar.addWidget(w, 1 if w is self.progress else 0)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        layout.addWidget(self.caption)
        layout.addLayout(bar)
        layout.addWidget(self.state)
        layout.addWidget(self.pages, 1)
        self.run.clicked.connect(self._on_run)
        self.cancel.clicked.connect(study.cancel)
        self.grid.channel_clicked.connect(self.open_channel)
        self.detail.back.connect(lambda: self.pages.setCurrentIndex(0))
        self.images.valueChanged.connect(lambda v: settings.settings().setValue("inspect/features_images", v))
        self.channels.valueChanged.connect(self._on_channels)
        study.changed.connect(self._update)
        study.progress.connect(self._on_progress)
        session.model_changed.connect(self._update)
        session.data_changed.connect(self._update)
        session.blocks_changed.connect(self._update)
        self._update()

    def _on_run(self) -> None:
        self.progress.setValue(0)
        self.session.run_features(self.images.value(), DEFAULT_K)

    def _on_channels(self, value: int) -> None:
        settings.settings().setValue("inspect/features_channels", value)
        self.grid.set_result(self.session.features.result, value)

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setValue(int(1000 * done / max(total, 1)))
        self.progress.setFormat(f"{done:,} of {total:,} images")

    def open_channel(self, level: str, channel: int) -> bool:
        """Enlarge ``channel`` of ``level`` (False: no pass has seen that level yet)."""
        result = self.session.features.result
        if result is None or level not in [lv.level for lv in result.levels]:
            self.session.pick_channel(level, channel)
            self.state.setText(f"Run the pass to see what {level}-level channel {channel} responds to.")
            return False
        self.detail.show_channel(result[level], channel, result.n_images)
        self.pages.setCurrentWidget(self.detail)
        return True

    def _update(self) -> None:
        s, study = self.session, self.session.features
        running, result = study.running, study.result
        ready = s.loaded is not None and s.data is not None
        self.run.setEnabled(ready and not running)
        self.run.setText("Run again" if study.stale else "Find what channels see")
        self.cancel.setEnabled(running)
        self.images.setEnabled(not running)
        if s.data is not None:
            self.images.setToolTip(
                f"How many of the {len(s.data.test):,} test images of {s.data.name} the pass looks "
                "at (spread evenly over the split)"
            )
        if not running and result is not None:
            self.progress.setValue(1000)
            self.progress.setFormat(f"{result.n_images:,} images, {result.seconds:.1f} s")
        elif not running:
            self.progress.setValue(0)
            self.progress.setFormat("no pass yet")
        self.state.setText(self._state_text())
        self.state.setStyleSheet(f"color: {error_colour()};" if study.stale else "")
        if result is None:
            self.pages.setCurrentIndex(0)
            self.grid.placeholder = (
                "load a model to see what its channels respond to"
                if s.loaded is None
                else "working through the test images …"
                if running
                else "Find what channels see: one pass over the test images, every channel's best patches"
            )
        self.grid.set_result(result, self.channels.value())
        if result is not None and self.detail.channel is not None and self.pages.currentWidget() is self.detail:
            level, channel = self.detail.channel
            self.detail.show_channel(result[level], channel, result.n_images)

    def _state_text(self) -> str:
        s, study = self.session, self.session.features
        if study.result is None or s.loaded is None:
            return ""
        changed = sum((a != b) for a, b in zip(study.ran_with, switches_of(s.original_blocks), strict=True))
        net = s.loaded.arch + (
            " as loaded" if not changed else f" with {changed} block{'s' if changed != 1 else ''} switched"
        )
        if study.stale:
            return f"These patches are of {net}; the switches changed since: run it again to see the net as it is now."
        return f"Of {net}, over {study.result.n_images:,} test images of {s.data.name if s.data else 'the split'}."
