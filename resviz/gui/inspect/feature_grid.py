"""Painted grids of receptive-field patches: every channel's mosaic, and one channel's patches.

:class:`FeatureGrid` draws, for the most active channels of each level (columns low, mid,
high side by side), each channel's ``k`` patches as one small mosaic
(:func:`resviz.core.inspect.feature_figures.channel_mosaic`), as Zeiler & Fergus (2014,
arXiv:1311.2901, Fig. 2) show a feature by its top 9 patches. :class:`PatchGrid` draws one
channel's patches at full size with their activation and source image. Both are plain
painted widgets over numpy arrays; pixels stay sharp squares when scaled up.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from ..theme import theme
from .canvas import draw_placeholder, qimage_from_rgb

if TYPE_CHECKING:
    from ...core.inspect.features import LevelTopActivations, TopActivations

__all__ = ["FeatureGrid", "PatchGrid", "Patch"]

_GAP = 6
_MIN_CELL = 60
_MAX_CELL = 112


def _draw_pixels(p: QtGui.QPainter, rect: QtCore.QRect, image: QtGui.QImage) -> None:
    """``image`` into ``rect``: nearest-neighbour when enlarged (the pixels the net saw)."""
    p.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, rect.width() < image.width())
    p.drawImage(rect, image)


class FeatureGrid(QtWidgets.QWidget):
    """The ``channels`` most active channels of every level, each as a mosaic of its patches."""

    channel_clicked = QtCore.Signal(str, int)  # level, channel index

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.result: TopActivations | None = None
        self.channels = 8
        self.placeholder = ""
        self._mosaics: dict[tuple[str, int], QtGui.QImage] = {}
        self.setMinimumSize(240, 120)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Minimum)
        self.setMouseTracking(True)
        theme().changed.connect(self.update)

    def set_result(self, result: TopActivations | None, channels: int) -> None:
        """Show ``result`` (None: the placeholder), ``channels`` per level."""
        if result is not self.result:
            self._mosaics = {}
        self.result, self.channels = result, max(1, int(channels))
        self._fit_height()
        self.update()

    def shown(self, level: str) -> list[int]:
        """The channels shown for ``level``, most active first (dead ones last)."""
        if self.result is None:
            return []
        return [int(c) for c in self.result[level].ranked(self.channels)]

    # -- geometry ---------------------------------------------------------------------------

    def _line(self) -> int:
        return self.fontMetrics().height() + 2

    def _layout(self) -> tuple[int, int, int]:
        """(column width, cells per row, cell side)."""
        n = len(self.result.levels) if self.result is not None else 3
        col_w = max(1, self.width() // n)
        per_row = max(1, (col_w - _GAP) // (_MIN_CELL + _GAP))
        side = max(16, min(_MAX_CELL, (col_w - _GAP) // per_row - _GAP))
        return col_w, per_row, side

    def _fit_height(self) -> None:
        if self.result is None:
            self.setMinimumHeight(120)
            return
        _col_w, per_row, side = self._layout()
        rows = math.ceil(min(self.channels, max(lv.channels for lv in self.result.levels)) / per_row)
        self.setMinimumHeight(2 * self._line() + 4 + rows * (side + self._line() + _GAP))

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_height()

    def cells(self) -> list[tuple[str, int, QtCore.QRect]]:
        """Every cell drawn: (level, channel, where its mosaic is)."""
        if self.result is None:
            return []
        col_w, per_row, side = self._layout()
        top = 2 * self._line() + 4
        out = []
        for i, lv in enumerate(self.result.levels):
            x0 = i * col_w + (col_w - per_row * (side + _GAP) + _GAP) // 2
            for j, channel in enumerate(self.shown(lv.level)):
                r, c = divmod(j, per_row)
                out.append(
                    (
                        lv.level,
                        channel,
                        QtCore.QRect(x0 + c * (side + _GAP), top + r * (side + self._line() + _GAP), side, side),
                    )
                )
        return out

    def cell_at(self, pos: QtCore.QPointF) -> tuple[str, int] | None:
        for level, channel, rect in self.cells():
            if rect.adjusted(0, 0, 0, self._line()).contains(pos.toPoint()):
                return level, channel
        return None

    # -- drawing ----------------------------------------------------------------------------

    def _mosaic(self, lv: LevelTopActivations, channel: int) -> QtGui.QImage:
        key = (lv.level, channel)
        if key not in self._mosaics:
            from ...core.inspect.feature_figures import channel_mosaic

            self._mosaics[key] = qimage_from_rgb(channel_mosaic(lv, channel))
        return self._mosaics[key]

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        c = theme().colours
        p = QtGui.QPainter(self)
        p.fillRect(self.rect(), QtGui.QColor(c.plot_background))
        if self.result is None:
            draw_placeholder(p, self.rect().adjusted(8, 8, -8, -8), self.placeholder)
            p.end()
            return
        col_w, _per_row, _side = self._layout()
        line = self._line()
        fm = p.fontMetrics()
        for i, lv in enumerate(self.result.levels):
            dead = int(lv.dead.sum())
            field = f"field {lv.field.size}×{lv.field.size} px"
            if lv.cropped_to_image:
                field += f" (cut to the {lv.patches.shape[2]} px image)"
            head = [
                f"{lv.level} level · {lv.module}",
                f"{field} · {lv.channels} ch." + (f", {dead} constant zero" if dead else ""),
            ]
            for n, text in enumerate(head):
                p.setPen(QtGui.QColor(c.text if n == 0 else c.muted))
                p.drawText(
                    QtCore.QRect(i * col_w, n * line, col_w, line),
                    QtCore.Qt.AlignmentFlag.AlignCenter,
                    fm.elidedText(text, QtCore.Qt.TextElideMode.ElideRight, col_w - 4),
                )
        levels = {lv.level: lv for lv in self.result.levels}
        for level, channel, rect in self.cells():
            lv = levels[level]
            caption = QtCore.QRect(rect.x() - _GAP // 2, rect.bottom() + 1, rect.width() + _GAP, line)
            if lv.dead[channel]:
                p.setPen(QtGui.QPen(QtGui.QColor(c.muted), 1, QtCore.Qt.PenStyle.DashLine))
                p.drawRect(rect.adjusted(0, 0, -1, -1))
                p.drawText(
                    rect, QtCore.Qt.AlignmentFlag.AlignCenter | QtCore.Qt.TextFlag.TextWordWrap, "constant\nzero"
                )
                text = f"#{channel} · no patches"
            else:
                _draw_pixels(p, rect, self._mosaic(lv, channel))
                text = f"#{channel} · {float(lv.mean[channel]):.2g}"
            p.setPen(QtGui.QColor(c.text))
            p.drawText(
                caption,
                QtCore.Qt.AlignmentFlag.AlignCenter,
                fm.elidedText(text, QtCore.Qt.TextElideMode.ElideRight, caption.width()),
            )
        p.end()

    # -- interaction --------------------------------------------------------------------------

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:
        hit = self.cell_at(event.position())
        if hit is not None and event.button() == QtCore.Qt.MouseButton.LeftButton:
            self.channel_clicked.emit(*hit)
        super().mousePressEvent(event)

    def event(self, e: QtCore.QEvent) -> bool:
        if e.type() == QtCore.QEvent.Type.ToolTip and self.result is not None:
            hit = self.cell_at(QtCore.QPointF(e.pos()))
            if hit is not None:
                lv = self.result[hit[0]]
                ch = hit[1]
                if lv.dead[ch]:
                    text = (
                        f"{lv.module} channel {ch} is zero on every one of the {self.result.n_images:,} test "
                        "images and places (a dead ReLU unit): nothing excites it"
                    )
                else:
                    where = (
                        f"cut to the image: the {lv.field.size} px receptive field is larger than it, grey where "
                        "the field does not reach"
                        if lv.cropped_to_image
                        else "cropped to the unit's receptive field (grey: off the image)"
                    )
                    text = (
                        f"#{ch} · {float(lv.mean[ch]):.2g} under the mosaic: channel {ch} of {lv.module}, its mean "
                        f"activation over the test images. Strongest {float(lv.values[ch, 0]):.3g}. Its "
                        f"{int(lv.valid[ch].sum())} best test images, each {where}. Click to enlarge."
                    )
                QtWidgets.QToolTip.showText(e.globalPos(), text, self)
                return True
        return super().event(e)


class Patch:
    """One patch of the enlarged view: the crop, its activation, its source test image."""

    def __init__(self, rgb: np.ndarray, value: float, image: int) -> None:
        self.rgb, self.value, self.image = rgb, float(value), int(image)
        self.qimage = qimage_from_rgb(rgb)


class PatchGrid(QtWidgets.QWidget):
    """One channel's patches at full size (scaled to fit, square pixels), with captions."""

    patch_clicked = QtCore.Signal(int)  # the source test image's index

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.patches: list[Patch] = []
        self.placeholder = ""
        self.setMinimumSize(150, 120)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Expanding)
        theme().changed.connect(self.update)

    def set_patches(self, patches: list[Patch], placeholder: str = "") -> None:
        self.patches, self.placeholder = patches, placeholder
        self.update()

    def _pitch(self) -> tuple[int, int, int]:
        """(columns, column width, patch side): the number of columns that makes the patches
        largest in the widget's shape (a wide, low panel gets 5 x 2 rather than 3 x 3)."""
        n = max(1, len(self.patches))
        line = self.fontMetrics().height() + 2

        def fit(cols: int) -> tuple[int, int, int]:
            rows = math.ceil(n / cols)
            pitch = max(8, self.width() // cols)
            return cols, pitch, max(8, min(pitch - _GAP, (self.height() - _GAP) // rows - line - _GAP))

        return max((fit(cols) for cols in range(1, n + 1)), key=lambda f: (f[2], -f[0]))

    def cells(self) -> list[QtCore.QRect]:
        """Where each patch is drawn."""
        cols, pitch, side = self._pitch()
        line = self.fontMetrics().height() + 2
        return [
            QtCore.QRect(
                (i % cols) * pitch + (pitch - side) // 2, (i // cols) * (side + line + _GAP) + _GAP // 2, side, side
            )
            for i in range(len(self.patches))
        ]

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        c = theme().colours
        p = QtGui.QPainter(self)
        p.fillRect(self.rect(), QtGui.QColor(c.plot_background))
        if not self.patches:
            draw_placeholder(p, self.rect().adjusted(8, 8, -8, -8), self.placeholder)
            p.end()
            return
        line = p.fontMetrics().height() + 2
        _cols, pitch, _side = self._pitch()
        for patch, rect in zip(self.patches, self.cells(), strict=False):
            _draw_pixels(p, rect, patch.qimage)
            p.setPen(QtGui.QColor(c.text))
            # A few pixels apart, so neighbouring captions never run into each other ("3.58 · #2153.50").
            caption = QtCore.QRect(rect.center().x() - pitch // 2 + 3, rect.bottom() + 1, pitch - 6, line)
            shorter = (
                f"{patch.value:.2f} · image {patch.image}",
                f"{patch.value:.2f} · #{patch.image}",
                f"{patch.value:.2f} #{patch.image}",
                f"{patch.value:.1f} #{patch.image}",
            )
            fits = [t for t in shorter if p.fontMetrics().horizontalAdvance(t) <= caption.width()]
            text = fits[0] if fits else shorter[-1]  # the tooltip says it in full
            text = p.fontMetrics().elidedText(text, QtCore.Qt.TextElideMode.ElideRight, caption.width())
            p.drawText(caption, QtCore.Qt.AlignmentFlag.AlignCenter, text)
        p.end()

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:
        for patch, rect in zip(self.patches, self.cells(), strict=False):
            if rect.contains(event.position().toPoint()) and event.button() == QtCore.Qt.MouseButton.LeftButton:
                self.patch_clicked.emit(patch.image)
        super().mousePressEvent(event)

    def event(self, e: QtCore.QEvent) -> bool:
        if e.type() == QtCore.QEvent.Type.ToolTip:
            for patch, rect in zip(self.patches, self.cells(), strict=False):
                if rect.contains(e.pos()):
                    QtWidgets.QToolTip.showText(
                        e.globalPos(),
                        f"activation {patch.value:.3g} in test image {patch.image}: click to show that image",
                        self,
                    )
                    return True
        return super().event(e)
