"""Issue #17 item 4: the degradation experiment checkpoints as it goes, and --resume continues it.

It checkpointed only at its end, so a SIGKILL lost every net's training; ``--resume`` then
refused and advised ``resviz train --out expk/plain8 --force``, which would have trained a
default resnet20 for 64,000 iterations in that slot.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from resviz.cli import main

EXPERIMENT = ["experiment", "degradation", "--depths", "8,14", "--iters", "6", "--batch-size", "8", "--device", "cpu"]


@pytest.fixture(scope="module")
def _done(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("exp") / "expk"
    assert main([*EXPERIMENT, "--checkpoint-every", "2", "--out", str(out)]) == 0
    return out


def _steps(run: Path) -> list[int]:
    return sorted(int(p.stem[5:]) for p in (run / "checkpoints").glob("step_*.pt"))


def _killed(run: Path, keep_up_to: int) -> None:
    """Make ``run`` look as a SIGKILL at a step after ``keep_up_to`` leaves it: status running
    with a dead pid, no checkpoint after ``keep_up_to``."""
    for p in (run / "checkpoints").glob("step_*.pt"):
        if int(p.stem[5:]) > keep_up_to:
            p.unlink()
    dead = subprocess.Popen(["true"])
    dead.wait()
    status = json.loads((run / "status.json").read_text())
    (run / "status.json").write_text(json.dumps({**status, "status": "running", "pid": dead.pid}))


def test_every_net_checkpoints_periodically(_done):
    for name in ("plain8", "plain14", "resnet8", "resnet14"):
        assert _steps(_done / name) == [2, 4, 6], name


def test_resume_after_a_kill_continues_every_net(_done, tmp_path, capsys):
    out = Path(shutil.copytree(_done, tmp_path / "expk"))
    _killed(out / "plain8", keep_up_to=2)  # lost steps 3..: continues from 2
    _killed(out / "resnet8", keep_up_to=0)  # killed before its first checkpoint: starts again
    capsys.readouterr()
    assert main(["experiment", "degradation", "--resume", str(out)]) == 0
    captured = capsys.readouterr()
    assert "resviz train" not in captured.out + captured.err
    for name in ("plain8", "plain14", "resnet8", "resnet14"):
        status = json.loads((out / name / "status.json").read_text())
        assert (status["status"], status["step"]) == ("finished", 6), (name, status)
    config = json.loads((out / "resnet8" / "config.json").read_text())
    assert (config["arch"], config["iters"], config["plain"]) == ("resnet8", 6, False)  # its own slot, not a default
    assert json.loads((out / "summary.json").read_text())["complete"] is True


def test_a_net_whose_folder_was_never_made_is_trained_on_resume(_done, tmp_path, capsys):
    out = Path(shutil.copytree(_done, tmp_path / "expk"))
    shutil.rmtree(out / "resnet8")
    _killed(out / "plain8", keep_up_to=4)
    assert main(["experiment", "degradation", "--resume", str(out)]) == 0
    config = json.loads((out / "resnet8" / "config.json").read_text())
    assert (config["arch"], config["iters"]) == ("resnet8", 6)
    assert json.loads((out / "resnet8" / "status.json").read_text())["status"] == "finished"
