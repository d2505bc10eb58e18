"""Pictures in the Inspect tab: an RGB array drawn to fit, pixels kept sharp.

A CIFAR image is 32 x 32 and a digits image 16 x 16: shown large, each pixel must stay a
crisp square (nearest-neighbour), or the viewer sees blur the net never saw. Pictures
larger than their box are scaled down smoothly instead.
"""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from ..theme import theme

__all__ = ["ImageCanvas", "qimage_from_rgb", "colour_lut", "apply_lut", "error_colour", "draw_placeholder"]


def error_colour() -> str:
    """The theme's colour for what went wrong or no longer holds (a name for style sheets)."""
    return theme().colours.error


def draw_placeholder(p: QtGui.QPainter, rect: QtCore.QRect, text: str) -> None:
    """What an empty view says in its place: muted, centred, wrapped within ``rect``."""
    p.setPen(QtGui.QColor(theme().colours.muted))
    p.drawText(rect, QtCore.Qt.AlignmentFlag.AlignCenter | QtCore.Qt.TextFlag.TextWordWrap, text)


def qimage_from_rgb(rgb: np.ndarray) -> QtGui.QImage:
    """An H x W x 3 uint8 array as a QImage that owns its pixels."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = rgb.shape[:2]
    return QtGui.QImage(rgb.data, w, h, 3 * w, QtGui.QImage.Format.Format_RGB888).copy()


_LUTS: dict[str, np.ndarray] = {}


def colour_lut(name: str) -> np.ndarray:
    """256 x 3 uint8 colours of a matplotlib colour map (cached)."""
    if name not in _LUTS:
        import matplotlib

        _LUTS[name] = (matplotlib.colormaps[name](np.linspace(0.0, 1.0, 256))[:, :3] * 255).round().astype(np.uint8)
    return _LUTS[name]


def apply_lut(values: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """Values in [0, 1] (H x W) coloured through ``lut``: H x W x 3 uint8."""
    index = np.clip(np.nan_to_num(values) * 255.0, 0, 255).astype(np.uint8)
    return lut[index]


class ImageCanvas(QtWidgets.QWidget):
    """Draws one RGB array as large as fits, with a caption under it; click to select."""

    clicked = QtCore.Signal()

    def __init__(self, placeholder: str = "", *, min_side: int = 64, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: QtGui.QImage | None = None
        self._caption = ""
        self._placeholder = placeholder
        self._selected = False
        self.setMinimumSize(min_side, min_side + self._caption_height())
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Expanding)
        theme().changed.connect(self.update)

    def _caption_height(self) -> int:
        return self.fontMetrics().height() + 4

    @property
    def has_image(self) -> bool:
        return self._image is not None

    def set_rgb(self, rgb: np.ndarray | None, caption: str | None = None) -> None:
        """Show ``rgb`` (None: the placeholder) with an optional caption."""
        self._image = None if rgb is None else qimage_from_rgb(rgb)
        if caption is not None:
            self._caption = caption
        self.update()

    def set_caption(self, caption: str) -> None:
        self._caption = caption
        self.update()

    def caption(self) -> str:
        return self._caption

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        self.update()

    def set_selected(self, on: bool) -> None:
        self._selected = on
        self.update()

    def image_rect(self) -> QtCore.QRect:
        """Where the picture is drawn: as large as fits, square pixels, centred."""
        box = self.rect().adjusted(2, 2, -2, -2 - (self._caption_height() if self._caption else 0))
        if self._image is None or box.width() <= 0 or box.height() <= 0:
            return box
        w, h = self._image.width(), self._image.height()
        scale = min(box.width() / w, box.height() / h)
        if scale >= 1:  # whole pixels only: every source pixel the same size on screen
            scale = float(int(scale))
        sw, sh = max(1, int(w * scale)), max(1, int(h * scale))
        return QtCore.QRect(box.x() + (box.width() - sw) // 2, box.y() + (box.height() - sh) // 2, sw, sh)

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        c = theme().colours
        p = QtGui.QPainter(self)
        p.fillRect(self.rect(), QtGui.QColor(c.plot_background))
        target = self.image_rect()
        if self._image is not None:
            upscaled = target.width() >= self._image.width()
            p.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, not upscaled)
            p.drawImage(target, self._image)
            if self._selected:
                p.setPen(QtGui.QPen(QtGui.QColor(c.highlight), 2))
                p.drawRect(target.adjusted(-1, -1, 0, 0))
        elif self._placeholder:
            draw_placeholder(p, self.rect().adjusted(6, 6, -6, -6), self._placeholder)
        if self._caption:
            p.setPen(QtGui.QColor(c.text))
            area = QtCore.QRect(0, self.height() - self._caption_height(), self.width(), self._caption_height())
            text = p.fontMetrics().elidedText(self._caption, QtCore.Qt.TextElideMode.ElideRight, area.width() - 4)
            p.drawText(area, QtCore.Qt.AlignmentFlag.AlignCenter, text)
        p.end()

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:
        if event.button() == QtCore.Qt.MouseButton.LeftButton:
            self.clicked.emit()
        super().mousePressEvent(event)
