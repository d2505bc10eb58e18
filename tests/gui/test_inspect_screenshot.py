"""``resviz screenshot --inspect``: the Inspect tab with a model, an image and a lesion study,
after surgery, with what each channel sees, or the Landscape tab after a sweep."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PIL import Image
from PySide6 import QtGui

from resviz.core.runs import RunReader


def _resviz(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "-m", "resviz", *args], capture_output=True, text=True, env=env)


def test_screenshot_of_the_inspect_tab(tmp_path, app, tiny_run):
    image = tmp_path / "grey.png"
    Image.new("L", (40, 30), 128).save(image)
    out = tmp_path / "inspect.png"
    res = _resviz(
        "screenshot",
        str(out),
        "--checkpoint",
        str(RunReader(tiny_run).checkpoints()[-1]),
        "--inspect",
        str(image),
        "--lesion",
        "60",
        "--method",
        "saliency",
        "--size",
        "1280x800",
    )
    assert res.returncode == 0, res.stderr
    shot = QtGui.QImage(str(out))
    assert (shot.width(), shot.height()) == (1280, 800)
    colours = {shot.pixel(x, y) for x in range(0, 1280, 5) for y in range(0, 800, 5)}
    assert len(colours) > 200  # heatmaps, channel grids and bars, not an empty tab


def _colours(path) -> int:
    shot = QtGui.QImage(str(path))
    assert (shot.width(), shot.height()) == (1280, 800)
    return len({shot.pixel(x, y) for x in range(0, 1280, 5) for y in range(0, 800, 5)})


@pytest.mark.slow(seconds=25)
def test_screenshots_of_the_level_views_and_the_landscape(tmp_path, app, tiny_run):
    out = tmp_path / "features.png"
    res = _resviz(
        "screenshot",
        str(out),
        "--checkpoint",
        str(tiny_run),
        "--surgery",
        "S1",
        "--features",
        "40",
        "--channel",
        "mid:0",
        "--size",
        "1280x800",
    )
    assert res.returncode == 0, res.stderr
    assert _colours(out) > 200  # before/after heatmaps and patches
    out = tmp_path / "landscape.png"
    res = _resviz(
        "screenshot",
        str(out),
        "--checkpoint",
        str(tiny_run),
        "--landscape",
        "net",
        "--landscape-grid",
        "3",
        "--landscape-images",
        "20",
        "--size",
        "1280x800",
    )
    assert res.returncode == 0, res.stderr
    assert _colours(out) > 20  # a map and its colour bar
    res = _resviz("screenshot", str(out), "--checkpoint", str(tiny_run), "--landscape", "twin", "--landscape-grid", "3")
    assert res.returncode == 2 and "no plain8 run found" in res.stderr and res.stderr.count("\n") == 1


def test_inspect_options_that_cannot_work_are_one_line_errors(tmp_path):
    res = _resviz("screenshot", str(tmp_path / "x.png"), "--inspect")
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and "--inspect needs a model" in res.stderr
    res = _resviz(
        "screenshot", str(tmp_path / "x.png"), "--inspect", str(tmp_path / "none.png"), "--checkpoint", "c.pt"
    )
    assert res.returncode == 2 and "no such image file" in res.stderr
    res = _resviz("screenshot", str(tmp_path / "x.png"), "--checkpoint", "c.pt", "--method", "magic")
    assert res.returncode == 2 and "unknown attribution method 'magic'" in res.stderr
    res = _resviz("screenshot", str(tmp_path / "x.png"), "--checkpoint", "c.pt", "--surgery", "X1")
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and "write S<block> (shortcut off)" in res.stderr
    res = _resviz("screenshot", str(tmp_path / "x.png"), "--checkpoint", "c.pt", "--channel", "top:3")
    assert res.returncode == 2 and "--channel must look like mid:3" in res.stderr
    res = _resviz("screenshot", str(tmp_path / "x.png"), "--checkpoint", "c.pt", "--landscape-grid", "99")
    assert res.returncode == 2 and "--landscape-grid must be 3 to 51" in res.stderr
    res = _resviz("screenshot", str(tmp_path / "x.png"), "--checkpoint", str(tmp_path / "missing.pt"))
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and "does not exist" in res.stderr
    assert not (tmp_path / "x.png").exists()
