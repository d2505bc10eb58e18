"""``resviz screenshot``: the window rendered offscreen after a short training, and its errors."""

from __future__ import annotations

import os
import subprocess
import sys

from PySide6 import QtGui


def _resviz(*args: str, cwd=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "-m", "resviz", *args], capture_output=True, text=True, env=env, cwd=cwd)


def test_screenshot_after_training_shows_the_curves(tmp_path, app):
    out = tmp_path / "shot.png"
    res = _resviz(
        "screenshot",
        str(out),
        "--train",
        "resnet8",
        "--compare",
        "--iters",
        "40",
        "--seconds",
        "4",
        "--size",
        "1280x800",
        "--theme",
        "light",
    )
    assert res.returncode == 0, res.stderr
    image = QtGui.QImage(str(out))
    assert (image.width(), image.height()) == (1280, 800)
    # not a blank frame: a light background with curves, text and heatmaps in many colours
    colours = {image.pixel(x, y) for x in range(0, 1280, 7) for y in range(0, 800, 7)}
    assert len(colours) > 100
    # the light theme: the settings column's background is light
    shades = [QtGui.QColor(image.pixel(x, y)).lightness() for x in range(5, 300, 10) for y in range(660, 760, 10)]
    assert sum(shades) / len(shades) > 180
    assert not (tmp_path / "settings").exists()  # it used private settings, wrote nothing here


def test_screenshot_errors_are_one_line(tmp_path):
    res = _resviz("screenshot", str(tmp_path / "x.png"), "--train", "resnet21")
    assert res.returncode == 2 and res.stderr.count("\n") == 1
    assert res.stderr.startswith("resviz: error: unknown architecture 'resnet21'")
    res = _resviz("screenshot", str(tmp_path / "missing" / "x.png"))
    assert res.returncode == 2 and "does not exist" in res.stderr and "Traceback" not in res.stderr
    res = _resviz("screenshot", str(tmp_path / "x.gif"))
    assert res.returncode == 2 and ".png or .jpg" in res.stderr
    res = _resviz("screenshot", str(tmp_path / "x.png"), "--open", str(tmp_path))
    assert res.returncode == 2 and "not a run folder" in res.stderr
    assert not (tmp_path / "x.png").exists()
