"""The "Train" tab: the settings on the left, four live plot panels on the right.

The panels sit in splitters (resizable, remembered): curves top-left where the eye
lands first, residual ratios beside them, response stds and gradient norms below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from .controls import TrainControls
from .plots import CurvesPanel, GradientsPanel, PlotPanel, ResidualsPanel, ResponsePanel

if TYPE_CHECKING:
    from .main_window import MainWindow

__all__ = ["TrainTab"]


class TrainTab(QtWidgets.QWidget):
    """Controls + live plots over the window's runs."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.setObjectName("train_tab")
        runs = window.runs
        self.controls = TrainControls(window.actions)
        self.curves = CurvesPanel(runs)
        self.residuals = ResidualsPanel(runs)
        self.responses = ResponsePanel(runs)
        self.gradients = GradientsPanel(runs)
        self.panels: dict[str, PlotPanel] = {
            "curves": self.curves,
            "residuals": self.residuals,
            "responses": self.responses,
            "gradients": self.gradients,
        }
        scroll = QtWidgets.QScrollArea()
        scroll.setWidget(self.controls)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(self.controls.sizeHint().width() + 16)
        self.top = _splitter(QtCore.Qt.Orientation.Horizontal, self.curves, self.residuals)
        self.bottom = _splitter(QtCore.Qt.Orientation.Horizontal, self.responses, self.gradients)
        self.grid = _splitter(QtCore.Qt.Orientation.Vertical, self.top, self.bottom)
        self.main = _splitter(QtCore.Qt.Orientation.Horizontal, scroll, self.grid)
        self.main.setStretchFactor(0, 0)
        self.main.setStretchFactor(1, 1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.main)

    def plots(self) -> dict[str, pg.PlotItem]:
        """Every plot of the tab by export name (``error``, ``residual_ratio`` ...)."""
        out: dict[str, pg.PlotItem] = {}
        for panel in self.panels.values():
            out.update(panel.plots)
        return out

    def splitters(self) -> dict[str, QtWidgets.QSplitter]:
        """The splitters whose sizes the window remembers."""
        return {"main": self.main, "grid": self.grid, "top": self.top, "bottom": self.bottom}


def _splitter(orientation: QtCore.Qt.Orientation, *widgets: QtWidgets.QWidget) -> QtWidgets.QSplitter:
    splitter = QtWidgets.QSplitter(orientation)
    splitter.setChildrenCollapsible(False)
    for w in widgets:
        splitter.addWidget(w)
    return splitter
