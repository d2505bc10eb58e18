"""The lesion study (Veit, Wilber and Belongie 2016, arXiv:1605.06431) as a live bar chart.

For every block in depth order: the test error with its residual branch deleted and with
its shortcut removed, beside the intact net's error (a dashed line). In a residual net
most single deletions barely move the error, the ensemble-of-paths view of that paper;
removing a shortcut (or lesioning a plain net) does not forgive. Downsampling blocks
start a new stage and are marked by dotted lines, as in ``resviz lesion --out``.
The study runs in the session's lesion thread with a progress bar and Cancel; the
result exports as CSV (the rows of ``resviz lesion``), PNG and SVG.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from ...core.errors import ResvizError
from ...core.inspect.subset import describe_class_counts
from ...core.outputs import write_text_atomic
from .. import settings
from ..export import ask_export_path, export_plot
from ..plots.base import PlotPanel, stage_ticks, text_size
from ..runs import RunsModel
from ..theme import theme
from .session import InspectSession
from .surgery_strip import level_colour, short_name

if TYPE_CHECKING:
    from ...core.inspect import LesionResult

__all__ = ["LesionChart", "LesionPanel", "DEFAULT_LIMIT"]

#: Test images per study (issue 5: the benchmark's 1,000 images of CIFAR-10).
DEFAULT_LIMIT = 1000
_TITLE = "Test error with one block lesioned (block: stage.index, ↓ downsamples)"


class LesionChart(PlotPanel):
    """Two bars per block and the intact error as a line; restyled with the theme.

    A :class:`~resviz.gui.plots.base.PlotPanel` over an empty runs model: it shows no
    runs, but shares the panels' look, theming and export names.
    """

    def __init__(self, session: InspectSession, parent=None) -> None:
        super().__init__(RunsModel(), parent)
        self.session = session
        # No bottom label: the ticks name the blocks ("2.0 ↓"), the title says what is plotted.
        self.plot = self.add_plot("lesion_study", _TITLE, row=0, left="test error (%)")
        self.plot.setMouseEnabled(x=False, y=True)
        # The legend sits in a row of its own under the plot: inside, it would hide bars.
        self.legend = pg.LegendItem(colCount=3, labelTextSize=text_size(), horSpacing=24, verSpacing=-6)
        self.legend.layout.setContentsMargins(4, 0, 4, 0)
        self.addItem(self.legend, row=1, col=0)
        self._legends.append(self.legend)
        self._level_labels: list[pg.TextItem] = []
        self.residual_bars = pg.BarGraphItem(x=[], height=[], width=0.4)
        self.shortcut_bars = pg.BarGraphItem(x=[], height=[], width=0.4)
        self.intact = pg.InfiniteLine(angle=0, movable=False)
        self.plot.addItem(self.residual_bars)
        self.plot.addItem(self.shortcut_bars)
        self.plot.addItem(self.intact, ignoreBounds=False)
        self.intact.setVisible(False)
        self.hint = pg.TextItem(
            "Run the lesion study to see each block's residual branch deleted\n"
            "and its shortcut removed, one block at a time",
            anchor=(0.5, 0.5),
        )
        self.plot.addItem(self.hint, ignoreBounds=True)
        self._separators: list[pg.InfiniteLine] = []
        self.setMinimumSize(300, 150)
        session.study.changed.connect(self.redraw)
        self.attach_existing()

    def _on_theme_changed(self) -> None:
        super()._on_theme_changed()
        self.legend.setPen(None)  # a row of its own under the plot: no frame needed
        self.legend.setBrush(None)

    def _draw_current(self, _run) -> None:  # PlotPanel's hook: draw the session's result
        self.show_result(self.session.study.result, stale=self.session.study.stale)

    def show_result(self, result: LesionResult | None, *, stale: bool = False) -> None:
        """Draw ``result`` (a LesionResult; None clears the chart)."""
        for item in (*self._separators, *self._level_labels):
            self.plot.removeItem(item)
        self._separators, self._level_labels = [], []
        self.legend.clear()
        if result is None or not result.blocks:
            self.residual_bars.setOpts(x=[], height=[])
            self.shortcut_bars.setOpts(x=[], height=[])
            self.intact.setVisible(False)
            self.legend.setVisible(False)
            self.set_title("lesion_study", _TITLE)
            # An empty chart shows a hint, not axes numbered 0 to 1.
            for side in ("bottom", "left"):
                self.plot.getAxis(side).setTicks([[], []])
            self.plot.setXRange(0, 1, padding=0)
            self.plot.setYRange(0, 1, padding=0)
            self.hint.setColor(theme().colours.muted)
            self.hint.setPos(0.5, 0.5)
            self.hint.setVisible(True)
            return
        self.hint.setVisible(False)
        self.plot.getAxis("left").setTicks(None)
        c = theme().colours
        residual_colour, shortcut_colour = theme().run_colour(0), theme().run_colour(1)
        x = np.arange(len(result.blocks), dtype=float)
        self.residual_bars.setOpts(
            x=x - 0.2,
            height=np.asarray(result.residual_error),
            width=0.4,
            brush=residual_colour,
            pen=pg.mkPen(residual_colour),
        )
        self.shortcut_bars.setOpts(
            x=x + 0.2,
            height=np.asarray(result.shortcut_error),
            width=0.4,
            brush=shortcut_colour,
            pen=pg.mkPen(shortcut_colour),
        )
        pen = pg.mkPen(c.plot_foreground, width=1.5, style=QtCore.Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self.intact.setPen(pen)
        self.intact.setPos(result.intact_error)
        self.intact.setVisible(True)
        self.legend.addItem(self.residual_bars, "residual branch deleted")
        self.legend.addItem(self.shortcut_bars, "shortcut removed")
        self.legend.addItem(pg.PlotDataItem(pen=pen), f"intact net ({result.intact_error:.1f} %)")
        self.legend.setVisible(True)
        muted = pg.mkPen(c.muted, style=QtCore.Qt.PenStyle.DotLine)
        for b in result.blocks:
            if b.downsamples and b.index > 0:  # a new stage: maps halve, widths double
                line = pg.InfiniteLine(pos=b.index - 0.5, angle=90, pen=muted, movable=False)
                self.plot.addItem(line, ignoreBounds=True)
                self._separators.append(line)
        names = [b.name for b in result.blocks]
        # Every block by its short name (pyqtgraph drops labels that would overlap).
        self.plot.getAxis("bottom").setTicks([[(float(b.index), short_name(b)) for b in result.blocks], []])
        highest = max([result.intact_error, *result.residual_error, *result.shortcut_error])
        top = max(5.0, 1.25 * highest)  # headroom for the level names over the bars
        self.plot.setXRange(-0.7, len(names) - 0.3, padding=0)
        self.plot.setYRange(0, top, padding=0)
        levels = {b.name.split(".")[0]: b.level for b in result.blocks}
        for x_mid, stage in stage_ticks(names):  # the level of each stage, over its bars
            label = pg.TextItem(levels.get(stage, stage), color=level_colour(levels.get(stage, "")), anchor=(0.5, 0))
            label.setPos(x_mid, top)
            self.plot.addItem(label, ignoreBounds=True)
            self._level_labels.append(label)
        note = " — the switches changed since: run it again" if stale else ""
        self.set_title(
            "lesion_study",
            f"Test error of {result.arch} with one block lesioned, {result.n_images:,} test images "
            f"({describe_class_counts(result.class_counts, short=True)}){note}",
        )


class LesionPanel(QtWidgets.QWidget):
    """Run / Cancel, the image limit, progress, the chart, and Export."""

    def __init__(self, session: InspectSession, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setObjectName("lesion_panel")
        self.chart = LesionChart(session)
        self.run = QtWidgets.QPushButton("Run lesion study")
        self._run_tip = (
            "Test error with each block's residual branch deleted, and with each shortcut "
            "removed, one block at a time (Veit et al. 2016) (Ctrl+Shift+L)"
        )
        self.run.setToolTip(self._run_tip)
        self.cancel = QtWidgets.QPushButton("Cancel")
        self.cancel.setToolTip("Stop the lesion study after the block it is on")
        self.limit = QtWidgets.QSpinBox()
        self.limit.setRange(10, 1_000_000)
        self.limit.setSingleStep(100)
        self.limit.setValue(settings.value("inspect/lesion_limit", DEFAULT_LIMIT))
        self.limit.setSuffix(" images")
        self.limit.setToolTip("How many test images the study uses: a fixed subset with each class in its share")
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setToolTip("Lesions evaluated so far")
        self.export = QtWidgets.QPushButton("Export…")
        self.export.setToolTip("Save the result as CSV (one row per block), or the chart as PNG or SVG")
        bar = QtWidgets.QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        for w in (self.run, self.cancel, self.limit, self.progress, self.export):
            bar.addWidget(w, 1 if w is self.progress else 0)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.chart, 1)
        self.run.clicked.connect(self._on_run)
        self.cancel.clicked.connect(session.study.cancel)
        self.export.clicked.connect(self._on_export)
        self.limit.valueChanged.connect(lambda v: settings.settings().setValue("inspect/lesion_limit", v))
        session.study.changed.connect(self._update)
        session.study.progress.connect(self._on_progress)
        session.model_changed.connect(self._update)
        session.data_changed.connect(self._update)
        self._update()

    def _on_run(self) -> None:
        self.progress.setValue(0)
        self.session.run_lesion(self.limit.value())

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setValue(int(1000 * done / max(total, 1)))
        self.progress.setFormat(f"{100 * done / max(total, 1):.0f} %")

    def _update(self) -> None:
        s, study = self.session, self.session.study
        running = study.running
        ready = s.loaded is not None and s.data is not None
        fits = ready and len(s.loaded.classes) == len(s.data.classes)
        self.run.setEnabled(fits and not running)
        if ready and not fits:
            self.run.setToolTip(
                f"The net has {len(s.loaded.classes)} classes and {s.data.name} {len(s.data.classes)}: choose the "
                "test images it was trained on (Gallery > Test images)"
            )
        else:
            self.run.setToolTip(self._run_tip)
        self.cancel.setEnabled(running)
        self.limit.setEnabled(not running)
        self.export.setEnabled(study.result is not None)
        self.progress.setVisible(running or study.result is not None)
        if not running and study.result is not None:
            self.progress.setValue(1000)
            self.progress.setFormat(f"{study.result.n_images:,} images, {study.result.seconds:.1f} s")
        elif not running:
            self.progress.setValue(0)
        if s.data is not None:
            self.limit.setToolTip(f"How many of the {len(s.data.test):,} test images of {s.data.name} the study uses")

    def export_to(self, path: str | Path) -> Path:
        """Save the result: ``.csv`` (one row per block), ``.png`` or ``.svg`` (the chart)."""
        result = self.session.study.result
        if result is None:
            raise ResvizError("run the lesion study first: there is nothing to export yet")
        path = Path(path)
        if path.suffix.lower() not in (".csv", ".png", ".svg"):
            raise ResvizError(
                f"export the lesion study as .csv, .png or .svg, not {path.suffix or 'a name without one'}"
            )
        if path.suffix.lower() == ".csv":
            try:
                write_text_atomic(path, result.to_csv())
            except OSError as exc:
                raise ResvizError(f"cannot write {path}: {exc.strerror or exc}; choose another folder") from exc
            return path
        return export_plot(self.chart.plot, path)

    def _on_export(self) -> None:
        result = self.session.study.result
        if result is None:
            return
        path = ask_export_path(
            self,
            "Export the lesion study",
            f"lesion-{result.arch}.csv",
            "CSV (*.csv);;PNG image (*.png);;SVG drawing (*.svg)",
        )
        if path is None:
            return
        try:
            written = self.export_to(path)
        except ResvizError as exc:
            self.session.problem.emit("Export failed", str(exc))
            return
        self.session.message.emit(f"saved the lesion study to {written}")
