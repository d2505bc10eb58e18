"""Faults while training (issue #9): weights that stop being finite, and a full disk.

A checkpoint is only written when every weight and every momentum buffer is finite, so
"the last good checkpoint" is good; a full disk ends the run ``failed`` with one line that
names the device, the file and the last checkpoint, and leaves the earlier ones intact.
"""

from __future__ import annotations

import errno
import sqlite3

import pytest
import torch

from resviz.core.checkpoint import check_finite_weights, load_checkpoint
from resviz.core.errors import CheckpointError
from resviz.core.runs import RunReader
from resviz.core.train import TrainConfig, Trainer


def tiny(**kw) -> TrainConfig:
    base = {
        "arch": "resnet8",
        "iters": 40,
        "batch_size": 16,
        "telemetry_every": 5,
        "eval_every": 20,
        "checkpoint_every": 10,
        "device": "cpu",
    }
    return TrainConfig(**{**base, **kw})


class Poison:
    """A sink that makes one tensor NaN once a record reaches ``step``."""

    def __init__(self, tensor_of, step: int) -> None:
        self.tensor_of, self.step = tensor_of, step

    def record(self, r):
        if r.step == self.step:
            with torch.no_grad():
                tensor = self.tensor_of()  # channels-last weights do not view(-1): index the first element
                tensor[(0,) * tensor.dim()] = float("nan")

    def event(self, e): ...

    def status(self, s): ...


def _all_finite(path) -> bool:
    ckpt = load_checkpoint(path)
    tensors = list(ckpt["model"].values())
    for state in ckpt["trainer"]["optimizer"]["state"].values():
        tensors += [v for v in state.values() if isinstance(v, torch.Tensor)]
    return all(torch.isfinite(t).all() for t in tensors if t.is_floating_point())


# -- 2. non-finite weights -----------------------------------------------------------


def test_a_nan_weight_is_never_checkpointed(digits, tmp_path):
    t = Trainer(tiny(checkpoint_every=1, telemetry_every=1), run_dir=tmp_path / "run", dataset=digits)
    t.sinks.append(Poison(lambda: t.model.conv1.weight, 12))
    assert t.run() == "failed"
    assert "not finite" in t.reason and "the last good checkpoint is step 11" in t.reason
    reader = RunReader(tmp_path / "run")
    assert [p.name for p in reader.checkpoints()] == ["step_0000009.pt", "step_0000010.pt", "step_0000011.pt"]
    assert all(_all_finite(p) for p in reader.checkpoints())
    status = reader.status()
    assert status.status == "failed" and "step 11" in status.reason


def test_a_nan_momentum_buffer_is_never_checkpointed(digits, tmp_path):
    t = Trainer(tiny(), run_dir=tmp_path / "run", dataset=digits)
    t.sinks.append(Poison(lambda: t.optimizer.state[t.model.fc.weight]["momentum_buffer"], 20))
    assert t.run() == "failed"
    assert "not finite" in t.reason and "the last good checkpoint is step 10" in t.reason
    assert [p.name for p in RunReader(tmp_path / "run").checkpoints()] == ["step_0000010.pt"]


def test_a_huge_learning_rate_keeps_no_nan_checkpoint(digits, tmp_path):
    """The issue's reproduction: ``--lr 1000 --checkpoint-every 1``."""
    t = Trainer(tiny(lr=1000.0, checkpoint_every=1, iters=60), run_dir=tmp_path / "run", dataset=digits)
    assert t.run() == "failed"
    ckpts = RunReader(tmp_path / "run").checkpoints()
    assert all(_all_finite(p) for p in ckpts)
    if ckpts:
        assert f"step {int(ckpts[-1].stem.split('_')[1])}" in t.reason


def test_check_finite_weights_names_the_tensor(trained_resnet14):
    import copy

    model = copy.deepcopy(trained_resnet14)
    check_finite_weights(model)  # finite: no error
    state = {k: v.clone() for k, v in model.state_dict().items()}
    state["layer2.0.conv1.weight"][0, 0, 0, 0] = float("inf")
    with pytest.raises(CheckpointError, match=r"not finite.*layer2\.0\.conv1\.weight"):
        check_finite_weights(state, label="w.pt")
    with torch.no_grad():
        model.bn1.running_var[3] = float("nan")
    with pytest.raises(CheckpointError, match=r"bn1\.running_var"):
        check_finite_weights(model)


def test_inspector_loading_refuses_non_finite_weights(trained_resnet14, tmp_path):
    from resviz.core.inspect.loading import load_model

    state = {k: v.clone() for k, v in trained_resnet14.state_dict().items()}
    state["fc.weight"][1, 2] = float("nan")
    torch.save(state, tmp_path / "nan.pt")
    with pytest.raises(CheckpointError, match=r"nan\.pt.*not finite.*fc\.weight") as info:
        load_model(tmp_path / "nan.pt")
    assert "\n" not in str(info.value)


# -- 5. a full disk ------------------------------------------------------------------


def _no_space(*_a, **_k):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_disk_full_while_writing_a_checkpoint(digits, tmp_path, monkeypatch):
    from resviz.core import checkpoint

    real_save = torch.save
    t = Trainer(tiny(), run_dir=tmp_path / "run", dataset=digits)

    def save(obj, f, *a, **k):
        if t.step >= 30:
            f.write(b"some bytes first")
            _no_space()
        return real_save(obj, f, *a, **k)

    monkeypatch.setattr(checkpoint.torch, "save", save)
    assert t.run() == "failed"
    assert t.reason.startswith("no space left on ")
    assert "while writing" in t.reason and "step_0000030.pt" in t.reason
    assert t.reason.endswith("the last checkpoint is step 20")
    reader = RunReader(tmp_path / "run")
    assert [p.name for p in reader.checkpoints()] == ["step_0000010.pt", "step_0000020.pt"]
    assert all(_all_finite(p) for p in reader.checkpoints())  # intact and readable
    assert not list((tmp_path / "run" / "checkpoints").glob(".*tmp*"))  # no half-written file left
    assert reader.status().status == "failed" and reader.status().reason == t.reason


