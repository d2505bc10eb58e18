"""resviz.resources: the app's static files, found through importlib.resources."""

from __future__ import annotations

import importlib.resources
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from resviz.core.errors import ResvizError
from resviz.resources import APP_ID, ICON_SIZES, app_icon_png, app_icon_svg, asset_path, icon_sizes


def _png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (PNG spec, section 11.2.2)."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def test_assets_package_is_importable_and_holds_the_icon():
    root = importlib.resources.files("resviz.assets")
    assert root.joinpath("resviz.svg").is_file()
    assert app_icon_svg() == Path(str(root.joinpath("resviz.svg")))
    assert app_icon_svg().read_text(encoding="utf-8").lstrip().startswith("<?xml")


@pytest.mark.parametrize("size", ICON_SIZES)
def test_every_shipped_size_is_a_png_of_that_size(size):
    path = app_icon_png(size)
    assert path.name == f"resviz-{size}.png"
    assert _png_size(path) == (size, size)


def test_icon_sizes_ascend_from_16_to_512():
    assert icon_sizes() == ICON_SIZES
    assert list(ICON_SIZES) == sorted(set(ICON_SIZES))
    assert ICON_SIZES[0] == 16 and ICON_SIZES[-1] == 512


def test_an_unshipped_size_gets_the_next_larger_png():
    assert app_icon_png(20).name == "resviz-24.png"  # scaled down stays sharp
    assert app_icon_png(1).name == "resviz-16.png"
    assert app_icon_png(4096).name == "resviz-512.png"  # past the largest: the largest


def test_bad_sizes_and_names_say_what_is_wrong():
    with pytest.raises(ResvizError, match="positive number of pixels"):
        app_icon_png(0)
    with pytest.raises(ResvizError, match="missing from the installed package.*reinstall"):
        asset_path("icons/no-such-icon.png")
    for name in ("../pyproject.toml", "/etc/passwd", ""):
        with pytest.raises(ResvizError, match="relative paths inside resviz.assets"):
            asset_path(name)


def test_asset_paths_come_from_the_package_not_the_working_directory(tmp_path):
    """Run from elsewhere: the files are still found, under the imported package."""
    code = (
        "import resviz, resviz.resources as r; from pathlib import Path; "
        "p = r.app_icon_png(48); assert p.is_file(), p; "
        "assert Path(resviz.__file__).parent / 'assets' / 'icons' == p.parent, p; print(p)"
    )
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().endswith("resviz-48.png")


def test_resources_import_neither_torch_nor_qt():
    """The window sets its icon on first paint, before torch has loaded."""
    code = (
        "import sys, resviz.resources as r; r.app_icon_png(32); "
        "print(sorted(m for m in ('torch', 'PySide6', 'pyqtgraph') if m in sys.modules))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"


def test_app_id_is_reverse_dns():
    assert APP_ID.count(".") >= 2 and APP_ID == APP_ID.strip() and " " not in APP_ID
