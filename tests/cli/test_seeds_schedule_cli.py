"""``--schedule``, ``--eval-subset`` and ``--seeds`` on the command line (issue #18)."""

from __future__ import annotations

import argparse
import json

import pytest

from resviz.cli import main
from resviz.cli.train import config_from_args


def _train_args(*argv: str) -> argparse.Namespace:
    from resviz.cli import build_parser

    return build_parser().parse_args(["train", *argv, "--out", "x"])


@pytest.mark.parametrize(
    "argv,schedule,drops",
    [
        ([], "paper", [32_000, 48_000]),  # default: 300 < 32k keeps the paper's drops
        (["--schedule", "scaled"], "scaled", [150, 225]),
        (["--schedule", "paper"], "paper", [32_000, 48_000]),
        (["--schedule", "auto"], "paper", [32_000, 48_000]),
    ],
)
def test_train_takes_the_schedule(argv, schedule, drops):
    cfg = config_from_args(_train_args("--iters", "300", *argv))
    assert (cfg.schedule, cfg.milestone_steps()) == (schedule, drops)


def test_train_takes_the_evaluation_subset():
    assert config_from_args(_train_args("--eval-subset", "250")).eval_subset == 250
    assert config_from_args(_train_args()).eval_subset == 1000


@pytest.mark.parametrize(
    "argv,message",
    [
        (["degradation", "--seeds", "0"], "seeds must be a whole number from 1 to 20"),
        (["paper", "--seeds", "6"], "from 1 to 5"),  # the paper's Table 6 ran 5
    ],
)
def test_bad_seeds_and_schedules_are_refused_in_one_line(tmp_path, capsys, argv, message):
    assert main(["experiment", *argv, "--depths", "8,14", "--out", str(tmp_path / "exp")]) == 2
    err = capsys.readouterr().err
    assert message in err


def test_an_unknown_schedule_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["experiment", "degradation", "--schedule", "cosine", "--out", "x"])
    assert exc.value.code == 2 and "invalid choice: 'cosine'" in capsys.readouterr().err


def test_seeds_train_twins_per_seed_and_judge_by_the_spread(tmp_path, capsys):
    out = tmp_path / "exp"
    argv = ["experiment", "degradation", "--depths", "8,14", "--iters", "4", "--batch-size", "8"]
    argv += ["--device", "cpu", "--seeds", "2", "--schedule", "scaled", "--out", str(out)]
    assert main(argv) == 0
    md = capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    names = [r["name"] for r in summary["runs"]]
    assert names[:4] == ["plain8-seed0", "plain14-seed0", "resnet8-seed0", "resnet14-seed0"]
    assert names[4:] == [n.replace("seed0", "seed1") for n in names[:4]]
    configs = {n: json.loads((out / n / "config.json").read_text()) for n in names}
    assert configs["plain8-seed1"]["seed"] == configs["resnet8-seed1"]["seed"] == 1  # twins share a seed
    assert {c["schedule"] for c in configs.values()} == {"scaled"}
    plain8 = summary["train_error"]["plain8"]
    values = [r["train_error"] for r in summary["runs"] if r["net"] == "plain8"]
    assert plain8["basis"] == "seeds" and plain8["runs"] == 2
    assert plain8["value"] == pytest.approx(sum(values) / 2)
    assert plain8["std"] == pytest.approx(abs(values[0] - values[1]) / 2**0.5)
    assert "| plain8 | 2 |" in md and "mean ± std" in md and "Schedule: scaled schedule" in md
    assert len(summary["claims"]) == 4 and summary["seeds"] == 2
    assert json.loads((out / "experiment.json").read_text())["seeds"] == 2
