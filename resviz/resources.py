"""The app's static files, found through ``importlib.resources`` wherever resviz runs.

The files live in the repository's top-level ``assets/`` folder, which is the package
``resviz.assets`` (``resviz/assets`` links to it). Asking the import system rather than
building paths from ``__file__`` is what makes the same call work in a source checkout, an
editable install, an installed wheel and a PyInstaller bundle alike.

Imports nothing heavy (no torch, no Qt), so the window can set its icon on first paint.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.resources
from pathlib import Path

from .core.errors import ResvizError

__all__ = [
    "APP_ID",
    "ICON_SIZES",
    "asset_path",
    "app_icon_png",
    "app_icon_svg",
    "icon_sizes",
]

#: The reverse-DNS application id shared by the .desktop file, the AppStream metainfo and
#: the window (``QGuiApplication.setDesktopFileName``), so desktops match the three up.
APP_ID = "io.github.resviz.Resviz"

#: The sizes the icon is rendered at (hicolor theme sizes, 16-512 px).
#: packaging/render_icons.py renders them; tests/packaging/test_icons.py keeps both in step.
ICON_SIZES: tuple[int, ...] = (16, 24, 32, 48, 64, 128, 256, 512)

_PACKAGE = "resviz.assets"

# Files that had to be copied out of an archive (a zipped install) to get a real path stay
# on disk until the interpreter exits: Qt and the desktop want a file name, not a stream.
_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)


def icon_sizes() -> tuple[int, ...]:
    """The pixel sizes the app icon ships at, smallest first."""
    return ICON_SIZES


def asset_path(name: str) -> Path:
    """The file system path of the asset ``name`` (e.g. ``"resviz.svg"``, ``"icons/resviz-32.png"``).

    Raises :class:`ResvizError` when the installed package lacks the file, which means a
    broken install rather than a user mistake.
    """
    if not name or name.startswith(("/", "\\")) or ".." in Path(name).parts:
        raise ResvizError(f"asset names are relative paths inside resviz.assets, not {name!r}")
    resource = importlib.resources.files(_PACKAGE).joinpath(*Path(name).parts)
    if not resource.is_file():
        raise ResvizError(
            f"resviz's asset {name!r} is missing from the installed package "
            f"({importlib.resources.files(_PACKAGE)}): reinstall resviz"
        )
    if isinstance(resource, Path):
        return resource
    return _extracted.enter_context(importlib.resources.as_file(resource))


def app_icon_svg() -> Path:
    """The icon's SVG source: scalable, for Qt's SVG icon engine and for launchers."""
    return asset_path("resviz.svg")


def app_icon_png(size: int) -> Path:
    """The icon's PNG for ``size`` px: that size if shipped, else the next larger one.

    A larger image scaled down stays sharp where a smaller one scaled up blurs; past the
    largest shipped size, the largest is returned.
    """
    if size < 1:
        raise ResvizError(f"an icon size is a positive number of pixels, not {size}")
    best = next((s for s in ICON_SIZES if s >= size), ICON_SIZES[-1])
    return asset_path(f"icons/resviz-{best}.png")
