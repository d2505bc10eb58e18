"""Lockstep groups (issue #11): nets train together step by step, each with its own run folder."""

from __future__ import annotations

import shutil
import threading
import time

import pytest
import torch
from test_trainer_faults import Poison  # a sink that turns one weight NaN at a record

from resviz.core.data import normalise
from resviz.core.errors import ConfigError, RunError
from resviz.core.records import Event, Record
from resviz.core.runs import RunReader
from resviz.core.train import LockstepGroup, QueueSink, TrainConfig, TrainControl, Trainer
from resviz.core.train.group import unfinished_runs


def tiny(arch: str = "resnet8", **kw) -> TrainConfig:
    base = dict(arch=arch, iters=40, batch_size=32, telemetry_every=5, eval_every=20, checkpoint_every=20, device="cpu")
    return TrainConfig(**{**base, **kw})


class Watch:
    """A sink that logs (net, step, every net's step) at each record, and may act at a step."""

    def __init__(self, log: list, index: int, group_steps, at: dict[int, callable] | None = None) -> None:
        self.log, self.index, self.group_steps, self.at = log, index, group_steps, at or {}

    def record(self, r):
        self.log.append((self.index, r.step, list(self.group_steps())))
        if r.step in self.at:
            self.at.pop(r.step)()

    def event(self, e):
        self.log.append((self.index, e.kind, list(self.group_steps())))

    def status(self, s):
        pass


def _group(configs, tmp_path, names, *, watch_at=None, **kw):
    """A group whose nets log every record into one list (the order the curves grow in)."""
    log: list = []
    holder: dict = {}
    steps = lambda: holder["group"].steps  # noqa: E731
    sinks = [[Watch(log, i, steps, (watch_at or {}).get(i))] for i in range(len(configs))]
    group = LockstepGroup(configs, run_dirs=[tmp_path / n for n in names], sinks=sinks, **kw)
    holder["group"] = group
    return group, log


def test_twins_see_the_same_images_in_the_same_order_with_the_same_augmentation(digits):
    """plain8 and resnet8 with one seed: identical first batches, one data set, identical weights."""
    group = LockstepGroup([tiny("plain8"), tiny("resnet8")], dataset=digits)
    plain, res = group.trainers
    seen: list[list[torch.Tensor]] = [[], []]
    for i, t in enumerate(group.trainers):  # what each net's forward receives: the augmented batch
        t.model.register_forward_pre_hook(lambda m, args, i=i: seen[i].append(args[0].detach().clone()))
    for t in group.trainers:
        t.start()
    group.advance()
    group.advance()
    assert len(seen[0]) == len(seen[1]) == 2 and group.steps == [2, 2]
    for a, b in zip(seen[0], seen[1], strict=True):
        assert a.shape == (32, 3, 16, 16)  # digits: 16x16, grey as RGB
        assert torch.equal(a, b)  # the same images, crops and flips, bit for bit
    # what was compared is the augmented batch: the first batch's images, cropped and flipped
    first = plain.stream.state_dict()["order"][:32]
    unaugmented = normalise(digits.train.images[first], digits.mean)
    assert not torch.equal(seen[0][0], unaugmented)
    assert torch.equal(plain.stream.state_dict()["order"], res.stream.state_dict()["order"])
    # one data set object, one copy of its images
    assert plain.dataset is res.dataset is group.dataset
    assert plain.train_data.images.data_ptr() == res.train_data.images.data_ptr() == digits.train.images.data_ptr()
    # the only difference is the shortcut: same initial weights, plain8 has every shortcut off
    fresh_plain, fresh_res = (Trainer(tiny(a), dataset=digits).model.state_dict() for a in ("plain8", "resnet8"))
    for name, w in fresh_plain.items():
        assert torch.equal(w, fresh_res[name]), name
    assert not any(plain.model.shortcuts()) and all(res.model.shortcuts())
    group.control.stop()
    group.advance()
    assert group.ended and group.statuses == ["stopped", "stopped"]


def test_the_nets_advance_together_and_each_writes_its_own_run(digits, tmp_path):
    group, log = _group(
        [tiny("plain8"), tiny("resnet8"), tiny("resnet14", iters=20)],
        tmp_path,
        ["plain8", "resnet8", "resnet14"],
        dataset=digits,
    )
    assert group.names == ["plain8", "resnet8", "resnet14"]
    assert group.run() == ["finished", "finished", "finished"]
    records = [(i, step, steps) for i, step, steps in log if isinstance(step, int)]
    # at every record, every net still training is at that step or one behind (this round's turn)
    for i, step, steps in records:
        for j, other in enumerate(steps):
            if other < group.trainers[j].config.iters:
                assert step - 1 <= other <= step, (i, step, steps)
    # the curves grow together: the records arrive interleaved, net by net, round by round
    assert [(i, s) for i, s, _ in records[:6]] == [(0, 5), (1, 5), (2, 5), (0, 10), (1, 10), (2, 10)]
    for name, iters in (("plain8", 40), ("resnet8", 40), ("resnet14", 20)):
        reader = RunReader(tmp_path / name)
        assert reader.status().status == "finished" and reader.status().step == iters
        assert reader.checkpoints()[-1].name == f"step_{iters:07d}.pt"
        assert reader.config["arch"] == name


