"""Issue #17 items 3, 6, 7 and 21: a resume starts only from this run's own, intact checkpoint.

* another run's checkpoint copied in under a step name was resumed from silently (the loss
  rows jumped 56 -> 310): the step inside must equal the name's, the run (arch, data, seed,
  batch) must be this one;
* 64 bytes overwritten inside a tensor record loaded and evaluated: the archive's CRCs are
  verified first;
* a ``mean`` of 3x7x7 with ``image_shape`` 3x16x16 evaluated at 7x7, and config.json's
  ``iters`` below the checkpoint's step gave "finished 28/10 iterations", exit 0;
* a folder named ``step_0000029.pt`` in checkpoints/ killed the resumed run at its first save.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest
import torch

from resviz.cli import main
from resviz.core.checkpoint import load_checkpoint
from resviz.core.errors import CheckpointError

TINY = ["--arch", "resnet8", "--batch-size", "8", "--eval-every", "100", "--device", "cpu", "--quiet"]


@pytest.fixture(scope="module")
def _runs(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("runs")
    own, donor = root / "own", root / "donor"
    assert main(["train", *TINY, "--iters", "4", "--checkpoint-every", "2", "--out", str(own)]) == 0
    assert main(["train", *TINY, "--iters", "6", "--checkpoint-every", "6", "--seed", "1", "--out", str(donor)]) == 0
    return own, donor


@pytest.fixture
def run(_runs, tmp_path) -> Path:
    """A copy of a 4-step run with checkpoints at 2 and 4, reopened as a stopped run of 8 steps."""
    run = Path(shutil.copytree(_runs[0], tmp_path / "run"))
    config = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**config, "iters": 8}))
    status = json.loads((run / "status.json").read_text())
    (run / "status.json").write_text(json.dumps({**status, "status": "stopped"}))
    return run


@pytest.fixture
def donor(_runs) -> Path:
    """Another run's checkpoint: same net, seed 1, step 6."""
    return _runs[1] / "checkpoints" / "step_0000006.pt"


def _one_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("resviz: error: "), err
    return err[0]


def _resumed_steps(run: Path) -> list[int]:
    import sqlite3

    with sqlite3.connect(run / "metrics.sqlite") as db:
        return [s for (s,) in db.execute("SELECT DISTINCT step FROM metrics WHERE metric='loss' ORDER BY step")]


# -- item 3: another run's checkpoint is never adopted --


def test_a_checkpoint_whose_step_is_not_its_name_is_skipped_with_a_note(run, capsys):
    shutil.copy(run / "checkpoints" / "step_0000004.pt", run / "checkpoints" / "step_0000006.pt")
    assert main(["train", "--resume", str(run)]) == 0
    err = capsys.readouterr().err
    assert "step_0000006.pt" in err and "holds step 4" in err, err
    assert (
        "finished 8/8" in capsys.readouterr().out + err
        or json.loads((run / "status.json").read_text())["status"] == "finished"
    )


