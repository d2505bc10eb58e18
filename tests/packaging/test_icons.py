"""The icon's PNGs are renders of its SVG, at the sizes resviz.resources promises.

Rendering runs in a subprocess: it needs a QGuiApplication, and pytest-qt wants to make
its own QApplication in this process later.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

from resviz.resources import ICON_SIZES

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "packaging" / "render_icons.py"


def _render_icons_module():
    spec = importlib.util.spec_from_file_location("render_icons", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # defines functions only; Qt loads when one runs
    return module


def test_script_renders_the_sizes_resources_promise():
    assert _render_icons_module().SIZES == ICON_SIZES


def test_committed_pngs_match_a_fresh_render_of_the_svg():
    res = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def test_the_check_notices_a_changed_drawing(tmp_path):
    """A recoloured shortcut arrow must count as stale, or the check above proves nothing."""
    svg = (REPO / "assets" / "resviz.svg").read_text(encoding="utf-8")
    assert svg.count("#ffb020") == 2  # the shortcut's stroke and its arrowhead
    (tmp_path / "changed.svg").write_text(svg.replace("#ffb020", "#20b0ff"), encoding="utf-8")
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import render_icons as r; from pathlib import Path; "
        "from PySide6.QtGui import QImage; "
        "same = r.mean_difference(r.render(64), QImage(str(r.png_path(64)))); "
        "changed = r.mean_difference(r.render(64, Path(sys.argv[2])), QImage(str(r.png_path(64)))); "
        "print(same, changed, r.TOLERANCE)"
    )
    res = subprocess.run(
        [sys.executable, "-c", code, str(SCRIPT.parent), str(tmp_path / "changed.svg")],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    same, changed, tolerance = map(float, res.stdout.split())
    assert same <= tolerance < changed
