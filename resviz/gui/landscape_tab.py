"""The "Landscape" tab: the training loss around the trained weights (Li et al. 2018).

For the net loaded in the Inspect tab and, with one click, its plain (or residual) twin from
the same comparison (:mod:`resviz.gui.twin`): the loss and error along one or two
filter-normalised random directions, 1D curves or 2D contour maps side by side on one
colour scale, as Li et al.'s Fig. 5 draws ResNet-56 with and without shortcuts. The sweep
uses the training split (the landscape is of the training loss), runs in a thread of its
own (:class:`~resviz.gui.inspect.landscape_study.LandscapeStudy`) with progress and Cancel,
and exports as PNG, SVG, CSV or JSON. Its own tab: two square maps need the width.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ..core.errors import ResvizError
from ..core.outputs import write_text_atomic
from . import settings
from .export import ask_export_path, export_plot
from .inspect.landscape_study import LandscapeSettings
from .landscape_plot import LandscapePlot
from .twin import TwinSearch, find_twin

if TYPE_CHECKING:
    from .inspect.session import InspectSession
    from .main_window import MainWindow

__all__ = ["LandscapeTab", "CAPTION"]

CAPTION = (
    "<b>Loss landscape</b> (Li et al. 2018): the training loss around the trained weights along "
    "filter-normalised random directions. Li et al. report that at 56 and 110 layers a residual net's "
    "surface stays smooth while its plain twin's turns chaotic (their Fig. 5), one face of the "
    "optimisation difficulty behind the degradation problem (He et al. 2016, section 4.1); at 20 layers "
    "the two look alike. The note below says what this sweep measured."
)
_NO_NET = "Load a net in the Inspect tab (a checkpoint of a run) to sweep its training loss."


def measured(landscapes) -> str:
    """What the sweep shows, measured the same way for each net: the share of grid points
    where the loss is not locally convex (:func:`resviz.core.landscape.nonconvex_share`)."""
    from ..core.landscape import nonconvex_share

    parts = []
    for r in landscapes:
        share = nonconvex_share(r.loss)
        parts.append(f"{r.name} {'n/a' if share != share else f'{100 * share:.0f}%'}")
    return (
        "This sweep: grid points where the loss curves downwards (not locally convex; 0% is a bowl): "
        + ", ".join(parts)
        + "."
    )


class LandscapeTab(QtWidgets.QWidget):
    """Settings, Sweep / Sweep with the twin / Cancel, progress, the maps, and Export."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.setObjectName("landscape_tab")
        self.main = window
        inspect = window.files_tab()
        if inspect is None:
            raise RuntimeError("the Landscape tab follows the Inspect tab's net: list it after the Inspect tab")
        self.session: InspectSession = inspect.session
        self.study = self.session.landscape
        self.twin = TwinSearch(None, "")
        self.caption = QtWidgets.QLabel(CAPTION)
        self.caption.setWordWrap(True)
        self.net = QtWidgets.QLabel(_NO_NET)
        self.net.setWordWrap(True)
        self.net.setToolTip("The net loaded in the Inspect tab, and its twin from the same comparison")
        self.dims = QtWidgets.QComboBox()
        self.dims.addItem("2D contours", 2)
        self.dims.addItem("1D curve", 1)
        self.dims.setToolTip("Two random directions (a contour map) or one (a curve)")
        self.grid = _spin(
            3,
            51,
            11,
            " points",
            "Points per axis, from -span to +span (odd: the trained net itself "
            "is the centre point). 2D costs points² evaluations",
        )
        self.span = QtWidgets.QDoubleSpinBox()
        self.span.setRange(0.05, 10.0)
        self.span.setSingleStep(0.25)
        self.span.setValue(1.0)
        self.span.setToolTip("How far along each direction: 1.0 moves every filter by its own norm (section 4)")
        self.images = _spin(
            10, 50_000, 500, " images", "Training images per point (spread evenly over the training split)"
        )
        self.seed = _spin(0, 2**31 - 1, 0, "", "The directions' seed: the same seed, the same directions for both nets")
        self.sweep = QtWidgets.QPushButton("Sweep this net")
        self.sweep.setToolTip("The training loss around the loaded net's weights")
        self.with_twin = QtWidgets.QPushButton("Sweep with its twin")
        self.cancel = QtWidgets.QPushButton("Cancel")
        self.cancel.setToolTip("Stop the sweep (nothing is kept)")
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setToolTip("Grid points evaluated so far (both nets)")
        self.export = QtWidgets.QPushButton("Export…")
        self.export.setToolTip("Save the maps as PNG or SVG, or every grid point as CSV or JSON")
        self.note = QtWidgets.QLabel()
        self.note.setWordWrap(True)
        self.plot = LandscapePlot()
        self.plot.setToolTip("One map per net, one colour scale; + marks the trained weights (a = b = 0)")
        self._build()
        self._restore()
        self.sweep.clicked.connect(lambda: self.run(twin=False))
        self.with_twin.clicked.connect(lambda: self.run(twin=True))
        self.cancel.clicked.connect(self.study.cancel)
        self.export.clicked.connect(self._on_export)
        self.study.changed.connect(self._update)
        self.study.progress.connect(self._on_progress)
        self.session.model_changed.connect(self._on_model)
        self.session.data_changed.connect(self._update)
        window.engine.ready.connect(self._update)
        window.runs.run_added.connect(lambda _run: self._on_model())
        self._on_model()

    def _build(self) -> None:
        form = QtWidgets.QHBoxLayout()
        form.setContentsMargins(0, 0, 0, 0)
        for label, widget in (
            ("Sweep", self.dims),
            ("Grid", self.grid),
            ("Span", self.span),
            ("On", self.images),
            ("Seed", self.seed),
        ):
            text = QtWidgets.QLabel(label)
            text.setBuddy(widget)
            form.addWidget(text)
            form.addWidget(widget)
        form.addStretch(1)
        bar = QtWidgets.QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        for w in (self.sweep, self.with_twin, self.cancel, self.progress, self.export):
            bar.addWidget(w, 1 if w is self.progress else 0)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(4)
        for item in (self.caption, self.net, form, bar, self.note):
            (layout.addLayout if isinstance(item, QtWidgets.QLayout) else layout.addWidget)(item)
        layout.addWidget(self.plot, 1)

    # -- settings -----------------------------------------------------------------------------------

    def settings(self) -> LandscapeSettings:
        """The sweep as the controls say."""
        return LandscapeSettings(
            self.dims.currentData(), self.grid.value(), self.span.value(), self.images.value(), self.seed.value()
        )

    def _restore(self) -> None:
        s = LandscapeSettings()
        self.dims.setCurrentIndex(max(0, self.dims.findData(settings.value("landscape/dims", s.dims))))
        self.grid.setValue(settings.value("landscape/grid", s.grid))
        self.span.setValue(float(settings.value("landscape/span", s.span)))
        self.images.setValue(settings.value("landscape/images", s.images))

    def _remember(self, chosen: LandscapeSettings) -> None:
        q = settings.settings()
        for name in ("dims", "grid", "span", "images"):
            q.setValue(f"landscape/{name}", getattr(chosen, name))

    # -- running ------------------------------------------------------------------------------------

    def run(self, *, twin: bool) -> bool:
        """Sweep the net shown (and its twin); False when there is nothing to sweep."""
        s = self.session
        if s.loaded is None or s.data is None or (twin and self.twin.checkpoint is None):
            return False
        from .inspect.results import switches_of

        chosen = self.settings()
        self._remember(chosen)
        self.progress.setValue(0)
        job = self.study.run(
            s.loaded,
            s.data,
            s.data_choice,
            switches_of(s.blocks),
            chosen,
            twin=self.twin.checkpoint if twin else None,
            twin_note=self.twin.note if twin else "",
        )
        return job is not None

    def _on_model(self) -> None:
        s = self.session
        if s.loaded is None:
            self.twin = TwinSearch(None, "")
        else:
            self.twin = find_twin(s.loaded.source, [(r.run_dir, r.config) for r in self.main.runs])
        self._update()

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setValue(int(1000 * done / max(total, 1)))
        self.progress.setFormat(f"{done:,} of {total:,} points")

    def _update(self) -> None:
        s, study = self.session, self.study
        running, result = study.running, study.result
        ready = s.loaded is not None and s.data is not None
        for w in (self.sweep, self.dims, self.grid, self.span, self.images, self.seed):
            w.setEnabled(ready and not running)
        self.with_twin.setEnabled(ready and not running and self.twin.checkpoint is not None)
        self.with_twin.setText(
            "Sweep with its twin" if self.twin.checkpoint is None else f"Sweep with {self._twin_name()}"
        )
        self.with_twin.setToolTip(self.twin.note or "Load a net first")
        self.cancel.setEnabled(running)
        self.export.setEnabled(result is not None)
        if s.loaded is None:
            self.net.setText(_NO_NET)
        else:
            where = f"the training images of {s.data.name}" if s.data is not None else "its training images"
            self.net.setText(
                f"<b>Net</b>: {s.loaded.arch}{' (plain)' if s.loaded.model.is_plain else ''} from "
                f"{Path(s.loaded.source).name}, loaded in the Inspect tab, on {where} · {self.twin.note}"
            )
        if not running and result is not None:
            r = result.landscapes[0]
            self.progress.setValue(1000)
            self.progress.setFormat(
                f"{r.loss.size * len(result.landscapes):,} points on {r.n_images:,} images, "
                f"{sum(x.seconds for x in result.landscapes):.1f} s"
            )
        elif not running:
            self.progress.setValue(0)
            self.progress.setFormat("not swept yet")
        self.note.setText(self._note())
        from .inspect.canvas import error_colour

        self.note.setStyleSheet(f"color: {error_colour()};" if study.stale else "")
        self.plot.show_results(result.landscapes if result is not None else ())

    def _twin_name(self) -> str:
        return self.twin.note.removeprefix("twin: ").split(" ", 1)[0]  # "plain14"

    def _note(self) -> str:
        result = self.study.result
        if not self.main.engine.is_ready:
            return ""  # core.landscape imports torch: the window opens before it has loaded
        from ..core.landscape import BN_NOTE

        if result is None:
            return f"{BN_NOTE}; both nets along the same seed's directions."
        r = result.landscapes[0]
        head = f"{BN_NOTE}; seed {r.seed}, {r.n_images:,} training images per point. " + measured(result.landscapes)
        if self.study.stale:
            return head + " The switches changed since this sweep: sweep again to see the net as it is now."
        if len(result.landscapes) > 1:
            return head + " The same directions for both nets; one colour scale (log) for both maps."
        return head

    # -- export -------------------------------------------------------------------------------------

    def plots(self) -> dict[str, pg.GraphicsLayout]:
        """The tab's drawing by export name (File > Export plots includes it)."""
        result = self.study.result
        if result is None:
            return {}
        item = self.plot.layout_item()
        names = ", ".join(r.name for r in result.landscapes)
        # An exported figure's title: the quantity and the nets (File > Export plots, Export).
        item.export_title = lambda: f"Training loss around the trained weights (Li et al. 2018) — {names}"
        return {"loss_landscape": item}

    def export_to(self, path: str | Path) -> Path:
        """Save the sweep: ``.png`` / ``.svg`` (the maps), ``.csv`` (every point), ``.json``."""
        from ..core.landscape import landscapes_csv, landscapes_json

        result = self.study.result
        if result is None:
            raise ResvizError("sweep a net first: there is nothing to export yet")
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix in (".png", ".svg"):
            return export_plot(self.plots()["loss_landscape"], path)
        if suffix not in (".csv", ".json"):
            raise ResvizError(
                f"export the landscape as .png, .svg, .csv or .json, not {suffix or 'a name without one'}"
            )
        text = (landscapes_csv if suffix == ".csv" else landscapes_json)(list(result.landscapes))
        try:
            write_text_atomic(path, text)
        except OSError as exc:
            raise ResvizError(f"cannot write {path}: {exc.strerror or exc}; choose another folder") from exc
        return path

    def _on_export(self) -> None:
        result = self.study.result
        if result is None:
            return
        name = "-".join(r.name.split(" ")[0] for r in result.landscapes)
        path = ask_export_path(
            self,
            "Export the loss landscape",
            f"landscape-{name}.png",
            "PNG image (*.png);;SVG drawing (*.svg);;CSV (*.csv);;JSON (*.json)",
        )
        if path is None:
            return
        try:
            written = self.export_to(path)
        except ResvizError as exc:
            self.main.show_error("Export failed", str(exc))
            return
        self.main.status.showMessage(f"saved the loss landscape to {written}", 10_000)

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        self._on_model()  # runs may have finished, or been opened, since


def _spin(lo: int, hi: int, value: int, suffix: str, tip: str) -> QtWidgets.QSpinBox:
    box = QtWidgets.QSpinBox()
    box.setRange(lo, hi)
    box.setValue(value)
    box.setSuffix(suffix)
    box.setToolTip(tip)
    box.setAlignment(QtCore.Qt.AlignmentFlag.AlignRight)
    return box
