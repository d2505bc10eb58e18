"""``resviz experiment paper --seeds N`` end to end at tiny scale (resnet8 and plain8 on digits)."""

from __future__ import annotations

import json

import pytest

from resviz.cli import main
from resviz.core.paper.plan import PaperPlan
from resviz.core.runs import RunReader
from resviz.core.runs.history import load_history

TINY = ["--data", "digits", "--depths", "8", "--plain-depths", "8", "--iters", "8", "--batch-size", "16"]
RUNS = ["plain8-seed5", "plain8-seed6", "resnet8-seed5", "resnet8-seed6"]


def test_two_seeds_train_each_net_twice_and_table6_gives_best_mean_and_std(tmp_path, capsys):
    out = tmp_path / "exp"
    argv = ["experiment", "paper", *TINY, "--device", "cpu", "--threads", "1", "--seed", "5", "--seeds", "2"]
    assert main([*argv, "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == RUNS
    for name in RUNS:
        with RunReader(out / name) as reader:
            assert reader.config["seed"] == int(name[-1]) and reader.status().status == "finished"
    plan = PaperPlan.from_dict(json.loads((out / "paper.json").read_text())["plan"])
    assert (plan.seed, plan.seeds) == (5, 2)
    rows = {r["net"]: r for r in json.loads((out / "table6.json").read_text())["rows"]}
    assert sorted(rows) == ["plain8", "resnet8"]
    for net, row in rows.items():
        errors = []
        for seed in (5, 6):  # each seed's last test error, as its own history gives it
            errors.append(load_history(out / f"{net}-seed{seed}").final_errors()["test_error"])
        mean = sum(errors) / 2
        std = abs(errors[0] - errors[1]) / 2**0.5  # the sample std of two values: |a - b| / sqrt(2)
        assert row["seeds"] == 2 and row["test_best"] == pytest.approx(min(errors))
        assert row["test_error"] == pytest.approx(mean) and row["test_std"] == pytest.approx(std)
        cell = f"| {net} | 1 | 8 | 0.08M | — | {min(errors):.2f} ({mean:.2f} ± {std:.2f}) |"
        assert cell in printed.out
    assert "over 2 seeds" in (out / "claims.md").read_text()
    assert "seeds 5–6 (2 runs of each net)" in printed.out
    # --resume keeps the plan's seeds: nothing left, and a new --seeds is refused
    assert main(["experiment", "paper", "--resume", str(out), "--seeds", "3"]) == 2
    assert "--resume continues the experiment with its own plan; drop --seeds" in capsys.readouterr().err
    assert main(["experiment", "paper", "--resume", str(out), "--estimate"]) == 0
    assert "nothing left to train" in capsys.readouterr().err


@pytest.mark.parametrize("seeds", ["0", "6", "-1"])
def test_a_bad_number_of_seeds_is_one_line_and_exit_status_2(seeds, tmp_path, capsys):
    code = main(["experiment", "paper", *TINY, "--seeds", seeds, "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 2
    assert (
        err
        == f"resviz: error: --seeds takes a whole number from 1 to 5 (Table 6 gives ResNet-110 over 5 runs), not {seeds}\n"
    )
    assert not (tmp_path / "x").exists()


def test_the_imagenet_experiment_refuses_seeds(tmp_path, capsys):
    assert main(["experiment", "imagenet", "--seeds", "2", "--out", str(tmp_path / "i")]) == 2
    assert "drop --seeds" in capsys.readouterr().err
