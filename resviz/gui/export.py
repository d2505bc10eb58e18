"""Saving what the window shows: every plot as PNG and SVG, a run's metrics as CSV.

Plots go through pyqtgraph's own exporters (the same as each plot's right-click
"Export…"), made for papers and slides (issue 19): :class:`ExportOptions` gives the
width in pixels (default 1800, about 2x a panel on screen) and the style — "publication"
draws the plots in the light theme whatever the window shows, "screen" as on screen —
and every PNG gets a title band naming its quantity and runs (also in the PNG's "Title"
text and the SVG's ``<title>``). Preferences remember the choice. Metrics come from the run folder through the engine's exporter, so the CSV
is the same file ``resviz export RUN_DIR --format csv`` writes: long format
``step,metric,index,value``, index empty for scalars.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter, SVGExporter

from ..core.errors import ResvizError
from ..core.outputs import atomic_output
from .runs import Run

__all__ = [
    "ExportOptions",
    "EXPORT_STYLES",
    "EXPORT_FORMATS",
    "export_plot",
    "export_plots",
    "export_metrics",
    "safe_name",
    "ask_export_path",
]

#: Export style -> the theme the plots are drawn in ("screen": the window's own).
EXPORT_STYLES = {"publication": "light", "screen": None}
#: The format choices Preferences offers -> file suffixes written per plot.
EXPORT_FORMATS = {"png+svg": (".png", ".svg"), "png": (".png",), "svg": (".svg",)}


@dataclass(frozen=True)
class ExportOptions:
    """How plots are exported: PNG width in pixels, style, formats (see the module docstring)."""

    width: int = 1800
    style: str = "publication"
    formats: str = "png+svg"

    def __post_init__(self) -> None:
        if not 200 <= self.width <= 10_000:
            raise ResvizError(f"export width {self.width} px is out of range; choose 200 to 10000")
        if self.style not in EXPORT_STYLES:
            raise ResvizError(f"unknown export style {self.style!r}; choose one of {', '.join(EXPORT_STYLES)}")
        if self.formats not in EXPORT_FORMATS:
            raise ResvizError(f"unknown export formats {self.formats!r}; choose one of {', '.join(EXPORT_FORMATS)}")

    @classmethod
    def remembered(cls) -> ExportOptions:
        """The choice saved in Preferences (defaults where nothing or nonsense is saved)."""
        from . import settings

        default = cls()
        width = settings.value("export/width", default.width)
        style = settings.value("export/style", default.style)
        formats = settings.value("export/formats", default.formats)
        try:
            return cls(width, style, formats)
        except ResvizError:
            return default

    def save(self) -> None:
        from . import settings

        store = settings.settings()
        store.setValue("export/width", self.width)
        store.setValue("export/style", self.style)
        store.setValue("export/formats", self.formats)


def safe_name(text: str) -> str:
    """A file name from a run or plot name (``resnet20 #2`` -> ``resnet20-2``)."""
    keep = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in text)
    return "-".join(part for part in keep.split("-") if part) or "plot"


def export_plot(
    plot: pg.PlotItem | pg.GraphicsLayout,
    path: str | Path,
    *,
    options: ExportOptions | None = None,
    title: str | None = None,
) -> Path:
    """Save one plot (or a layout of plots) as ``.png`` (``options.width`` pixels wide,
    with ``title`` in a band above) or ``.svg``, in ``options.style``.

    ``title`` defaults to the plot's ``export_title()`` (the panels set it: quantity and
    run names), else its on-screen title.
    """
    from .theme import theme

    options = options or ExportOptions.remembered()
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise ResvizError(f"plots export as .png or .svg, not {suffix or 'a name without extension'}")
    title = title if title is not None else figure_title(plot)
    style = EXPORT_STYLES[options.style] or theme().name
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written beside the file and moved onto it at the end: a crash or a full disk keeps
        # an earlier export whole, never half a PNG (core.outputs.atomic_output).
        with theme().plots_as(style) as colours, atomic_output(path) as tmp:
            if suffix == ".png":
                _export_png(plot, tmp, options.width, title, colours)
            else:
                _export_svg(plot, tmp, title, colours)
    except OSError as exc:
        raise ResvizError(f"cannot write {path}: {exc.strerror or exc}; choose another folder") from exc
    if not path.is_file():
        raise ResvizError(f"cannot write {path}; check the folder is writable")
    return path


def figure_title(plot) -> str:
    """The title an exported figure carries (see :func:`export_plot`)."""
    make = getattr(plot, "export_title", None)
    if callable(make):
        return make()
    label = getattr(plot, "titleLabel", None)
    return (getattr(label, "_full_text", "") or getattr(label, "text", "")) if label is not None else ""


