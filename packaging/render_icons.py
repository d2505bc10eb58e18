"""Render the app icon's PNGs from its SVG source, or check that they are up to date.

    python packaging/render_icons.py           # rewrite assets/icons/resviz-<size>.png
    python packaging/render_icons.py --check   # exit 1 if a PNG is missing or stale

Renders with Qt's own SVG renderer (QtSvg ships in PySide6-Essentials, a dependency of
resviz already), so no system tool is needed. Launchers and the window pick the nearest
size; desktops ask for 16-512 px (freedesktop.org Icon Theme Specification, hicolor sizes).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SVG = REPO / "assets" / "resviz.svg"
OUT = REPO / "assets" / "icons"

# Kept equal to resviz.resources.ICON_SIZES; this script runs without importing resviz so
# that it works from a bare checkout. tests/packaging/test_icons.py checks the two agree.
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)

#: Largest mean per-channel difference (0..255) a fresh render may show against the
#: committed PNG and still count as the same picture: Qt versions differ by a level or two
#: in anti-aliased edges, a changed drawing differs by far more.
TOLERANCE = 2.0


def _app():
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    return QGuiApplication.instance() or QGuiApplication([])


def render(size: int, svg: Path = SVG):
    """The icon drawn at ``size`` x ``size`` pixels, as a QImage with alpha."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app()
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"render_icons: {svg} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def png_path(size: int) -> Path:
    """Where the PNG of one size lives in the repository."""
    return OUT / f"resviz-{size}.png"


def mean_difference(a, b) -> float:
    """Mean absolute difference per channel (0..255) of two equal-sized QImages."""
    import numpy as np

    def pixels(img):
        img = img.convertToFormat(img.Format.Format_RGBA8888)
        buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=img.sizeInBytes())
        return buf.reshape(img.height(), img.bytesPerLine())[:, : img.width() * 4].astype(np.int16)

    if a.size() != b.size():
        return float("inf")
    return float(np.abs(pixels(a) - pixels(b)).mean())


def check(sizes=SIZES) -> list[str]:
    """Problems with the committed PNGs: missing, wrong size, or drawn from an older SVG."""
    from PySide6.QtGui import QImage

    _app()
    problems = []
    for size in sizes:
        path = png_path(size)
        committed = QImage(str(path))
        if committed.isNull():
            problems.append(f"{path.relative_to(REPO)} is missing or unreadable")
            continue
        diff = mean_difference(render(size), committed)
        if diff > TOLERANCE:
            problems.append(f"{path.relative_to(REPO)} differs from the SVG (mean difference {diff:.1f})")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check the committed PNGs")
    args = parser.parse_args(argv)
    if args.check:
        problems = check()
        for p in problems:
            print(f"render_icons: {p}", file=sys.stderr)
        if problems:
            print("render_icons: run `python packaging/render_icons.py` and commit the PNGs", file=sys.stderr)
        return 1 if problems else 0
    OUT.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        if not render(size).save(str(png_path(size)), "PNG"):
            raise SystemExit(f"render_icons: could not write {png_path(size)}")
        print(png_path(size).relative_to(REPO))
    return 0


if __name__ == "__main__":
    sys.exit(main())
