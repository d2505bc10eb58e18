"""The degradation experiment trains its nets as one lockstep group (issue #11)."""

from __future__ import annotations

import json

import pytest

from resviz.core.errors import RunError
from resviz.core.experiment import resume_degradation, run_degradation
from resviz.core.records import Record
from resviz.core.runs import RunReader
from resviz.core.train.config import TrainConfig

BASE = dict(data="digits", iters=20, batch_size=16, telemetry_every=5, eval_every=10, checkpoint_every=20, device="cpu")
NAMES = ["plain8", "plain14", "resnet8", "resnet14"]


class Log:
    def __init__(self, log, name, group, at=None):
        self.log, self.name, self.group, self.at = log, name, group, at

    def record(self, r: Record):
        self.log.append((self.name, r.step, list(self.group.steps)))
        if self.at and r.step == self.at[0]:
            self.at[1](self.group)

    def event(self, e):
        pass

    def status(self, s):
        pass


def _watch(log, at=None):
    def on_group(group):
        for t in group.trainers:
            t.sinks.append(Log(log, t.config.spec.name, group, at))

    return on_group


def test_the_nets_train_together_and_the_report_is_as_before(tmp_path):
    log: list = []
    summary = run_degradation(tmp_path / "exp", TrainConfig(**BASE), (8, 14), on_group=_watch(log))
    # the same content as when the nets trained one after the other
    assert [r["name"] for r in summary["runs"]] == NAMES and summary["complete"]
    assert all(r["status"] == "finished" for r in summary["runs"])
    assert [c["kind"] for c in summary["claims"]] == [
        "degradation",
        "residual_beats_plain",
        "residual_beats_plain",
        "depth_helps",
    ]
    for r in summary["runs"]:
        reader = RunReader(tmp_path / "exp" / r["name"])
        assert reader.status().status == "finished" and reader.status().step == 20
        assert {"train_error", "test_error", "seconds"} <= set(r) and r["seconds"] > 0
    # each net's seconds are its share of one clock
    assert sum(r["seconds"] for r in summary["runs"]) == pytest.approx(summary["wall_seconds"], rel=0.25)
    md = (tmp_path / "exp" / "summary.md").read_text()
    assert (
        "| plain14 |" in md
        and md.count("**holds**") + md.count("**does not hold**") + md.count("**too close to call**") == 4
    )
    assert (tmp_path / "exp" / "report.png").stat().st_size > 20_000
    assert json.loads((tmp_path / "exp" / "summary.json").read_text()) == summary
    # together: the four curves grew round by round, every net at the same step at each record
    assert [(n, s) for n, s, _ in log[:8]] == [(n, 5) for n in NAMES] + [(n, 10) for n in NAMES]
    for name, step, steps in log:
        assert all(step - 1 <= other <= step for other in steps), (name, step, steps)


def test_a_stopped_experiment_resumes_and_reports_every_net(tmp_path):
    out = tmp_path / "exp"
    stop = (10, lambda group: group.control.stop())
    summary = run_degradation(out, TrainConfig(**BASE), (8, 14), on_group=_watch([], at=stop))
    assert not summary["complete"] and summary["claims"] == []
    assert [r["status"] for r in summary["runs"]] == ["stopped"] * 4
    assert "What the paper expects" in (out / "summary.md").read_text()
    first_wall = summary["wall_seconds"]

    summary = resume_degradation(out)
    assert summary["complete"] and len(summary["claims"]) == 4
    assert [r["status"] for r in summary["runs"]] == ["finished"] * 4
    assert summary["wall_seconds"] > first_wall  # both parts counted
    for name in NAMES:
        steps = [r.step for r in RunReader(out / name).read_all()[0]]
        assert steps == [5, 10, 15, 20]  # each step recorded once, across the two parts
    with pytest.raises(RunError, match="nothing to resume"):
        resume_degradation(out)
    with pytest.raises(RunError, match="not the folder of a degradation experiment"):
        resume_degradation(tmp_path)


def test_a_failing_net_leaves_the_others_to_finish(tmp_path):
    def poison(group):
        bad = group.trainers[1]  # plain14: NaN logits from step 8 on
        bad.model.fc.register_forward_hook(lambda m, i, out: out * float("nan") if bad.step >= 7 else out)

    summary = run_degradation(tmp_path / "exp", TrainConfig(**BASE), (8, 14), on_group=poison)
    assert [r["status"] for r in summary["runs"]] == ["finished", "failed", "finished", "finished"]
    assert not summary["complete"] and summary["claims"] == []
    assert (tmp_path / "exp" / "report.png").is_file()
