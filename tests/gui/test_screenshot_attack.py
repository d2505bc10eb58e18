"""``resviz screenshot`` of something that failed exits non-zero in one line (issue #17 items 12, 15).

Before: a runs folder that was a file, an unreadable metrics database, ``--channel mid:999``
and ``--gallery 99999999`` (which showed image 239) all wrote a shot and exited 0, and
``--train ... --seconds inf`` waited for ever.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import trained_experiment


def _resviz(*args: str, env_extra=None, timeout=300) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "OMP_NUM_THREADS": "1", **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "resviz", *args], capture_output=True, text=True, env=env, timeout=timeout
    )


def _refused(res: subprocess.CompletedProcess, words: str) -> None:
    assert res.returncode == 2, res.stderr
    assert res.stderr.count("\n") == 1 and res.stderr.startswith("resviz: error: "), res.stderr
    assert words in res.stderr, res.stderr


def test_a_training_that_cannot_start_fails_the_shot(tmp_path):
    runs = tmp_path / "runs-is-a-file"
    runs.write_text("")
    out = tmp_path / "shot.png"
    res = _resviz(
        "screenshot", str(out), "--train", "resnet8", "--iters", "5", env_extra={"RESVIZ_RUNS_DIR": str(runs)}
    )
    _refused(res, "the run resnet8 failed")
    assert not out.exists()


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    return trained_experiment(tmp_path_factory.mktemp("shots"), "resnet8") / "resnet8"


def test_an_unreadable_database_fails_the_shot_before_the_window_opens(tmp_path, run_folder):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(run_folder, broken)
    for p in broken.glob("metrics.sqlite*"):
        p.unlink()
    (broken / "metrics.sqlite").write_bytes(b"garbage, not sqlite" * 50)
    res = _resviz("screenshot", str(tmp_path / "s.png"), "--open", str(broken))
    _refused(res, "is not a readable metrics database")
    assert not (tmp_path / "s.png").exists()


@pytest.mark.parametrize(
    "extra,words",
    [
        (["--gallery", "99999999"], "--gallery 99999999: the gallery holds test images 0 to"),
        (["--channel", "mid:999"], "--channel mid:999: the mid level has channels 0 to 31"),
    ],
)
def test_out_of_range_inspect_arguments_are_refused(tmp_path, run_folder, extra, words):
    out = tmp_path / "s.png"
    res = _resviz("screenshot", str(out), "--open", str(run_folder), "--inspect", *extra)
    _refused(res, words)
    assert not out.exists()


@pytest.mark.slow
def test_the_shot_stops_waiting_once_its_training_ended(tmp_path):
    out = tmp_path / "s.png"
    # --seconds 1e9 waited 31 years before; the 5 steps end in seconds
    res = _resviz("screenshot", str(out), "--train", "resnet8", "--iters", "5", "--seconds", "1e9", timeout=240)
    assert res.returncode == 0, res.stderr
    assert out.stat().st_size > 10_000
