"""Which learning-rate schedule a budget gets (issue #18), and the fixed test subset evaluated
during training: a short run is the start of the paper's run, and evaluating does not eat it."""

from __future__ import annotations

import json

import pytest

from resviz.core.experiment import degradation_plan
from resviz.core.paper.plan import PaperPlan
from resviz.core.records import Event, Record
from resviz.core.runs.history import load_history
from resviz.core.train import QueueSink, TrainConfig, Trainer
from resviz.core.train.schedule import LearningRate, describe_schedule


def test_a_short_budget_keeps_the_paper_drops_where_the_paper_has_them():
    cfg = TrainConfig(iters=300)
    assert cfg.schedule == "paper"  # "auto" resolved on creation; config.json stores what ran
    assert cfg.milestone_steps() == [32_000, 48_000]
    lr = LearningRate(cfg)
    assert [lr.at(s)[0] for s in (0, 150, 225, 299)] == [0.1, 0.1, 0.1, 0.1]  # Fig. 6's first 300
    assert "lr 0.1 throughout these 300 iterations" in describe_schedule(cfg)


def test_scaled_is_todays_fifty_and_seventy_five_percent():
    cfg = TrainConfig(iters=300, schedule="scaled")
    assert cfg.milestone_steps() == [150, 225]
    lr = LearningRate(cfg)
    assert lr.at(149)[0] == pytest.approx(0.1) and lr.at(150)[0] == pytest.approx(0.01)
    assert lr.at(299)[0] == pytest.approx(0.001)
    assert describe_schedule(cfg) == "scaled schedule: lr 0.1, divided by 10 at 150, 225 (50 % and 75 % of the budget)"


@pytest.mark.parametrize(
    "iters,schedule,drops",
    [
        (31_999, "paper", [32_000, 48_000]),  # ends before the first drop: the paper's
        (32_000, "scaled", [16_000, 24_000]),  # reaches it: scaled, as before
        (64_000, "scaled", [32_000, 48_000]),  # the full run: both are the paper's
    ],
)
def test_auto_picks_by_the_budget(iters, schedule, drops):
    cfg = TrainConfig(iters=iters)
    assert (cfg.schedule, cfg.milestone_steps()) == (schedule, drops)


def test_an_explicit_paper_schedule_on_a_long_budget_drops_at_32k_and_48k():
    assert TrainConfig(iters=40_000, schedule="paper").milestone_steps() == [32_000, 48_000]


def test_old_runs_without_the_field_read_as_scaled_and_new_ones_round_trip():
    assert TrainConfig.from_dict({"iters": 300}).schedule == "scaled"  # they were
    assert TrainConfig.from_dict(TrainConfig(iters=300).to_dict()).schedule == "paper"
    assert PaperPlan.from_dict({"depths": [8], "plain_depths": [], "iters": 300}).schedule == "scaled"
    assert PaperPlan(depths=(8,), plain_depths=(), iters=300).schedule == "paper"


def test_a_bad_schedule_is_refused_in_one_line():
    from resviz.core.errors import ConfigError

    with pytest.raises(ConfigError, match="schedule must be auto, paper or scaled"):
        TrainConfig(schedule="cosine")


def test_the_experiment_nets_share_the_schedule_and_seeds_make_twins():
    plan = degradation_plan(TrainConfig(iters=300, seed=4), (8, 14), seeds=2)
    assert [n for n, _ in plan] == [
        "plain8-seed4",
        "plain14-seed4",
        "resnet8-seed4",
        "resnet14-seed4",
        "plain8-seed5",
        "plain14-seed5",
        "resnet8-seed5",
        "resnet14-seed5",
    ]
    assert {c.schedule for _, c in plan} == {"paper"}
    assert [c.seed for _, c in plan] == [4, 4, 4, 4, 5, 5, 5, 5]


def test_training_evaluates_a_fixed_subset_and_the_whole_split_at_the_end(digits, tmp_path):
    cfg = TrainConfig(
        arch="resnet8", iters=6, batch_size=16, telemetry_every=3, eval_every=3, eval_subset=100, device="cpu"
    )
    q = QueueSink()
    trainer = Trainer(cfg, run_dir=tmp_path / "run", sinks=[q], dataset=digits)
    assert trainer.run() == "finished"
    recs = [r for r in q.drain() if isinstance(r, Record)]
    n_test = len(digits.test)
    assert n_test == 359 > 100
    assert [(r.step, r.scalars.get("test_images")) for r in recs] == [(3, 100.0), (6, float(n_test))]
    # 100 images, 10 classes of the digits: exactly 10 of each (a stratified subset)
    labels = trainer.eval_shard.labels
    assert len(labels) == 100 and sorted(labels.bincount().tolist()) == [10] * 10
    assert trainer.eval_seconds > 0
    history = load_history(tmp_path / "run")
    assert history.final_counts(16) == {"train_images": 3 * 16, "test_images": n_test}
    assert json.loads((tmp_path / "run" / "config.json").read_text())["schedule"] == "paper"


def test_the_subset_is_the_same_for_every_net_and_seed(digits):
    def subset(**kw):
        cfg = TrainConfig(arch="resnet8", iters=2, batch_size=16, eval_subset=50, device="cpu", **kw)
        return Trainer(cfg, dataset=digits).eval_shard.images

    a = subset(seed=0)
    assert (a == subset(seed=3, plain=True)).all()


def test_lr_drop_events_follow_the_schedule(digits):
    q = QueueSink()
    cfg = TrainConfig(arch="resnet8", iters=8, batch_size=16, telemetry_every=4, eval_every=8, device="cpu")
    Trainer(cfg, sinks=[q], dataset=digits).run()
    assert not [e for e in q.drain() if isinstance(e, Event) and e.kind == "lr_drop"]  # paper: none in 8 steps
