"""Activations at the low, mid and high levels: the most active channels as small maps.

Each level's output (the stage that makes it; DESIGN.md "one mapping per architecture")
is shown as a grid of its most active channels, ranked by mean activation as the core
returns them; each map is scaled to its own range so its structure shows whatever its
strength (the strength is in the tooltip and the enlarged view). Clicking a channel
shows it large beside the grids, and the neuron view (:mod:`.neuron_view`) attributes that
channel to the image's pixels; "What it sees" opens the channel in the feature grid.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from ...core.archs import LEVELS
from ..theme import theme
from .canvas import ImageCanvas, apply_lut, colour_lut, qimage_from_rgb
from .neuron_view import NeuronView
from .session import InspectSession

if TYPE_CHECKING:
    from ...core.inspect import LevelActivations

__all__ = ["ActivationsView", "ChannelGrid", "channel_rgb"]

#: Activations are magnitudes (after a ReLU): a sequential map, not the heatmaps' choice.
ACTIVATION_CMAP = "viridis"


def channel_rgb(activation: np.ndarray) -> np.ndarray:
    """One channel's map (h x w) scaled to its own min..max and coloured: h x w x 3 uint8."""
    a = np.nan_to_num(np.asarray(activation, dtype=np.float64))
    lo, hi = float(a.min(initial=0.0)), float(a.max(initial=0.0))
    scaled = (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
    return apply_lut(scaled, colour_lut(ACTIVATION_CMAP))


class ChannelGrid(QtWidgets.QWidget):
    """A level's most active channels in a square-ish grid; emits the clicked one."""

    channel_clicked = QtCore.Signal(str, int)  # level, position in the ranking

    def __init__(self, level: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.level = level
        self.activations: LevelActivations | None = None
        self._tiles: list[QtGui.QImage] = []
        self.selected: int | None = None
        self.setMinimumSize(80, 90)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Expanding)
        theme().changed.connect(self.update)

    def set_activations(self, activations: LevelActivations | None) -> None:
        self.activations = activations
        self._tiles = [] if activations is None else [qimage_from_rgb(channel_rgb(m)) for m in activations.maps]
        if self.selected is not None and self.selected >= len(self._tiles):
            self.selected = None
        self.update()

    def title(self) -> str:
        a = self.activations
        if a is None:
            return f"{self.level} level"
        return f"{self.level} · top {len(a.channels)} of {a.total_channels}"

    def _grid(self) -> tuple[int, int, int, QtCore.QRect]:
        """(columns, rows, cell side, area) for the tiles."""
        n = max(1, len(self._tiles))
        cols = math.ceil(math.sqrt(n))
        rows = math.ceil(n / cols)
        title_h = self.fontMetrics().height() + 4
        area = self.rect().adjusted(2, title_h, -2, -2)
        side = max(4, min(area.width() // cols, area.height() // rows))
        return cols, rows, side, area

    def cell_at(self, pos: QtCore.QPointF) -> int | None:
        cols, rows, side, area = self._grid()
        x0 = area.x() + (area.width() - cols * side) // 2
        col, row = int((pos.x() - x0) // side), int((pos.y() - area.y()) // side)
        if not (0 <= col < cols and 0 <= row < rows) or pos.x() < x0:
            return None
        i = row * cols + col
        return i if i < len(self._tiles) else None

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        c = theme().colours
        p = QtGui.QPainter(self)
        p.fillRect(self.rect(), QtGui.QColor(c.plot_background))
        p.setPen(QtGui.QColor(c.text))
        title_h = self.fontMetrics().height() + 4
        title = p.fontMetrics().elidedText(self.title(), QtCore.Qt.TextElideMode.ElideRight, self.width() - 4)
        p.drawText(QtCore.QRect(0, 0, self.width(), title_h), QtCore.Qt.AlignmentFlag.AlignCenter, title)
        if not self._tiles:
            p.setPen(QtGui.QColor(c.muted))
            p.drawText(self.rect(), QtCore.Qt.AlignmentFlag.AlignCenter, "channels appear here")
            p.end()
            return
        cols, _rows, side, area = self._grid()
        x0 = area.x() + (area.width() - cols * side) // 2
        p.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, False)
        for i, tile in enumerate(self._tiles):
            r, col = divmod(i, cols)
            cell = QtCore.QRect(x0 + col * side + 1, area.y() + r * side + 1, side - 2, side - 2)
            p.drawImage(cell, tile)
            if i == self.selected:
                p.setPen(QtGui.QPen(QtGui.QColor(c.highlight), 2))
                p.drawRect(cell.adjusted(-1, -1, 0, 0))
        p.end()

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:
        i = self.cell_at(event.position())
        if i is not None and event.button() == QtCore.Qt.MouseButton.LeftButton:
            self.selected = i
            self.update()
            self.channel_clicked.emit(self.level, i)
        super().mousePressEvent(event)

    def event(self, e: QtCore.QEvent) -> bool:
        if e.type() == QtCore.QEvent.Type.ToolTip and self.activations is not None:
            i = self.cell_at(QtCore.QPointF(e.pos()))
            if i is not None:
                a = self.activations
                QtWidgets.QToolTip.showText(
                    e.globalPos(),
                    f"{a.module} channel {int(a.channels[i])}: mean activation {float(a.means[i]):.3g} "
                    f"(rank {i + 1} of {a.total_channels}). Click to enlarge.",
                    self,
                )
                return True
        return super().event(e)


class ActivationsView(QtWidgets.QWidget):
    """Three channel grids (low, mid, high), the enlarged channel and its neuron view."""

    #: "What it sees" was clicked for (level, channel).
    see_features = QtCore.Signal(str, int)

    def __init__(self, session: InspectSession, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setObjectName("activations")
        self.grids = {level: ChannelGrid(level) for level in LEVELS}
        self.enlarged = ImageCanvas("click a channel to enlarge it", min_side=64)
        self.enlarged.setToolTip("The channel you clicked, large (scaled to its own range, viridis)")
        self.neuron = NeuronView(session, min_side=64)
        self.what_it_sees = QtWidgets.QPushButton("What it sees →")
        self.what_it_sees.setToolTip(
            "The test images where this channel responds most, cropped to its receptive "
            "field (the tab 'What a channel sees')"
        )
        self.what_it_sees.setEnabled(False)
        self.what_it_sees.clicked.connect(self._on_what_it_sees)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        for level, grid in self.grids.items():
            grid.setToolTip(
                f"The most active channels of the {level}-level output (the stage that makes it), most active "
                "first; each scaled to its own range. Click one to enlarge it and see what in the image drives it."
            )
            grid.channel_clicked.connect(self.enlarge)
            layout.addWidget(grid, 1)
        picked = QtWidgets.QVBoxLayout()
        picked.setContentsMargins(0, 0, 0, 0)
        picked.setSpacing(2)
        picked.addWidget(self.enlarged, 1)
        picked.addWidget(self.what_it_sees)
        layout.addLayout(picked, 1)
        layout.addWidget(self.neuron, 1)
        session.look_changed.connect(self._on_look)
        session.neuron_changed.connect(self._draw_picked)

    def _on_look(self) -> None:
        look = self.session.look
        for level, grid in self.grids.items():
            grid.set_activations(None if look is None else look.activations.get(level))
        self._draw_picked()

    def _draw_picked(self) -> None:
        """The picked channel large, when it is among the level's most active on this image."""
        look, picked = self.session.look, self.session.channel
        for grid in self.grids.values():
            grid.selected = None
            grid.update()
        if look is None or picked is None or picked[0] not in look.activations:
            self.enlarged.set_rgb(None, "")
            self.what_it_sees.setEnabled(picked is not None)
            return
        level, channel = picked
        a = look.activations[level]
        where = [i for i, c in enumerate(a.channels) if int(c) == channel]
        self.what_it_sees.setEnabled(True)
        if not where:
            self.enlarged.set_rgb(None, f"{a.module} ch. {channel}")
            self.enlarged.set_placeholder(f"ch. {channel} is not among this image's {len(a.channels)} most active")
            return
        position = where[0]
        self.grids[level].selected = position
        self.enlarged.set_rgb(
            channel_rgb(a.maps[position]),
            f"{a.module} ch. {channel} · mean {float(a.means[position]):.2g}",
        )

    def enlarge(self, level: str, position: int) -> None:
        """Show channel ``position`` (in the level's ranking) large, and attribute it."""
        look = self.session.look
        if look is None or level not in look.activations:
            return
        a = look.activations[level]
        if not 0 <= position < len(a.channels):
            return
        self.enlarged.set_placeholder("click a channel to enlarge it")
        self.session.pick_channel(level, int(a.channels[position]))
        self._draw_picked()

    def _on_what_it_sees(self) -> None:
        if self.session.channel is not None:
            self.see_features.emit(*self.session.channel)