def test_another_runs_checkpoint_under_the_right_step_is_skipped(run, donor, capsys):
    (run / "checkpoints" / "step_0000006.pt").symlink_to(donor)
    before = donor.read_bytes()
    assert main(["train", "--resume", str(run), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "step_0000006.pt" in err and "seed" in err, err
    assert json.loads((run / "status.json").read_text())["step"] == 8
    assert max(_resumed_steps(run)) <= 8  # no rows from the donor's step 6 onwards adopted at 6
    assert donor.read_bytes() == before  # pruning never deletes another run's checkpoint


def test_only_foreign_checkpoints_is_one_line(run, donor, capsys):
    for p in (run / "checkpoints").glob("step_*.pt"):
        p.unlink()
    shutil.copy(donor, run / "checkpoints" / "step_0000006.pt")
    assert main(["train", "--resume", str(run)]) == 2
    assert "step_0000006.pt" in _one_error(capsys)


def test_a_checkpoints_folder_linked_to_another_runs_is_refused(run, tmp_path, capsys):
    """Found by attack: a clone's checkpoints pass the identity check, and the resumed run
    would then write and prune in the other run's folder."""
    other = Path(shutil.copytree(run, tmp_path / "other"))
    shutil.rmtree(run / "checkpoints")
    (run / "checkpoints").symlink_to(other / "checkpoints")
    before = sorted(p.name for p in (other / "checkpoints").iterdir())
    assert main(["train", "--resume", str(run)]) == 2
    assert "checkpoints is a link" in _one_error(capsys)
    assert sorted(p.name for p in (other / "checkpoints").iterdir()) == before


# -- item 21: entries that are not regular files --


def test_a_folder_fifo_or_link_loop_named_like_a_checkpoint_is_skipped(run, capsys):
    ckpts = run / "checkpoints"
    (ckpts / "step_0000007.pt").mkdir()
    os.mkfifo(ckpts / "step_0000006.pt")
    (ckpts / "step_0000005.pt").symlink_to(ckpts / "step_0000005.pt")
    assert main(["train", "--resume", str(run)]) == 0  # saves at 6 (over the pipe) and 8, pruning each time
    err = capsys.readouterr().err
    assert "Traceback" not in err
    status = json.loads((run / "status.json").read_text())
    assert status["status"] == "finished", status
    for name in ("step_0000007.pt", "step_0000006.pt", "step_0000005.pt"):
        assert name in err, (name, err)
    assert (ckpts / "step_0000007.pt").is_dir()  # pruning left what is not a checkpoint alone


# -- item 6: bit-level corruption --


def _damage(path: Path) -> str:
    """Overwrite 64 bytes in the middle of the largest tensor record; its name."""
    with zipfile.ZipFile(path) as z:
        info = max(z.infolist(), key=lambda i: i.file_size)
    with open(path, "r+b") as f:
        f.seek(info.header_offset + 26)
        name_len, extra_len = int.from_bytes(f.read(2), "little"), int.from_bytes(f.read(2), "little")
        f.seek(info.header_offset + 30 + name_len + extra_len + info.file_size // 2)
        f.write(b"\xff" * 64)
    return info.filename


def test_a_damaged_record_is_refused_naming_it(run, capsys):
    path = run / "checkpoints" / "step_0000004.pt"
    record = _damage(path)
    with pytest.raises(CheckpointError, match="damaged") as info:
        load_checkpoint(path)
    assert record in str(info.value) and "step_0000004.pt" in str(info.value)
    assert main(["eval", "--checkpoint", str(path), "--data", "digits", "--limit", "20"]) == 2
    assert record in _one_error(capsys)
    # resume: the damaged newest is skipped with a note, step 2 is used
    assert main(["train", "--resume", str(run), "--quiet"]) == 0
    assert record in capsys.readouterr().err


def test_a_checkpoint_cut_at_every_kilobyte_is_refused_in_one_line(run):
    """Found by attack: the empty file (cut at 0) raised IndexError from the message itself."""
    data = (run / "checkpoints" / "step_0000004.pt").read_bytes()
    cut = run / "cut.pt"
    for at in range(0, len(data), 1024):
        cut.write_bytes(data[:at])
        with pytest.raises(CheckpointError) as info:
            load_checkpoint(cut)
        assert "\n" not in str(info.value) and "cut.pt" in str(info.value), at


# -- item 7: contradicting metadata --


def test_a_mean_that_contradicts_image_shape_is_refused(run, tmp_path, capsys):
    ckpt = torch.load(run / "checkpoints" / "step_0000004.pt", weights_only=True)
    ckpt["mean"] = torch.zeros(3, 7, 7)
    torch.save(ckpt, tmp_path / "bad.pt")
    assert main(["eval", "--checkpoint", str(tmp_path / "bad.pt"), "--data", "digits", "--limit", "20"]) == 2
    line = _one_error(capsys)
    assert "3x7x7" in line and "image_shape" in line


@pytest.mark.parametrize("step", [-1, 10**20, True])
def test_a_step_that_is_no_step_is_refused(run, tmp_path, capsys, step):
    ckpt = torch.load(run / "checkpoints" / "step_0000004.pt", weights_only=True)
    ckpt["step"] = step
    torch.save(ckpt, tmp_path / "bad.pt")
    assert main(["eval", "--checkpoint", str(tmp_path / "bad.pt"), "--data", "digits", "--limit", "20"]) == 2
    assert "step" in _one_error(capsys)


def test_iters_edited_below_the_checkpoint_is_refused(run, capsys):
    config = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**config, "iters": 3}))
    assert main(["train", "--resume", str(run)]) == 2
    line = _one_error(capsys)
    assert "iters" in line and "3" in line and "step 4" in line
