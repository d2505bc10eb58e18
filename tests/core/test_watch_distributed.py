"""resviz.watch under DDP: two Gloo processes on the CPU under torchrun (issue #21)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from _torchrun import torchrun

from resviz.core.runs import RunReader


@pytest.mark.slow
def test_rank0_writes_the_mean_over_ranks_with_one_all_reduce_per_record(tmp_path):
    run, out = tmp_path / "run", tmp_path / "out"
    out.mkdir()
    script = Path(__file__).with_name("watch_ddp_script.py")
    res = torchrun(script, str(run), str(out))
    assert res.returncode == 0, res.stderr[-3000:]
    r0, r1 = (torch.load(out / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert r0["store"] and not r1["store"]  # only rank 0 writes
    assert len(r0["calls"]) == len(r1["calls"]) == 2  # one all-reduce per record (steps 2 and 4), none between
    with RunReader(run) as reader:
        records = reader.read_all()[0]
        assert reader.versions()["world_size"] == 2
    assert [r.step for r in records] == [2, 4]
    for rec, a, b in zip(records, r0["local"], r1["local"], strict=True):
        assert not torch.allclose(a["ratio"], b["ratio"])  # the ranks saw different images
        want = ((a["ratio"] + b["ratio"]) / 2).tolist()
        assert rec.vectors["residual_ratio"].tolist() == pytest.approx(want, rel=1e-5)
    for i, rec in enumerate(records):  # a record's loss: the mean over its 2 steps and both ranks
        want = torch.cat([r0["losses"][2 * i : 2 * i + 2], r1["losses"][2 * i : 2 * i + 2]]).double().mean().item()
        assert rec.scalars["loss"] == pytest.approx(want, rel=1e-6)
