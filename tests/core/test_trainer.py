"""The training engine on a tiny net (resnet8) and the digits set."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from resviz.core.records import Event, Record, StatusChange
from resviz.core.runs import RunReader
from resviz.core.train import QueueSink, TrainConfig, TrainControl, Trainer


def tiny(**kw) -> TrainConfig:
    base = dict(
        arch="resnet8", iters=40, batch_size=32, telemetry_every=5, eval_every=20, checkpoint_every=20, device="cpu"
    )
    base.update(kw)
    return TrainConfig(**base)


def records(items):
    return [i for i in items if isinstance(i, Record)]


def events(items):
    return [i for i in items if isinstance(i, Event)]


class StopAt:
    """A sink that asks the trainer to stop once a record reaches ``step``."""

    def __init__(self, control: TrainControl, step: int) -> None:
        self.control, self.step = control, step

    def record(self, r):
        if r.step >= self.step:
            self.control.stop()

    def event(self, e):
        pass

    def status(self, s):
        pass


def test_every_metric_with_the_right_number_of_indices(digits, tmp_path):
    q = QueueSink()
    t = Trainer(tiny(), run_dir=tmp_path / "run", sinks=[q], dataset=digits)
    assert t.run() == "finished"
    recs = records(q.drain())
    assert [r.step for r in recs] == list(range(5, 41, 5))
    for r in recs:
        assert {"loss", "train_error", "lr", "images_per_s"} <= set(r.scalars)
        assert len(r.vectors["residual_ratio"]) == 3 == len(t.layout["residual_ratio"])
        assert len(r.vectors["response_std"]) == 7 == len(t.layout["response_std"])
        assert len(r.vectors["grad_norm"]) == 8 == len(t.layout["grad_norm"])
        assert all(np.isfinite(v).all() and (v > 0).all() for v in r.vectors.values())
    assert [r.step for r in recs if "test_error" in r.scalars] == [20, 40]
    assert t.layout["grad_norm"][0] == "conv1" and t.layout["grad_norm"][-1] == "fc"
    # The loss goes down on real data.
    assert recs[-1].scalars["loss"] < recs[0].scalars["loss"]


def test_scaled_schedule_drops_lr_at_half_and_three_quarters(digits):
    q = QueueSink()
    Trainer(tiny(iters=40, lr=0.1, schedule="scaled"), sinks=[q], dataset=digits).run()
    items = q.drain()
    lrs = {r.step: r.scalars["lr"] for r in records(items)}
    assert lrs[20] == pytest.approx(0.1) and lrs[25] == pytest.approx(0.01) and lrs[35] == pytest.approx(0.001)
    assert [e.step for e in events(items) if e.kind == "lr_drop"] == [20, 30]


def test_warmup_runs_at_low_lr_until_error_falls(digits):
    q = QueueSink()
    cfg = tiny(iters=40, warmup=True, warmup_until_error=101.0, lr_milestones=[0.9])
    Trainer(cfg, sinks=[q], dataset=digits).run()
    items = q.drain()
    lrs = [r.scalars["lr"] for r in records(items)]
    # error < 101 % holds at the first record: warm-up ends there (step 5).
    assert lrs[0] == pytest.approx(0.01) and lrs[1] == pytest.approx(0.1)
    assert [e.step for e in events(items) if e.kind == "warmup_end"] == [5]


def test_pause_resume_stop_from_another_thread(digits, tmp_path):
    control, q = TrainControl(), QueueSink()
    t = Trainer(
        tiny(iters=100_000, telemetry_every=2), run_dir=tmp_path / "run", sinks=[q], control=control, dataset=digits
    )
    control.pause()
    th = threading.Thread(target=t.run)
    th.start()
    seen: list = []

    def wait_for(pred, timeout=30.0):
        import time

        end = time.monotonic() + timeout
        while time.monotonic() < end:
            seen.extend(q.drain())
            if any(pred(i) for i in seen):
                return
            time.sleep(0.02)
        raise AssertionError(f"timed out; saw {[type(i).__name__ for i in seen][-10:]}")

    wait_for(lambda i: isinstance(i, StatusChange) and i.status == "paused")
    assert t.step == 0  # paused before the first step
    control.resume()
    wait_for(lambda i: isinstance(i, Record) and i.step >= 4)
    control.set_shortcuts([True, False, True])
    wait_for(lambda i: isinstance(i, Event) and i.kind == "shortcuts")
    control.stop()
    th.join(30)
    assert not th.is_alive()
    assert t.status == "stopped"
    assert t.model.shortcuts() == [True, False, True]
    reader = RunReader(tmp_path / "run")
    assert reader.status().status == "stopped"
    ckpts = reader.checkpoints()
    assert ckpts and ckpts[-1].name == f"step_{t.step:07d}.pt"
    kinds = [e.kind for e in reader.read_all()[1]]
    assert kinds[:3] == ["start", "pause", "resume"] and "shortcuts" in kinds and kinds[-2:] == ["checkpoint", "stop"]


def test_resumed_run_continues_steps_and_schedule_exactly(digits, tmp_path):
    """Stop at 25 and resume: the same weights as a run never interrupted."""
    cfg = tiny(iters=40, checkpoint_every=1000, schedule="scaled")
    whole = Trainer(cfg, run_dir=tmp_path / "whole", dataset=digits)
    whole.run()

    control = TrainControl()
    first = Trainer(cfg, run_dir=tmp_path / "cut", control=control, sinks=[StopAt(control, 25)], dataset=digits)
    assert first.run() == "stopped" and first.step == 25
    q = QueueSink()
    second = Trainer.resume(tmp_path / "cut", sinks=[q], dataset=digits)
    assert second.step == 25
    assert second.run() == "finished" and second.step == 40
    items = q.drain()
    assert [r.step for r in records(items)] == [30, 35, 40]
    assert records(items)[0].scalars["lr"] == pytest.approx(0.01)  # past the 50 % drop
    for (name, a), b in zip(whole.model.state_dict().items(), second.model.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, msg=f"{name} differs after resuming")
    steps = [r.step for r in RunReader(tmp_path / "cut").read_all()[0]]
    assert steps == sorted(set(steps))  # no step recorded twice


def test_nan_loss_ends_in_failed_and_keeps_last_good_checkpoint(digits, tmp_path):
    t = Trainer(tiny(iters=60, checkpoint_every=10), run_dir=tmp_path / "run", dataset=digits)
    calls = {"n": 0}

    def poison(module, inputs, output):  # from step 23 on, the logits are NaN
        calls["n"] += 1
        return output * float("nan") if t.step >= 22 else output

    t.model.fc.register_forward_hook(poison)
    assert t.run() == "failed"
    assert "diverged" in t.reason and "step 20" in t.reason
    reader = RunReader(tmp_path / "run")
    status = reader.status()
    assert status.status == "failed" and "diverged" in status.reason
    assert [p.name for p in reader.checkpoints()] == ["step_0000010.pt", "step_0000020.pt"]
    recs, evs = reader.read_all()
    assert max(r.step for r in recs) == 20 and evs[-1].kind == "failed"


def test_existing_run_folder_is_refused_before_any_work(digits, tmp_path):
    from resviz.core.errors import RunError

    Trainer(tiny(iters=5), run_dir=tmp_path / "run", dataset=digits).run()
    before = (tmp_path / "run" / "metrics.sqlite").stat().st_mtime_ns
    with pytest.raises(RunError, match="already holds a run"):
        Trainer(tiny(iters=5), run_dir=tmp_path / "run", dataset=digits)
    assert (tmp_path / "run" / "metrics.sqlite").stat().st_mtime_ns == before


def test_plain_config_switches_every_shortcut_off(digits):
    t = Trainer(tiny(iters=5, plain=True), dataset=digits)
    assert t.model.is_plain
    assert t.run() == "finished"