def _export_png(plot, path: Path, width: int, title: str, colours) -> None:
    """Render ``plot`` ``width`` pixels wide under a title band; the title also goes into the
    PNG's "Title" text."""
    from PySide6 import QtCore, QtGui

    label = getattr(plot, "titleLabel", None)
    hidden = None
    if label is not None and title and label.isVisible():
        # The band says it in full; the on-screen title (often elided) would repeat it.
        hidden = (getattr(label, "_full_text", "") or label.text, dict(label.opts))
        plot.setTitle(None)
        plot.layout.activate()
    try:
        exporter = ImageExporter(plot)
        exporter.parameters()["width"] = width
        exporter.parameters()["background"] = pg.mkColor(colours.plot_background)
        exporter.parameters()["antialias"] = True
        body = exporter.export(toBytes=True)
        key = _legend_image(plot, body.width(), colours)
    finally:
        if hidden is not None:
            plot.setTitle(hidden[0], **{k: v for k, v in hidden[1].items() if k in ("color", "size")})
            plot.layout.activate()
    font = QtGui.QFont()
    font.setPixelSize(max(14, round(body.width() / 42)))  # a little above the axes' text, scaled alike
    font.setBold(True)
    band = 0
    text_rect = QtCore.QRect()
    if title:
        metrics = QtGui.QFontMetrics(font)
        margin = font.pixelSize()
        text_rect = metrics.boundingRect(
            QtCore.QRect(margin, 0, body.width() - 2 * margin, 10_000), QtCore.Qt.TextFlag.TextWordWrap, title
        )
        band = text_rect.height() + margin
        text_rect = QtCore.QRect(margin, margin // 2, body.width() - 2 * margin, text_rect.height())
    below = key.height() if key is not None else 0
    image = QtGui.QImage(body.width(), body.height() + band + below, QtGui.QImage.Format.Format_RGB32)
    image.fill(pg.mkColor(colours.plot_background))
    painter = QtGui.QPainter(image)
    try:
        painter.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing)
        if title:
            painter.setFont(font)
            painter.setPen(pg.mkColor(colours.plot_foreground))
            painter.drawText(
                text_rect, int(QtCore.Qt.AlignmentFlag.AlignHCenter) | int(QtCore.Qt.TextFlag.TextWordWrap), title
            )
        painter.drawImage(0, band, body)
        if key is not None:
            painter.drawImage((body.width() - key.width()) // 2, band + body.height(), key)
    finally:
        painter.end()
    image.setText("Title", title)
    image.setText("Software", "resviz")
    if not image.save(str(path), "PNG"):
        raise ResvizError(f"cannot write {path}; check the folder is writable")


def _export_svg(plot: pg.PlotItem | pg.GraphicsLayout, path: Path, title: str, colours) -> None:
    """pyqtgraph's SVG exporter, or Qt's own SVG generator where that one fails.

    pyqtgraph 0.14's exporter cannot parse the closed paths ("... Z") that recent Qt
    versions write (pyqtgraph issues #3485, #3495); Qt's QSvgGenerator rendering the
    plot's part of the scene gives the same vector drawing without the post-processing.
    """
    try:
        exporter = SVGExporter(plot)
        exporter.parameters()["background"] = pg.mkColor(colours.plot_background)
        exporter.export(str(path))
        _svg_title(path, title)
        return
    except ValueError:
        pass
    from PySide6.QtCore import QRectF, QSize
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgGenerator

    source = plot.sceneBoundingRect()
    w, h = int(source.width()), int(source.height())
    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(QSize(w, h))
    generator.setViewBox(QRectF(0, 0, w, h))
    generator.setTitle(title or "resviz plot")
    generator.setDescription("exported by resviz")
    painter = QPainter(generator)
    try:
        painter.fillRect(QRectF(0, 0, w, h), pg.mkColor(colours.plot_background))
        plot.scene().render(painter, QRectF(0, 0, w, h), source)
    finally:
        painter.end()


def _legend_image(plot, width: int, colours):
    """The plot's legend (its panel's legend row) at the scale the plot was rendered, or None."""
    from PySide6 import QtCore, QtGui

    legend = getattr(plot, "export_legend", None)
    if legend is None or not legend.isVisible() or not legend.items:
        return None
    source = QtCore.QRectF()
    for sample, label in legend.items:  # the entries, not the whole row the layout gives it
        source = source.united(sample.sceneBoundingRect()).united(label.sceneBoundingRect())
    source.adjust(-4, -2, 4, 2)
    scale = width / max(plot.sceneBoundingRect().width(), 1.0)
    size = QtCore.QSize(max(int(source.width() * scale), 1), max(int(source.height() * scale), 1))
    image = QtGui.QImage(size, QtGui.QImage.Format.Format_RGB32)
    image.fill(pg.mkColor(colours.plot_background))
    painter = QtGui.QPainter(image)
    try:
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing)
        legend.scene().render(painter, QtCore.QRectF(0, 0, size.width(), size.height()), source)
    finally:
        painter.end()
    return image


def _svg_title(path: Path, title: str) -> None:
    """Put ``<title>`` first in pyqtgraph's SVG (it writes none)."""
    if not title:
        return
    text = path.read_text(encoding="utf-8")
    start = text.find("<svg")
    end = text.find(">", start)
    if start < 0 or end < 0:
        return
    path.write_text(f"{text[: end + 1]}\n<title>{html.escape(title)}</title>{text[end + 1 :]}", encoding="utf-8")


def export_plots(
    plots: dict[str, pg.PlotItem | pg.GraphicsLayout], folder: str | Path, options: ExportOptions | None = None
) -> list[Path]:
    """Save every named plot as ``NAME.png`` and/or ``NAME.svg`` in ``folder``."""
    options = options or ExportOptions.remembered()
    folder = Path(folder)
    written = []
    for name, plot in plots.items():
        for suffix in EXPORT_FORMATS[options.formats]:
            written.append(export_plot(plot, folder / f"{safe_name(name)}{suffix}", options=options))
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
