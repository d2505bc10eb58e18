"""The status line of a net in a lockstep group: the group's img/s and its share (issue #18)."""

from __future__ import annotations

from resviz.core.records import Record
from resviz.gui.runs import Run
from resviz.gui.status import progress_text


def _run(name: str, step_seconds: list[float], eval_seconds: float) -> Run:
    run = Run(name, config={"arch": name, "iters": 100, "batch_size": 10}, status="running")
    records = [
        Record(step=10 * (i + 1), scalars={"loss": 1.0, "train_error": 50.0, "images_per_s": 999.0, "step_seconds": s})
        for i, s in enumerate(step_seconds)
    ]
    records[-1].scalars["eval_seconds"] = eval_seconds
    run.apply(records)
    return run


def test_a_lockstep_net_shows_the_groups_speed_and_its_share_not_its_own_img_s(qtbot):
    plain = _run("plain8", [1.0, 1.0], 0.5)
    res = _run("resnet14", [2.0, 3.0], 0.5)
    plain.peers = res.peers = [plain, res]
    text = progress_text(res)
    # latest interval: 2 nets x 10 steps x 10 images = 200 images in 1 + 3 = 4 s -> 50 img/s;
    # resnet14's share 3/4; evaluating 0.5 + 0.5 = 1 s of 1 s + 7 s of steps = 12.5 % (rounds to 12)
    assert "group 50 img/s · resnet14 75% of step time · evaluating 1 s (12%)" in text
    assert "999" not in text  # the misleading per-net wall-clock img/s is gone
    # ETA: (80 + 80) steps x 10 images / 50 img/s = 32 s
    assert "ETA 0:32" in text and "2 nets in lockstep" in text
    alone = _run("resnet20", [1.0], 0.0)
    assert "999 img/s" in progress_text(alone)  # one net: its own speed is the speed
