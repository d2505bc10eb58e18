"""A gallery of the current data set's test images: click one to inspect it.

The data set is the one the loaded net was trained on when its checkpoint says so, the
built-in digits otherwise; the combo above the thumbnails picks another (which also
becomes the lesion study's test split). With an ImageNet net loaded, a row of real
photographs (scikit-image's bundled samples, :mod:`resviz.core.samples`) comes first, and
the first of them is shown when no image of the user's is (issue #20).
"""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from ...core.samples import sample_path, samples_available
from .. import settings
from .canvas import qimage_from_rgb
from .session import InspectSession
from .sources import DataChoice

__all__ = ["GalleryView"]

THUMB = 48  # pixels on screen: 16 x 16 digits at 3x, 32 x 32 CIFAR at 1.5x
PHOTO = 56  # the sample photographs' thumbnails


class GalleryView(QtWidgets.QWidget):
    """The data set chooser and a grid of test-image thumbnails."""

    def __init__(self, session: InspectSession, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setObjectName("gallery")
        self.data = QtWidgets.QComboBox()
        self.data.setToolTip("Which test images to show here and to use for the lesion study")
        self.data.activated.connect(self._on_data)
        self.list = QtWidgets.QListWidget()
        self.list.setViewMode(QtWidgets.QListView.ViewMode.IconMode)
        self.list.setIconSize(QtCore.QSize(THUMB, THUMB))
        self.list.setGridSize(QtCore.QSize(THUMB + 8, THUMB + 8))
        self.list.setResizeMode(QtWidgets.QListView.ResizeMode.Adjust)
        self.list.setMovement(QtWidgets.QListView.Movement.Static)
        self.list.setUniformItemSizes(True)
        self.list.setToolTip("Test images of the data set: click one to see what the net makes of it")
        self.list.currentRowChanged.connect(self._on_pick)
        self.list.itemClicked.connect(lambda item: self._on_pick(self.list.row(item)))
        self._row = -1
        self._picked = None  # the DecodedImage this gallery last handed to the session
        self.photos = QtWidgets.QListWidget()
        self.photos.setObjectName("photos")
        self.photos.setViewMode(QtWidgets.QListView.ViewMode.IconMode)
        self.photos.setIconSize(QtCore.QSize(PHOTO, PHOTO))
        # One row, wide enough for "astronaut" under its picture; scrolled sideways, never down.
        self.photos.setGridSize(QtCore.QSize(PHOTO + 28, PHOTO + 22))
        self.photos.setFlow(QtWidgets.QListView.Flow.LeftToRight)
        self.photos.setWrapping(False)
        self.photos.setWordWrap(False)
        self.photos.setMovement(QtWidgets.QListView.Movement.Static)
        self.photos.setVerticalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.photos.setFixedHeight(
            PHOTO + 26 + self.photos.horizontalScrollBar().sizeHint().height() + 2 * self.photos.frameWidth()
        )
        self.photos.setToolTip("Photographs for ImageNet nets (scikit-image's samples): click one to inspect it")
        self.photos.itemClicked.connect(self._on_photo)
        self.photos.hide()
        self._photos_filled = False
        self._photo_shown = None  # the name of the sample photograph this gallery asked for
        self._base_height: int | None = None
        top = QtWidgets.QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        label = QtWidgets.QLabel("Test images")
        label.setBuddy(self.data)
        top.addWidget(label)
        top.addWidget(self.data, 1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.photos)
        layout.addWidget(self.list, 1)
        session.data_changed.connect(self._on_data_changed)
        session.model_changed.connect(self._on_model_changed)
        session.image_changed.connect(self._on_image_changed)
        self._fill_choices()

    def _fill_choices(self) -> None:
        current = self.session.data_choice
        self.data.blockSignals(True)
        self.data.clear()
        choices = [
            DataChoice("digits"),
            DataChoice("cifar10", current.root if current and current.spec == "cifar10" else None),
        ]
        if current is not None and current.spec not in ("digits", "cifar10"):
            choices.append(current)
        for choice in choices:
            self.data.addItem(choice.label, choice)
            if choice.spec not in ("digits", "cifar10"):
                self.data.setItemData(self.data.count() - 1, choice.spec, QtCore.Qt.ItemDataRole.ToolTipRole)
        self.data.addItem("Folder…", "folder")
        index = next((i for i, c in enumerate(choices) if current is not None and c.spec == current.spec), 0)
        self.data.setCurrentIndex(index)
        self.data.blockSignals(False)

    def _on_data(self) -> None:
        choice = self.data.currentData()
        if choice == "folder":
            start = settings.value("inspect/last_data", str(Path.home()))
            folder = QtWidgets.QFileDialog.getExistingDirectory(self, "A folder with test/<class>/ images", start)
            if not folder:
                self._fill_choices()
                return
            settings.settings().setValue("inspect/last_data", folder)
            choice = DataChoice(folder)
        if choice != self.session.data_choice:
            self.session.set_data(choice)

    def _on_data_changed(self) -> None:
        self._fill_choices()
        g = self.session.gallery
        self.list.blockSignals(True)
        self.list.clear()
        if g is not None:
            for i, rgb in enumerate(g.images):
                pixmap = QtGui.QPixmap.fromImage(qimage_from_rgb(rgb)).scaled(
                    THUMB,
                    THUMB,
                    QtCore.Qt.AspectRatioMode.KeepAspectRatio,
                    QtCore.Qt.TransformationMode.FastTransformation,
                )
                item = QtWidgets.QListWidgetItem(QtGui.QIcon(pixmap), "")
                name = g.classes[g.labels[i]] if g.labels[i] < len(g.classes) else str(g.labels[i])
                item.setToolTip(f"test image {i}: labelled {name}")
                self.list.addItem(item)
        self.list.blockSignals(False)

    def _on_pick(self, row: int) -> None:
        if row >= 0 and (self._picked is None or self._picked is not self.session.image or row != self._row):
            self._row = row
            self.session.pick_gallery(row)
            self._picked = self.session.image

    # -- sample photographs (ImageNet nets) ----------------------------------------------------

    def _on_model_changed(self) -> None:
        loaded = self.session.loaded
        imagenet = loaded is not None and loaded.model.family == "imagenet"
        if imagenet and not self._photos_filled:
            self._fill_photos()
        show = imagenet and self.photos.count() > 0
        if show != self.photos.isVisible():
            # Room for the row on top of what the test images had, so that they keep theirs.
            if self._base_height is None:
                self._base_height = self.minimumHeight()
            self.setMinimumHeight(self._base_height + (self.photos.height() if show else 0))
        self.photos.setVisible(show)
        image = self.session.image
        ours = image is None or image is self._picked  # not one the user dropped, pasted or opened
        if imagenet and self.photos.count() and ours and self._photo_shown is None:
            # A photograph is what an ImageNet net is for; the user's own image stays.
            self.photos.setCurrentRow(0)
            self._on_photo(self.photos.item(0))

    def _fill_photos(self) -> None:
        """Thumbnails of the samples scikit-image ships (decoded by Qt, once)."""
        self._photos_filled = True
        for sample in samples_available():
            image = QtGui.QImage(str(sample_path(sample.name)))
            if image.isNull():
                continue
            # Square thumbnails (the centre, as the nets' centre crop sees it), so the names line up.
            scaled = image.scaled(
                PHOTO,
                PHOTO,
                QtCore.Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                QtCore.Qt.TransformationMode.SmoothTransformation,
            )
            x, y = (scaled.width() - PHOTO) // 2, (scaled.height() - PHOTO) // 2
            pixmap = QtGui.QPixmap.fromImage(scaled.copy(x, y, PHOTO, PHOTO))
            item = QtWidgets.QListWidgetItem(QtGui.QIcon(pixmap), sample.name)
            item.setData(QtCore.Qt.ItemDataRole.UserRole, sample.name)
            item.setToolTip(f"{sample.subject} ({sample.licence}; scikit-image's sample data)")
            self.photos.addItem(item)

    def _on_photo(self, item: QtWidgets.QListWidgetItem | None) -> None:
        if item is None:
            return
        name = item.data(QtCore.Qt.ItemDataRole.UserRole)
        self._photo_shown = name
        self.session.open_image(str(sample_path(name)), name=name)

    def _on_image_changed(self) -> None:
        image = self.session.image
        if self._photo_shown is not None and (image is None or image.name != self._photo_shown):
            self._photo_shown = None
            self.photos.blockSignals(True)
            self.photos.setCurrentRow(-1)
            self.photos.blockSignals(False)
        if self._picked is not None and self.session.image is not self._picked:
            # An image dropped or pasted: no thumbnail is the one shown any more.
            self._picked = None
            self.list.blockSignals(True)
            self.list.setCurrentRow(-1)
            self.list.blockSignals(False)

    def pick(self, row: int) -> None:
        """Select thumbnail ``row`` (as a click does)."""
        self.list.setCurrentRow(row)
