"""pyqtgraph items made to fit resviz's panels: titles that elide, readable log axes.

Both fix a way pyqtgraph's defaults fail in a window of four small panels: a long title
forces its plot wider than the panel (and the plot is clipped), and a log axis spanning
less than a decade labels every minor tick until the labels collide.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

__all__ = ["ElidedTitle", "LogAxis", "Plot"]


class LogAxis(pg.AxisItem):
    """A y axis whose log-mode labels stay readable: within one decade pyqtgraph labels
    every minor tick (0.006, 0.007, 0.008 ...) and they collide; keep 1, 2 and 5 only."""

    def logTickStrings(self, values, scale, spacing):
        strings = super().logTickStrings(values, scale, spacing)
        if len(values) <= 4:
            return strings
        mantissa = [round(10 ** (float(v) % 1), 3) for v in values]
        return [s if m in (1.0, 2.0, 5.0, 10.0) else "" for s, m in zip(strings, mantissa, strict=False)]


class ElidedTitle(pg.LabelItem):
    """A plot title that shortens itself ("Residual ratio |F(x)|/|x| — res…") when narrow.

    pyqtgraph's LabelItem makes its text's width the minimum width of the whole plot, so
    a long title in a narrow window pushes the plot out of its widget and clips it. This
    one has no minimum width and elides its text to the width it gets; while elided, its
    tooltip carries the whole title.
    """

    def __init__(self, *args, **kwargs) -> None:
        self._full_text = ""
        self._fitting = False
        super().__init__(*args, **kwargs)

    def setText(self, text: str, **args) -> None:
        if not self._fitting:
            self._full_text = text
        super().setText(text, **args)
        if not self._fitting:
            self._fit()

    def updateMin(self) -> None:
        super().updateMin()
        self.setMinimumWidth(0)

    def sizeHint(self, which, constraint=None):
        hint = super().sizeHint(which, QtCore.QSizeF() if constraint is None else constraint)
        if which == QtCore.Qt.SizeHint.MinimumSize:
            return QtCore.QSizeF(0, hint.height())
        return hint

    def resizeEvent(self, ev) -> None:
        if ev is not None and not self._fitting:
            self._fit()
        super().resizeEvent(ev)

    def _fit(self) -> None:
        """The longest prefix of the full text (plus "…") that fits; binary search."""
        avail = self.rect().width()
        full = self._full_text
        if avail <= 0 or not full:
            return
        self._fitting = True
        self.setToolTip("")
        try:
            super().setText(full)
            if self.itemRect().width() <= avail:
                return
            self.setToolTip(full)
            lo, hi = 0, len(full)
            while lo < hi:
                mid = (lo + hi + 1) // 2
                super().setText(full[:mid].rstrip() + "…")
                if self.itemRect().width() <= avail:
                    lo = mid
                else:
                    hi = mid - 1
            super().setText(full[:lo].rstrip() + "…")
        finally:
            self._fitting = False


class Plot(pg.PlotItem):
    """A PlotItem with an :class:`ElidedTitle` and a :class:`LogAxis` on the left."""

    #: The title an exported figure gets (the panel sets it: quantity and run names).
    export_title = None
    #: The legend an exported figure shows under the plot (the panel's legend row).
    export_legend = None

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("axisItems", {"left": LogAxis("left")})
        super().__init__(**kwargs)
        self.layout.removeItem(self.titleLabel)
        self.scene_remove(self.titleLabel)
        self.titleLabel = ElidedTitle("", size="11pt", parent=self)
        self.layout.addItem(self.titleLabel, 0, 1)
        self.setTitle(None)

    @staticmethod
    def scene_remove(item: QtWidgets.QGraphicsItem) -> None:
        item.setParentItem(None)
        if item.scene() is not None:
            item.scene().removeItem(item)
