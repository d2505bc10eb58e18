"""The top-5 predictions as labelled bars; a click makes a class the attribution target.

The bar of the class the attributions are for is outlined, so it is always clear whose
evidence the heatmaps show (issue 5: "target class, default top-1").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6 import QtCore, QtGui, QtWidgets

from ..theme import theme
from .session import InspectSession

if TYPE_CHECKING:
    from ...core.inspect import Prediction

__all__ = ["PredictionBars"]


class PredictionBars(QtWidgets.QWidget):
    """One row per predicted class: its name, a bar as long as its probability, the percent."""

    ROWS = 5

    def __init__(self, session: InspectSession, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setObjectName("predictions")
        row = self.fontMetrics().height() + 8
        self.setMinimumHeight(self.ROWS * row + 4)
        self.setMinimumWidth(180)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed)
        self.setMouseTracking(True)
        self.setToolTip("The net's five most probable classes (softmax). Click one to attribute to that class.")
        session.look_changed.connect(self.update)
        session.settings_changed.connect(self.update)
        session.model_changed.connect(self.update)
        theme().changed.connect(self.update)

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(260, self.minimumHeight())

    def _row_height(self) -> int:
        return self.fontMetrics().height() + 8

    def predictions(self) -> list[Prediction]:
        look = self.session.look
        return [] if look is None else list(look.predictions[: self.ROWS])

    def row_at(self, y: float) -> int | None:
        i = int(y // self._row_height())
        return i if 0 <= i < len(self.predictions()) else None

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        c = theme().colours
        p = QtGui.QPainter(self)
        preds = self.predictions()
        if not preds:
            p.setPen(QtGui.QColor(c.muted))
            text = "predictions appear here" if self.session.loaded is not None else "load a model first"
            p.drawText(self.rect(), QtCore.Qt.AlignmentFlag.AlignCenter, text)
            p.end()
            return
        fm = p.fontMetrics()
        h = self._row_height()
        name_w = min(max(fm.horizontalAdvance(pr.name) for pr in preds) + 8, int(self.width() * 0.45))
        pct_w = fm.horizontalAdvance("100.0 %") + 6
        bar_w = max(10, self.width() - name_w - pct_w - 8)
        target = self.session.target_index
        for i, pr in enumerate(preds):
            y = i * h
            p.setPen(QtGui.QColor(c.text))
            name = fm.elidedText(pr.name, QtCore.Qt.TextElideMode.ElideRight, name_w - 6)
            p.drawText(
                QtCore.QRect(2, y, name_w - 6, h),
                QtCore.Qt.AlignmentFlag.AlignVCenter | QtCore.Qt.AlignmentFlag.AlignRight,
                name,
            )
            track = QtCore.QRect(name_w, y + 3, bar_w, h - 6)
            p.fillRect(track, QtGui.QColor(c.alt_base))
            fill = QtCore.QRect(track.x(), track.y(), max(1, int(bar_w * pr.probability)), track.height())
            colour = QtGui.QColor(c.highlight if i == 0 else c.muted)
            p.fillRect(fill, colour)
            if pr.index == target:
                p.setPen(QtGui.QPen(QtGui.QColor(c.text), 1.5))
                p.drawRect(track.adjusted(0, 0, -1, -1))
            p.setPen(QtGui.QColor(c.text))
            p.drawText(
                QtCore.QRect(name_w + bar_w + 4, y, pct_w, h),
                QtCore.Qt.AlignmentFlag.AlignVCenter,
                f"{100 * pr.probability:.1f} %",
            )
        p.end()

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:
        i = self.row_at(event.position().y())
        if i is not None and event.button() == QtCore.Qt.MouseButton.LeftButton:
            pr = self.predictions()[i]
            # Clicking the top-1 class goes back to following the top-1 (the default).
            self.session.set_target(None if i == 0 else pr.index)
        super().mousePressEvent(event)

    def event(self, e: QtCore.QEvent) -> bool:
        if e.type() == QtCore.QEvent.Type.ToolTip:
            i = self.row_at(e.pos().y())
            if i is not None:
                pr = self.predictions()[i]
                QtWidgets.QToolTip.showText(
                    e.globalPos(),
                    f"{pr.name} (class {pr.index}): {100 * pr.probability:.2f} %. Click to show the evidence for it.",
                    self,
                )
                return True
        return super().event(e)