def test_a_net_trained_in_a_group_ends_as_it_would_alone(digits, tmp_path):
    """Lockstep changes the order of work, never the numbers: same weights as a lone run."""
    group = LockstepGroup([tiny("plain8"), tiny("resnet8")], dataset=digits)
    group.run()
    alone = Trainer(tiny("resnet8"), dataset=digits)
    alone.run()
    for (name, a), b in zip(
        alone.model.state_dict().items(), group.trainers[1].model.state_dict().values(), strict=True
    ):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=f"{name} differs")


def test_a_stop_of_one_net_leaves_the_others_training(digits, tmp_path):
    holder = {}
    group, log = _group(
        [tiny("plain8"), tiny("resnet8")],
        tmp_path,
        ["plain8", "resnet8"],
        dataset=digits,
        watch_at={0: {10: lambda: holder["g"].trainers[0].control.stop()}},
    )
    holder["g"] = group
    assert group.run() == ["stopped", "finished"]
    assert group.steps == [10, 40]
    assert RunReader(tmp_path / "plain8").status().status == "stopped"
    assert RunReader(tmp_path / "plain8").checkpoints()[-1].name == "step_0000010.pt"  # saved as it stopped
    assert RunReader(tmp_path / "resnet8").status().status == "finished"
    assert max(s for i, s, _ in log if i == 1 and isinstance(s, int)) == 40


@pytest.mark.parametrize("poison", ["loss", "weights"])
def test_a_diverging_net_fails_alone_and_the_other_finishes(digits, tmp_path, poison):
    holder = {}
    sinks = [[Poison(lambda: holder["bad"].model.conv1.weight, 20)] if poison == "weights" else [], []]
    group = LockstepGroup(
        [tiny("plain8", checkpoint_every=10), tiny("resnet8", checkpoint_every=10)],
        dataset=digits,
        run_dirs=[tmp_path / "plain8", tmp_path / "resnet8"],
        sinks=sinks,
    )
    bad = holder["bad"] = group.trainers[0]
    if poison == "loss":  # NaN logits from step 13 on: noticed at the record of step 15
        bad.model.fc.register_forward_hook(lambda m, i, out: out * float("nan") if bad.step >= 12 else out)
    assert group.run() == ["failed", "finished"]
    assert "diverged" in bad.reason and "the last good checkpoint is step 10" in bad.reason
    assert ("not finite" in bad.reason) == (poison == "weights")
    assert bad.step == (15 if poison == "loss" else 20)
    status = RunReader(tmp_path / "plain8").status()
    assert status.status == "failed" and "diverged" in status.reason
    assert [p.name for p in RunReader(tmp_path / "plain8").checkpoints()] == ["step_0000010.pt"]
    assert group.trainers[1].step == 40 and RunReader(tmp_path / "resnet8").status().status == "finished"
    assert [p.name for p in RunReader(tmp_path / "resnet8").checkpoints()] == [
        "step_0000020.pt",
        "step_0000030.pt",
        "step_0000040.pt",
    ]  # the newest three, as alone


class ReplaceFolder:
    """A sink that deletes a run folder at a record and puts a file in its place."""

    def __init__(self, folder, step: int) -> None:
        self.folder, self.step = folder, step

    def record(self, r):
        if r.step == self.step:
            shutil.rmtree(self.folder)
            self.folder.write_text("not a run")

    def event(self, e): ...

    def status(self, s): ...


def test_a_run_folder_replaced_by_a_file_fails_that_net_alone(digits, tmp_path):
    """Found by attack: the cleanup of the failed checkpoint raised NotADirectoryError over
    the WriteError, and the chained tracebacks ended every net of the group."""
    group = LockstepGroup(
        [tiny("plain8", checkpoint_every=10), tiny("resnet8", checkpoint_every=10)],
        dataset=digits,
        run_dirs=[tmp_path / "plain8", tmp_path / "resnet8"],
        sinks=[[ReplaceFolder(tmp_path / "plain8", 15)], []],
    )
    assert group.run() == ["failed", "finished"]
    bad = group.trainers[0]
    assert bad.reason.startswith(f"cannot write {tmp_path / 'plain8'}") and "Not a directory" in bad.reason
    assert "\n" not in bad.reason and bad.step == 20
    # step 10's checkpoint went with the folder: no "the last checkpoint is step 10" to resume from
    assert f"the checkpoints (the last was step 10) went with {tmp_path / 'plain8' / 'checkpoints'}" in bad.reason
    assert (tmp_path / "plain8").read_text() == "not a run"
    assert group.trainers[1].step == 40 and RunReader(tmp_path / "resnet8").status().status == "finished"


