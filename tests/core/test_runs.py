"""Run folders: readable while written, robust to SIGKILL, resumable, exportable."""

from __future__ import annotations

import csv
import io
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from resviz.core.errors import RunError
from resviz.core.runs import RunReader, export_run
from resviz.core.train import TrainConfig, TrainControl, Trainer


def _train_subprocess(out: Path, *extra: str) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "resviz",
        "train",
        "--arch",
        "resnet8",
        "--iters",
        "5000",
        "--batch-size",
        "32",
        "--telemetry-every",
        "2",
        "--checkpoint-every",
        "10",
        "--eval-every",
        "50",
        "--device",
        "cpu",
        "--threads",
        "1",
        "--out",
        str(out),
        *extra,
    ]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _wait(pred, timeout=90.0, proc=None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"training process ended early: {proc.stderr.read()}")
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_sigkill_leaves_a_readable_store_that_resumes(tmp_path, digits):
    run = tmp_path / "run"
    proc = _train_subprocess(run)
    try:
        reader = None

        def followed_some():
            nonlocal reader
            if reader is None:
                try:
                    reader = RunReader(run)
                except RunError:
                    return False  # the writer has not made the folder yet
            return len(reader.checkpoints()) >= 2

        _wait(followed_some, proc=proc)
        # The reader follows while the writer writes: polls return only what is new.
        first, _ = reader.poll()
        _wait(lambda: len(reader.poll()[0]) > 0, proc=proc)
        assert first and reader.status().status == "running"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        proc.stderr.close()
    reader = RunReader(run)
    recs, evs = reader.read_all()
    assert recs and evs[0].kind == "start"
    status = reader.status()
    assert status.status == "stopped" and "resume" in status.reason  # the writer is gone
    last_ckpt = int(reader.checkpoints()[-1].stem.split("_")[1])
    control = TrainControl()

    class StopSoon:
        def record(self, r):
            control.stop()

        def event(self, e): ...

        def status(self, s): ...

    resumed = Trainer.resume(run, control=control, sinks=[StopSoon()], dataset=digits)
    assert resumed.step == last_ckpt
    assert resumed.run() == "stopped" and resumed.step == last_ckpt + 2
    steps = [r.step for r in RunReader(run).read_all()[0]]
    assert steps == sorted(set(steps)) and steps[-1] == last_ckpt + 2


def test_poll_is_incremental(tmp_path, digits):
    cfg = TrainConfig(arch="resnet8", iters=10, batch_size=16, telemetry_every=5, eval_every=10, device="cpu")
    Trainer(cfg, run_dir=tmp_path / "a", dataset=digits).run()
    reader = RunReader(tmp_path / "a")
    recs, evs = reader.poll()
    assert [r.step for r in recs] == [5, 10]
    assert reader.poll() == ([], [])
    assert reader.layout["residual_ratio"] == ["layer1.0", "layer2.0", "layer3.0"]
    assert reader.config["arch"] == "resnet8"
    assert "torch" in reader.versions()


def test_export_long_format(tmp_path, digits):
    cfg = TrainConfig(arch="resnet8", iters=10, batch_size=16, telemetry_every=5, eval_every=10, device="cpu")
    Trainer(cfg, run_dir=tmp_path / "a", dataset=digits).run()
    n = export_run(tmp_path / "a", tmp_path / "m.csv")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "m.csv").read_text())))
    assert len(rows) == n and list(rows[0]) == ["step", "metric", "index", "value"]
    loss = [r for r in rows if r["metric"] == "loss"]
    assert [r["step"] for r in loss] == ["5", "10"] and all(r["index"] == "" for r in loss)
    ratio = [r for r in rows if r["metric"] == "residual_ratio" and r["step"] == "10"]
    assert [r["index"] for r in ratio] == ["0", "1", "2"] and all(float(r["value"]) > 0 for r in ratio)
    export_run(tmp_path / "a", tmp_path / "m.json", fmt="json")
    doc = json.loads((tmp_path / "m.json").read_text())
    assert len(doc["rows"]) == n and doc["config"]["arch"] == "resnet8"


def test_reader_refuses_what_is_not_a_run(tmp_path):
    with pytest.raises(RunError, match="does not exist"):
        RunReader(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(RunError, match="not a run folder"):
        RunReader(tmp_path / "empty")
