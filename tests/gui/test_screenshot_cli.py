"""``resviz screenshot``: the window rendered offscreen after a short training, and its errors."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import trained_experiment
from PySide6 import QtGui


def _resviz(*args: str, cwd=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "-m", "resviz", *args], capture_output=True, text=True, env=env, cwd=cwd)


@pytest.mark.slow
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


def test_screenshot_opens_an_experiment_folder_as_the_app_does(tmp_path):
    """--open takes an experiment's folder (one run folder per net), as File > Open does; a
    broken net of it fails in one line before the window opens."""
    folder = trained_experiment(tmp_path / "20261201-120000-degradation", "plain8", "resnet8")
    res = _resviz("screenshot", str(tmp_path / "exp.png"), "--open", str(folder), "--seconds", "0")
    assert res.returncode == 0, res.stderr
    assert QtGui.QImage(str(tmp_path / "exp.png")).width() > 0
    (folder / "plain8" / "config.json").write_text("[1]")
    res = _resviz("screenshot", str(tmp_path / "bad.png"), "--open", str(folder))
    assert res.returncode == 2 and "plain8" in res.stderr and "config.json" in res.stderr
    assert res.stderr.count("\n") == 1 and not (tmp_path / "bad.png").exists()
