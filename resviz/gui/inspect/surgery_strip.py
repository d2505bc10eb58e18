"""The block strip: every residual block in depth order, each with two switches.

**S** is the block's shortcut (off: the block becomes ``relu(F(x))``, its plain
counterpart); **F** is its residual branch (off: ``F := 0``, only the shortcut is left,
the lesion of Veit et al. 2016, arXiv:1605.06431). A coloured band gives the block's
level (low / mid / high), and ``↓`` marks the blocks that downsample. Predictions,
activations and attributions follow every click (the session re-runs them); Reset puts
every switch back as loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6 import QtCore, QtGui, QtWidgets

from ...core.archs import LEVELS
from ..theme import theme
from .session import InspectSession

if TYPE_CHECKING:
    from ...core.inspect import BlockInfo

__all__ = ["BlockStrip", "BlockCell", "level_colour", "short_name"]


def level_colour(level: str) -> QtGui.QColor:
    """The colour of a level: the first three of the theme's Okabe-Ito colours, which stay
    distinguishable for the common colour-vision deficiencies."""
    i = LEVELS.index(level) if level in LEVELS else 0
    return theme().run_colour(i)


def short_name(info) -> str:
    """``layer2.0`` -> ``2.0 ↓``: stage and block, and the mark of a downsampling block."""
    stage, _, index = info.name.partition(".")
    return f"{stage.removeprefix('layer')}.{index}" + (" ↓" if info.downsamples else "")


class BlockCell(QtWidgets.QFrame):
    """One block: its level band, its short name, the shortcut and residual switches."""

    def __init__(self, info: BlockInfo, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.info = info
        self.setObjectName("block_cell")
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        self.band = QtWidgets.QFrame()
        self.band.setFixedHeight(4)
        self.label = QtWidgets.QLabel(short_name(info))
        self.label.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.shortcut = self._toggle("S")
        self.residual = self._toggle("F")
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(1, 1, 1, 1)
        layout.setSpacing(1)
        layout.addWidget(self.band)
        layout.addWidget(self.label)
        layout.addWidget(self.shortcut)
        layout.addWidget(self.residual)
        where = f"{info.name}, {info.level} level" + (
            ", downsamples (its shortcut changes map size and width)" if info.downsamples else ""
        )
        self.setToolTip(where)
        self.label.setToolTip(where)
        self.set_info(info)

    def _toggle(self, text: str) -> QtWidgets.QToolButton:
        button = QtWidgets.QToolButton()
        button.setText(text)
        button.setCheckable(True)
        button.setAutoRaise(False)
        button.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed)
        return button

    def set_info(self, info: BlockInfo) -> None:
        """Show the switches as they are now (without emitting clicks)."""
        self.info = info
        for button, on in ((self.shortcut, info.shortcut_on), (self.residual, info.residual_on)):
            button.blockSignals(True)
            button.setChecked(on)
            button.blockSignals(False)
        self.shortcut.setToolTip(
            f"{info.name}: shortcut {'on' if info.shortcut_on else 'OFF (the block is plain: relu(F(x)))'}. "
            "Click to switch it " + ("off" if info.shortcut_on else "on")
        )
        self.residual.setToolTip(
            f"{info.name}: residual branch F(x) {'kept' if info.residual_on else 'DELETED (only the shortcut is left)'}. "
            "Click to " + ("delete it" if info.residual_on else "restore it")
        )
        self.restyle()

    def restyle(self) -> None:
        colour = level_colour(self.info.level)
        self.band.setStyleSheet(f"background-color: {colour.name()}; border: none;")


class BlockStrip(QtWidgets.QWidget):
    """The blocks in a scrollable row, with Reset and a count of changed switches."""

    def __init__(self, session: InspectSession, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setObjectName("block_strip")
        self.cells: list[BlockCell] = []
        self.row = QtWidgets.QHBoxLayout()
        self.row.setContentsMargins(0, 0, 0, 0)
        self.row.setSpacing(2)
        inner = QtWidgets.QWidget()
        inner.setLayout(self.row)
        self.scroll = QtWidgets.QScrollArea()
        self.scroll.setWidget(inner)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.scroll.setVerticalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.empty = QtWidgets.QLabel("the blocks of the loaded net appear here")
        self.row.addWidget(self.empty)
        self.row.addStretch(1)
        self.reset = QtWidgets.QPushButton("Reset")
        self.reset.setToolTip("Every shortcut and residual branch back as the net was loaded (Ctrl+Shift+Z)")
        self.reset.setShortcut(QtGui.QKeySequence("Ctrl+Shift+Z"))
        self.reset.clicked.connect(session.reset_switches)
        self.changed = QtWidgets.QLabel()
        self.changed.setToolTip("How many switches differ from the net as loaded")
        legend = QtWidgets.QLabel()
        # Clipped rather than widening the window when narrow (the tooltip says it all).
        legend.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        legend.setMinimumWidth(0)
        legend.setToolTip(
            "S: a block's shortcut (click to switch it off or on). F: its residual branch F(x) "
            "(click to delete or restore it). ↓: the block downsamples. The band: its level"
        )
        self.legend = legend
        header = QtWidgets.QHBoxLayout()
        header.setSpacing(12)
        header.addWidget(QtWidgets.QLabel("<b>Shortcut surgery</b>"))
        header.addWidget(legend, 1)
        header.addWidget(self.changed)
        header.addWidget(self.reset)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(2)
        layout.addLayout(header)
        layout.addWidget(self.scroll, 1)
        session.model_changed.connect(self._rebuild)
        session.blocks_changed.connect(self._sync)
        theme().changed.connect(self._on_theme)
        self._on_theme()
        self._rebuild()

    def _rebuild(self) -> None:
        """New cells when the net changes (its number of blocks may differ)."""
        blocks = self.session.blocks
        if [c.info.name for c in self.cells] == [b.name for b in blocks]:
            self._sync()
            return
        for cell in self.cells:
            self.row.removeWidget(cell)
            cell.deleteLater()
        self.cells = []
        for info in blocks:
            cell = BlockCell(info)
            cell.shortcut.toggled.connect(lambda on, i=info.index: self.session.set_shortcut(i, on))
            cell.residual.toggled.connect(lambda on, i=info.index: self.session.set_residual(i, on))
            self.row.insertWidget(self.row.count() - 1, cell)
            self.cells.append(cell)
        self.empty.setVisible(not blocks)
        self._sync()

    def _sync(self) -> None:
        for cell, info in zip(self.cells, self.session.blocks, strict=True):
            cell.set_info(info)
        n = self.session.switches_changed()
        self.changed.setText(f"{n} switch{'es' if n != 1 else ''} changed" if n else "as loaded")
        self.reset.setEnabled(n > 0)

    def _on_theme(self) -> None:
        c = theme().colours
        # On is the normal state and looks plain; a switch that is off is struck through in
        # the error colour, so a lesioned net is obvious at a glance.
        self.setStyleSheet(
            f"QToolButton {{ padding: 1px 2px; }}"
            f"QToolButton:checked {{ background-color: {c.button}; color: {c.text}; text-decoration: none; }}"
            f"QToolButton:!checked {{ background-color: {c.base}; color: {c.error}; text-decoration: line-through; }}"
        )
        self.legend.setText(
            "<b>S</b> shortcut · <b>F</b> residual branch F(x) · ↓ downsamples · "
            + " ".join(f"<span style='color:{level_colour(lvl).name()}'>■</span> {lvl}" for lvl in LEVELS)
        )
        for cell in self.cells:
            cell.restyle()
