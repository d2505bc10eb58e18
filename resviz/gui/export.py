"""Saving what the window shows: every plot as PNG and SVG, a run's metrics as CSV.

Plots go through pyqtgraph's own exporters (the same as each plot's right-click
"Export…"). Metrics come from the run folder through the engine's exporter, so the CSV
is the same file ``resviz export RUN_DIR --format csv`` writes: long format
``step,metric,index,value``, index empty for scalars.
"""

from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter, SVGExporter

from ..core.errors import ResvizError
from .runs import Run

__all__ = ["export_plot", "export_plots", "export_metrics", "safe_name", "ask_export_path"]


def safe_name(text: str) -> str:
    """A file name from a run or plot name (``resnet20 #2`` -> ``resnet20-2``)."""
    keep = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in text)
    return "-".join(part for part in keep.split("-") if part) or "plot"


def export_plot(plot: pg.PlotItem | pg.GraphicsLayout, path: str | Path, *, scale: float = 2.0) -> Path:
    """Save one plot (or a layout of plots) as ``.png`` (at ``scale`` times its on-screen
    size) or ``.svg``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise ResvizError(f"plots export as .png or .svg, not {suffix or 'a name without extension'}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".png":
            exporter = ImageExporter(plot)
            width = max(int(plot.sceneBoundingRect().width() * scale), 200)
            exporter.parameters()["width"] = width
            exporter.export(str(path))
        else:
            _export_svg(plot, path)
    except OSError as exc:
        raise ResvizError(f"cannot write {path}: {exc.strerror or exc}; choose another folder") from exc
    if not path.is_file():
        raise ResvizError(f"cannot write {path}; check the folder is writable")
    return path


def _export_svg(plot: pg.PlotItem | pg.GraphicsLayout, path: Path) -> None:
    """pyqtgraph's SVG exporter, or Qt's own SVG generator where that one fails.

    pyqtgraph 0.14's exporter cannot parse the closed paths ("... Z") that recent Qt
    versions write (pyqtgraph issues #3485, #3495); Qt's QSvgGenerator rendering the
    plot's part of the scene gives the same vector drawing without the post-processing.
    """
    try:
        SVGExporter(plot).export(str(path))
        return
    except ValueError:
        pass
    from PySide6.QtCore import QRectF, QSize
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgGenerator

    from .theme import theme

    source = plot.sceneBoundingRect()
    w, h = int(source.width()), int(source.height())
    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(QSize(w, h))
    generator.setViewBox(QRectF(0, 0, w, h))
    title = getattr(plot, "titleLabel", None)
    generator.setTitle((title.text if title is not None else "") or "resviz plot")
    generator.setDescription("exported by resviz")
    painter = QPainter(generator)
    try:
        painter.fillRect(QRectF(0, 0, w, h), pg.mkColor(theme().colours.plot_background))
        plot.scene().render(painter, QRectF(0, 0, w, h), source)
    finally:
        painter.end()


def export_plots(plots: dict[str, pg.PlotItem | pg.GraphicsLayout], folder: str | Path) -> list[Path]:
    """Save every named plot as ``NAME.png`` and ``NAME.svg`` in ``folder``."""
    folder = Path(folder)
    written = []
    for name, plot in plots.items():
        for suffix in (".png", ".svg"):
            written.append(export_plot(plot, folder / f"{safe_name(name)}{suffix}"))
    return written


def export_metrics(run: Run, path: str | Path) -> int:
    """Write the run's metrics as long-format CSV; returns the number of rows."""
    from ..core.runs import export_run

    if run.run_dir is None:
        raise ResvizError(f"{run.name} has no run folder yet (it has not started); nothing to export")
    path = Path(path)
    try:
        return export_run(run.run_dir, path, "csv")
    except OSError as exc:
        raise ResvizError(f"cannot write {path}: {exc.strerror or exc}; choose another file") from exc


def ask_export_path(parent, title: str, name: str, filters: str) -> Path | None:
    """Ask where to save ``name`` (in the last export folder); the chosen filter's suffix
    when the name has none. None when the user cancels; the folder is remembered."""
    from PySide6 import QtWidgets

    from . import settings

    start = Path(settings.value("paths/last_export", str(Path.home()))) / name
    path, chosen = QtWidgets.QFileDialog.getSaveFileName(parent, title, str(start), filters)
    if not path:
        return None
    if not Path(path).suffix:
        path += "." + chosen.split("*.")[-1].rstrip(")")
    settings.settings().setValue("paths/last_export", str(Path(path).parent))
    return Path(path)
