"""Data-parallel training: two Gloo processes on the CPU under torchrun."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from _torchrun import torchrun

from resviz.core.checkpoint import load_checkpoint
from resviz.core.data import BatchStream, ImageSet
from resviz.core.runs import RunReader
from resviz.core.train import QueueSink, Trainer


def test_ranks_take_disjoint_slices_of_the_same_global_batch():
    n = 64
    data = ImageSet(torch.arange(n, dtype=torch.uint8).reshape(n, 1, 1, 1), torch.zeros(n))
    single = BatchStream(data, 16, torch.Generator().manual_seed(3))
    ranks = [BatchStream(data, 16, torch.Generator().manual_seed(3), rank=r, world_size=2) for r in (0, 1)]
    for _ in range(6):  # across an epoch boundary too
        whole = next(single)[0].flatten().tolist()
        parts = [next(s)[0].flatten().tolist() for s in ranks]
        assert parts[0] + parts[1] == whole and len(parts[0]) == 8


@pytest.mark.slow
def test_two_gloo_ranks_write_one_run_with_identical_replicas(tmp_path, digits):
    run, out = tmp_path / "run", tmp_path / "out"
    out.mkdir()
    script = Path(__file__).with_name("ddp_script.py")
    res = torchrun(script, str(run), str(out), "20")
    assert res.returncode == 0, res.stderr[-3000:]
    r0, r1 = (torch.load(out / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert r0["world_size"] == r1["world_size"] == 2
    assert r0["status"] == r1["status"] == "stopped" and r0["step"] == r1["step"] == 20
    # The replicas end identical, and rank 0's checkpoint holds exactly those weights.
    ckpt = load_checkpoint(RunReader(run).checkpoints()[-1])
    for name, w in r0["model"].items():
        torch.testing.assert_close(r1["model"][name], w, rtol=0, atol=0, msg=f"replicas differ in {name}")
        torch.testing.assert_close(ckpt["model"][name], w, rtol=0, atol=0)
    # Every rank saw the same gathered records, and rank 0 wrote exactly those. The step and
    # evaluation timings (issue #18: each net's share of step time) are each rank's own clock,
    # outside the collective; what rank 0 writes is rank 0's.
    assert _gathered(r0["records"]) == _gathered(r1["records"])
    assert [s for s, _, _ in r0["records"]] == [5, 10, 15, 20]
    reader = RunReader(run)
    stored, events = reader.read_all()
    assert [r.step for r in stored] == [5, 10, 15, 20]
    for rec, (_step, scalars, vectors) in zip(stored, r0["records"], strict=True):
        assert rec.scalars == scalars
        for k, v in vectors.items():
            torch.testing.assert_close(torch.tensor(rec.vectors[k]), torch.tensor(v, dtype=torch.float32))
    assert json.loads((run / "versions.json").read_text())["world_size"] == 2
    assert events[0].kind == "start" and events[0].detail["world_size"] == 2
    assert not list(run.glob("rank*"))  # rank 1 wrote nothing into the run folder

    # The checkpoint resumes under another world size: here a single process.
    q = QueueSink()
    resumed = Trainer.resume(run, sinks=[q], dataset=digits)
    assert resumed.step == 20 and resumed.run() == "finished" and resumed.step == 40
    steps = [r.step for r in RunReader(run).read_all()[0]]
    assert steps == [5, 10, 15, 20, 25, 30, 35, 40]


@pytest.mark.slow
def test_torchrun_cli_records_world_size(tmp_path):
    run = tmp_path / "run"
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc-per-node",
            "2",
            "-m",
            "resviz",
            "train",
            "--arch",
            "resnet8",
            "--iters",
            "10",
            "--batch-size",
            "32",
            "--device",
            "cpu",
            "--quiet",
            "--out",
            str(run),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.count("finished 10/10 iterations") == 1  # only rank 0 reports
    assert json.loads((run / "versions.json").read_text())["world_size"] == 2
    assert RunReader(run).status().status == "finished"


_RANK_CLOCKS = ("step_seconds", "eval_seconds")


def _gathered(records):
    """The records without the timings each rank measures on its own clock."""
    return [(step, {k: v for k, v in sc.items() if k not in _RANK_CLOCKS}, vec) for step, sc, vec in records]
