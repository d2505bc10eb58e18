"""``resviz experiment imagenet`` (issue #22): its refusals, and a 2-process Gloo torchrun run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from imagefolder import make_image_folder

from resviz.cli import main
from resviz.core.paper.imagenet import PAPER_TABLE2
from resviz.core.paper.imagenet_report import ImageNetResult, judge_claims

ROOT = Path(__file__).resolve().parents[2]


def test_table2_numbers_are_the_papers():
    assert PAPER_TABLE2 == {("plain", 18): 27.94, ("plain", 34): 28.54, ("resnet", 18): 27.88, ("resnet", 34): 25.03}


def test_claims_are_judged_on_finished_nets_only():
    def r(kind, depth, err, status="finished"):
        return ImageNetResult(f"{kind}{depth}", kind, depth, status, 10, 10, err + 1, err)

    claims = judge_claims([r("plain", 18, 30.0), r("plain", 34, 31.0), r("resnet", 18, 29.5), r("resnet", 34, 28.0)])
    assert [c["verdict"] for c in claims] == ["held", "held", "held", "held"]
    assert claims[0]["ours"] == "31.00 vs 30.00"  # plain-34 first: the deeper net's error is higher
    flipped = judge_claims([r("plain", 18, 31.0), r("plain", 34, 30.0), r("resnet", 18, 27.0), r("resnet", 34, 28.0)])
    assert [c["verdict"] for c in flipped] == ["did not hold", "did not hold", "held", "did not hold"]
    stopped = judge_claims([r("plain", 18, 30.0), r("plain", 34, 31.0, "stopped")])
    assert stopped[0]["verdict"] == "untested"


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["imagenet", "--data", "x", "--depths", "20", "--out", "o"], "18 and/or 34"),
        (["imagenet", "--data", "x", "--lr", "0.2", "--out", "o"], "drop --lr"),
        (["paper", "--size", "32", "--out", "o"], "--size belong(s) to the imagenet experiment"),
    ],
)
def test_bad_plans_are_refused_in_one_line(argv, says, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["experiment", *argv]) == 2
    assert says in capsys.readouterr().err


@pytest.mark.slow
def test_two_gloo_ranks_under_torchrun_write_fig4_and_table2(tmp_path):
    data = make_image_folder(tmp_path / "f", classes=2, train_per_class=4, test_per_class=2)
    out = tmp_path / "exp"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    res = subprocess.run(
        [
            sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
            "-m", "resviz", "experiment", "imagenet", "--data", str(data), "--size", "32", "--depths", "18",
            "--iters", "2", "--batch-size", "4", "--workers", "0", "--device", "cpu", "--out", str(out),
        ],
        capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    assert (out / "fig4.png").stat().st_size > 10_000
    table = (out / "table2.md").read_text()
    assert "paper 27.94; 2/2 it., finished" in table and "paper 27.88; 2/2 it., finished" in table
    for net in ("plain18", "resnet18"):
        assert json.loads((out / net / "versions.json").read_text())["world_size"] == 2
    summary = json.loads((out / "summary.json").read_text())
    assert [n["name"] for n in summary["nets"]] == ["plain18", "resnet18"]
    assert all(n["ten_crop_error"] is not None for n in summary["nets"])
    assert "2 rank(s)" in res.stderr


def test_the_estimate_is_the_measured_step_times_the_iterations(monkeypatch):
    import resviz.core.paper.imagenet as imagenet

    seen = []

    def fake(cfg, dataset, steps):
        seen.append((cfg.arch, cfg.batch_size))
        return 2.0 if cfg.arch.endswith("34") else 0.5  # seconds per step

    monkeypatch.setattr(imagenet, "measure_step_seconds", fake)
    plan = imagenet.ImageNetPlan(data="/x", depths=(18, 34), iters=1000, device="cpu")
    nets = plan.configs(train_images=5000)
    assert [n for n, _ in nets] == ["plain18", "resnet18", "plain34", "resnet34"]
    assert all(c.shortcut == "A" and c.recipe == "imagenet" and c.stream for _, c in nets)
    est = imagenet.estimate(plan, None, nets, world_size=4)
    assert seen == [("plain18", 64), ("resnet18", 64), ("plain34", 64), ("resnet34", 64)]  # 256 / 4 ranks
    assert est.per_net == {"plain18": 500.0, "resnet18": 500.0, "plain34": 2000.0, "resnet34": 2000.0}
    assert est.seconds == 5000.0 and est.long  # over an hour: needs --yes
    assert imagenet.ImageNetPlan(data="/x").configs(train_images=1_281_167)[0][1].iters == 450_410