def test_a_stopped_group_resumes_and_the_net_behind_catches_up_first(digits, tmp_path):
    configs = [tiny("plain8", checkpoint_every=1000), tiny("resnet8", checkpoint_every=1000)]
    holder = {}
    group, _ = _group(
        configs,
        tmp_path,
        ["plain8", "resnet8"],
        dataset=digits,
        watch_at={
            0: {10: lambda: holder["g"].trainers[0].control.stop()},  # plain8 alone at 10
            1: {25: lambda: holder["g"].control.stop()},  # then the whole group (resnet8) at 25
        },
    )
    holder["g"] = group
    assert group.run() == ["stopped", "stopped"] and group.steps == [10, 25]

    dirs = unfinished_runs([tmp_path / "plain8", tmp_path / "resnet8"])
    assert [d.name for d in dirs] == ["plain8", "resnet8"]
    log: list = []
    resumed = LockstepGroup.resume(
        dirs, dataset=digits, sinks=[[Watch(log, i, lambda: resumed.steps)] for i in range(2)]
    )
    assert resumed.steps == [10, 25]
    assert resumed.run() == ["finished", "finished"]
    records = [(i, s, steps) for i, s, steps in log if isinstance(s, int)]
    # plain8 catches up alone (15, 20, 25) before resnet8 moves again, then they go together
    assert [(i, s) for i, s, _ in records[:5]] == [(0, 15), (0, 20), (0, 25), (0, 30), (1, 30)]
    assert all(steps == [15 + 5 * k, 25] for k, (_, _, steps) in enumerate(records[:3]))
    # both end with the weights of nets never interrupted
    whole = LockstepGroup(configs, dataset=digits)
    whole.run()
    for a, b in zip(whole.trainers, resumed.trainers, strict=True):
        for (name, wa), wb in zip(a.model.state_dict().items(), b.model.state_dict().values(), strict=True):
            torch.testing.assert_close(wa, wb, msg=f"{a.config.label}: {name} differs after resuming")
    assert unfinished_runs(dirs) == []
    with pytest.raises(RunError, match="nothing to resume"):
        LockstepGroup.resume(dirs, dataset=digits)


def test_pause_one_net_the_other_goes_on_then_it_catches_up(digits, tmp_path):
    controls = [TrainControl(), TrainControl()]
    q = [QueueSink(), QueueSink()]
    group = LockstepGroup(
        [tiny("plain8", iters=100_000, telemetry_every=2), tiny("resnet8", iters=100_000, telemetry_every=2)],
        dataset=digits,
        controls=controls,
        sinks=[[q[0]], [q[1]]],
        run_dirs=[tmp_path / "p", tmp_path / "r"],
    )
    controls[0].pause()
    th = threading.Thread(target=group.run)
    th.start()
    try:
        _until(lambda: group.trainers[1].step >= 20)
        assert group.trainers[0].step == 0 and group.trainers[0].status == "paused"
        group.control.set_shortcuts(False)  # the whole group: reaches the paused net too
        controls[0].resume()
        _until(lambda: group.trainers[0].step >= group.trainers[1].step > 20)  # caught up
        _until(lambda: not any(group.trainers[1].model.shortcuts()) and not any(group.trainers[0].model.shortcuts()))
        group.control.pause()
        _until(lambda: group.statuses == ["paused", "paused"])
        held = group.steps
        time.sleep(0.3)
        assert group.steps == held  # a paused group trains nothing
        group.control.resume()
        _until(lambda: min(group.steps) > max(held))
    finally:
        group.control.stop()
        th.join(60)
    assert not th.is_alive() and group.statuses == ["stopped", "stopped"]
    assert abs(group.steps[0] - group.steps[1]) <= 1
    kinds = [e.kind for e in q[0].drain() if isinstance(e, Event) and e.kind != "checkpoint"]
    assert kinds[:3] == ["start", "pause", "shortcuts"] and "resume" in kinds and kinds[-1] == "stop"
    r_items = q[1].drain()
    assert [e.kind for e in r_items if isinstance(e, Event) and e.kind != "checkpoint"][:2] == ["start", "shortcuts"]
    assert any(isinstance(r, Record) and r.step >= 20 for r in r_items)


def test_a_group_refuses_bad_folders_and_mixed_data_before_writing(digits, tmp_path):
    Trainer(tiny(iters=5), run_dir=tmp_path / "taken", dataset=digits).run()
    with pytest.raises(RunError, match="already holds a run"):
        LockstepGroup([tiny(), tiny()], run_dirs=[tmp_path / "new", tmp_path / "taken"], dataset=digits)
    assert not (tmp_path / "new").exists()  # refused before the first net's folder was made
    with pytest.raises(ConfigError, match="share a run folder"):
        LockstepGroup([tiny(), tiny()], run_dirs=[tmp_path / "a", tmp_path / "a"], dataset=digits)
    with pytest.raises(ConfigError, match="one data set"):
        LockstepGroup([tiny(), tiny(data="cifar10")])
    with pytest.raises(ConfigError, match="needs 2 run folders"):
        LockstepGroup([tiny(), tiny()], run_dirs=[tmp_path / "a"], dataset=digits)


def _until(predicate, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError("timed out")
