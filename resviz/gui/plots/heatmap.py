"""A per-block or per-layer metric over iterations as an image with a colour bar.

x is the iteration, y the block / layer in depth order, colour the value: where a deep
plain net's early layers stop receiving gradient shows up as a dark band at the bottom.
The image item is made once and updated with ``setImage(autoLevels=False)``; long runs
are averaged into at most :attr:`Heatmap.MAX_COLUMNS` columns, which is more than a
screen shows.
"""

from __future__ import annotations

import warnings

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from ..theme import theme

__all__ = ["Heatmap", "binned_columns", "robust_levels"]


def binned_columns(steps: np.ndarray, matrix: np.ndarray, max_columns: int) -> tuple[np.ndarray, np.ndarray]:
    """Average consecutive records so there are at most ``max_columns`` (NaN-aware)."""
    n = len(steps)
    if n <= max_columns:
        return steps, matrix
    per = -(-n // max_columns)  # ceil
    k = n // per
    head = matrix[: k * per].reshape(k, per, matrix.shape[1])
    with warnings.catch_warnings():
        # A block not measured in a whole bin is an all-NaN slice: NaN is the right answer.
        warnings.simplefilter("ignore", RuntimeWarning)
        binned = np.nanmean(head, axis=1)
    return steps[: k * per : per], binned


def robust_levels(values: np.ndarray) -> tuple[float, float]:
    """Colour limits from the 1st and 99th percentiles, so one spike does not wash out the rest."""
    finite = values[np.isfinite(values)]
    if not finite.size:
        return 0.0, 1.0
    lo, hi = np.percentile(finite, [1, 99])
    if hi <= lo:
        hi = lo + max(abs(lo) * 1e-3, 1e-6)
    return float(lo), float(hi)


class Heatmap:
    """An ImageItem + ColorBarItem inside ``plot``; :meth:`show` replaces the data."""

    MAX_COLUMNS = 1200

    def __init__(self, plot: pg.PlotItem, *, label: str, log: bool = False) -> None:
        self.plot = plot
        self.log = log
        self.image = pg.ImageItem(axisOrder="col-major")
        plot.addItem(self.image)
        self.bar = pg.ColorBarItem(
            values=(0, 1),
            colorMap=theme().colours.heatmap,
            label=label,
            interactive=False,
            width=12,
            colorMapMenu=False,
        )
        self.bar.setImageItem(self.image, insert_in=plot)
        self.levels = (0.0, 1.0)
        self.restyle()

    def clear(self) -> None:
        self.image.clear()

    def show(self, steps: np.ndarray, matrix: np.ndarray) -> None:
        """Draw ``matrix[record, index]`` against ``steps`` (log10 of it when ``log``)."""
        if len(steps) == 0 or matrix.size == 0:
            self.clear()
            return
        steps, data = binned_columns(steps, matrix, self.MAX_COLUMNS)
        if self.log:
            with np.errstate(divide="ignore", invalid="ignore"):
                data = np.log10(data)
            data[~np.isfinite(data)] = np.nan
        self.levels = robust_levels(data)
        self.image.setImage(data, autoLevels=False, levels=self.levels)
        self.bar.setLevels(self.levels)
        # Each column covers the steps up to the next record; the last one as wide as the one before.
        gap = float(steps[-1] - steps[-2]) if len(steps) > 1 else 1.0
        x0 = float(steps[0]) - gap
        width = float(steps[-1]) - x0
        self.image.setRect(QtCore.QRectF(x0, 0.0, max(width, 1.0), float(data.shape[1])))

    def restyle(self) -> None:
        """Colour the bar's axis for the current theme (the owning panel calls this)."""
        fg = pg.mkColor(theme().colours.plot_foreground)
        self.bar.axis.setPen(fg)
        self.bar.axis.setTextPen(fg)