class _FullDatabase:
    """Wraps a sqlite3 connection: every commit from ``after`` on fails as on a full disk."""

    def __init__(self, db, trainer, after: int) -> None:
        self._db, self._trainer, self._after = db, trainer, after

    def commit(self):
        if self._trainer.step >= self._after:
            raise sqlite3.OperationalError("database or disk is full")
        return self._db.commit()

    def __getattr__(self, name):
        return getattr(self._db, name)


def test_disk_full_in_the_metrics_database(digits, tmp_path):
    t = Trainer(tiny(), run_dir=tmp_path / "run", dataset=digits)
    t.store._db = _FullDatabase(t.store._db, t, 25)
    t.store.commit_interval = 0.0  # commit at every record
    assert t.run() == "failed"
    assert t.reason.startswith("no space left on ") and "metrics.sqlite" in t.reason
    assert t.reason.endswith("the last checkpoint is step 20")
    assert RunReader(tmp_path / "run").status().status == "failed"


def test_disk_full_writing_status_json(digits, tmp_path, monkeypatch):
    from resviz.core.runs import files

    t = Trainer(tiny(iters=20), run_dir=tmp_path / "run", dataset=digits)
    real = files._write_text

    def write_text(path, text):
        if t.step >= 20:
            _no_space()
        real(path, text)

    monkeypatch.setattr(files, "_write_text", write_text)
    monkeypatch.setattr(files, "_overwrite", lambda path, text: _no_space())
    assert t.run() == "failed"
    assert t.reason.startswith("no space left on ") and "status.json" in t.reason
    assert not list((tmp_path / "run").glob(".status.json.tmp*"))


def test_a_disk_too_full_for_new_files_still_records_failed(digits, tmp_path, monkeypatch):
    """No new file can be made (status.json's temporary one neither): it is rewritten in place."""
    from resviz.core.runs import files

    t = Trainer(tiny(), run_dir=tmp_path / "run", dataset=digits)
    t.store._db = _FullDatabase(t.store._db, t, 25)
    t.store.commit_interval = 0.0
    real = files._write_text

    def write_text(path, text):
        if t.step >= 25:
            _no_space()
        real(path, text)

    monkeypatch.setattr(files, "_write_text", write_text)
    assert t.run() == "failed"
    status = RunReader(tmp_path / "run").status()
    assert status.status == "failed" and status.reason == t.reason and "metrics.sqlite" in status.reason


def test_disk_full_in_the_cli_is_one_line(tmp_path, monkeypatch, capsys):
    from resviz.cli import main
    from resviz.core import checkpoint

    monkeypatch.setattr(checkpoint.torch, "save", _no_space)
    code = main(
        [
            "train",
            "--arch",
            "resnet8",
            "--iters",
            "20",
            "--batch-size",
            "16",
            "--checkpoint-every",
            "10",
            "--device",
            "cpu",
            "--quiet",
            "--out",
            str(tmp_path / "run"),
        ]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    first = err.splitlines()[0]
    assert first.startswith("resviz: error: training failed at step 10: no space left on ")
    assert "no checkpoint was written" in first


def test_resume_names_the_weights_that_do_not_fit(digits, tmp_path):
    """A checkpoint whose weights do not fit the run's net is reported by name, not as torch's
    truncated "Error(s) in loading state_dict for ResNet:" (issue #9)."""
    from resviz.core.train.snapshot import save_training_checkpoint

    run = tmp_path / "r"
    trainer = Trainer(tiny(iters=10, checkpoint_every=5), run_dir=run, dataset=digits)
    assert trainer.run() == "finished"
    newest = sorted((run / "checkpoints").glob("step_*.pt"))[-1]
    state = load_checkpoint(newest)
    state["model"]["fc.weight"] = torch.zeros(3, 64)  # a 3-class head in a 10-class run
    del state["model"]["layer3.0.conv1.weight"]
    state["step"] = 7
    newest.unlink()
    save_training_checkpoint(run / "checkpoints", state)
    # The run is finished; make it resumable as a killed one would be.
    status = (run / "status.json").read_text().replace('"finished"', '"stopped"')
    (run / "status.json").write_text(status)
    with pytest.raises(CheckpointError) as info:
        Trainer.resume(run, dataset=digits)
    message = str(info.value)
    assert "fc.weight is (3, 64) in the file but (10, 64) in resnet8" in message
    assert "missing layer3.0." in message and "not written for this run's net" in message
    assert "Error(s) in loading" not in message and "--arch" not in message


def test_a_cifar_net_deeper_than_the_papers_deepest_is_refused_up_front():
    from resviz.core.archs import parse_arch
    from resviz.core.errors import ConfigError
    from resviz.core.limits import MAX_CIFAR_DEPTH

    assert parse_arch(f"resnet{MAX_CIFAR_DEPTH}").depth == 1202
    with pytest.raises(ConfigError, match="up to 1202 layers"):
        TrainConfig(arch="resnet600002")
    with pytest.raises(ConfigError, match="up to 1202 layers"):
        parse_arch("plain1208")
