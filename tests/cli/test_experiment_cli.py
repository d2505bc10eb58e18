"""``resviz experiment degradation``: the nets together on one progress display, Ctrl+C, --resume."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys

import pytest

from resviz.cli import main
from resviz.cli.progress import GroupProgress
from resviz.core.records import Event, Record, StatusChange
from resviz.core.runs import RunReader

SMALL = ["--depths", "8,14", "--batch-size", "16", "--device", "cpu"]


@pytest.mark.slow
def test_ctrl_c_stops_every_net_and_resume_finishes_them(tmp_path, capsys):
    out = tmp_path / "exp"
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "resviz", "experiment", "degradation", *SMALL, "--iters", "40", "--out", str(out)],
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    seen = []
    for line in proc.stderr:  # not a terminal: each net prints a line every 10 % of its schedule
        seen.append(line)
        if line.lstrip().startswith("resnet14 ["):
            break  # every net has trained its first steps
    proc.send_signal(signal.SIGINT)
    stdout, rest = proc.communicate(timeout=120)
    err = "".join(seen) + rest
    assert proc.returncode == 1, err
    assert "stopping every net after its current step" in err
    assert f"continue with: resviz experiment degradation --resume {out}" in err
    assert "| plain14 |" in stdout  # the summary of what there is
    statuses = {n: RunReader(out / n).status() for n in ("plain8", "plain14", "resnet8", "resnet14")}
    assert {s.status for s in statuses.values()} == {"stopped"}
    assert len({s.step for s in statuses.values()}) == 1  # a group stop: every net at the same step
    assert not json.loads((out / "summary.json").read_text())["complete"]

    assert main(["experiment", "degradation", "--resume", str(out)]) == 0
    captured = capsys.readouterr()
    assert "What the paper expects" in captured.out and "continue with" not in captured.err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["complete"] and len(summary["claims"]) == 4
    assert {RunReader(out / n).status().step for n in statuses} == {40}


def test_resume_refuses_new_settings_in_one_line(tmp_path, capsys):
    assert main(["experiment", "degradation", "--resume", str(tmp_path), "--iters", "5", "--depths", "8,14"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("resviz: error: ") and len(err.strip().splitlines()) == 1
    assert "drop --depths, --iters" in err
    assert main(["experiment", "degradation", "--resume", str(tmp_path)]) == 2
    assert "not the folder of a degradation experiment" in capsys.readouterr().err


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_group_display_redraws_one_line_per_net_in_place(monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")  # lines are cut to the terminal: a wrapped line breaks the redraw
    out = _Tty()
    progress = GroupProgress(["plain8", "resnet14"], [40, 40], 16, out=out)
    progress.REDRAW_S = 0.0
    plain, res = progress.sink(0), progress.sink(1)
    plain.record(Record(step=10, scalars={"loss": 1.5, "train_error": 40.0, "images_per_s": 160.0}))
    res.record(Record(step=10, scalars={"loss": 1.25, "train_error": 30.0, "images_per_s": 80.0, "test_error": 35.0}))
    plain.event(Event(step=20, kind="lr_drop", detail={"lr": 0.01}))
    res.event(Event(step=20, kind="lr_drop", detail={"lr": 0.01}))  # the same drop: said once
    res.status(StatusChange("failed", "diverged", 12))
    # ETA: (40 - 10) * 16 / 160 = 3 s and (40 - 12) * 16 / 80 = 5.6 s
    assert progress.lines() == [
        "  plain8 [######------------------] 10/40 loss 1.500 train  40.0%     160 img/s ETA 3s",
        "resnet14 [#######-----------------] 12/40 loss 1.250 train  30.0% test  35.0%      80 img/s ETA 6s failed",
    ]
    text = out.getvalue()
    assert text.count("step 20: lr drop lr 0.01") == 1 and "plain8: step 20" not in text
    # drawn three times after the first (a record, the note, the failure): each moves up over
    # the two lines drawn before (the note erases them first, and prints above)
    assert text.count("\x1b[2F") == 3 and text.startswith("  plain8 [")
    for line in text.replace("\x1b[2F", "").replace("\x1b[J", "").split("\n"):
        assert len(line.replace("\x1b[K", "")) <= 59


def test_a_damaged_plan_file_is_named_and_force_is_never_advised(tmp_path, capsys):
    """experiment.json by hand: each damage is one line naming the field; the advice keeps the
    trained runs (--force would replace them)."""
    good_config = {"arch": "resnet8", "data": "digits", "iters": 10}
    cases = [
        ({"depths": [8, 14]}, '"config" is missing'),
        ({"config": [1], "depths": [8, 14]}, '"config" is missing or not a JSON object'),
        ({"config": good_config, "depths": [8.7, 14]}, '"depths" is [8.7, 14], not a list of depths'),
        ({"config": good_config, "depths": []}, '"depths" is [], not a list of depths'),
        ({"config": good_config, "depths": "814"}, '"depths" is "814", not a list of depths'),
        ({"config": good_config, "depths": [True, 14]}, '"depths" is [true, 14]'),
        ({"config": {**good_config, "iters": "ten"}, "depths": [8, 14]}, '"config" is not a valid run config'),
    ]
    for doc, said in cases:
        (tmp_path / "experiment.json").write_text(json.dumps({"experiment": "degradation", **doc}))
        assert main(["experiment", "degradation", "--resume", str(tmp_path)]) == 2, doc
        err = capsys.readouterr().err
        assert err.startswith("resviz: error: ") and len(err.strip().splitlines()) == 1, err
        assert said in err and "experiment.json is damaged" in err, err
        assert "--force" not in err and "Error(" not in err and "restore it" in err, err


def test_report_paper_refuses_a_degradation_folder(tmp_path, capsys):
    (tmp_path / "experiment.json").write_text(json.dumps({"experiment": "degradation", "config": {}, "depths": [8]}))
    assert main(["report", "--paper", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "is a degradation experiment's folder" in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["experiment.json"]  # nothing written into it


def test_the_group_display_shows_the_groups_speed_and_each_nets_share_of_step_time():
    """Issue #18: per-net img/s in lockstep counted the other nets' steps; the group's img/s
    over the step time and each net's share replace them once the nets say their step times."""
    out = io.StringIO()
    progress = GroupProgress(["plain8", "resnet14"], [40, 40], 16, out=out)
    plain, res = progress.sink(0), progress.sink(1)
    plain.record(Record(step=10, scalars={"loss": 1.5, "train_error": 40.0, "step_seconds": 1.0}))
    assert progress.throughput() is None  # resnet14 has said nothing yet
    res.record(
        Record(
            step=10,
            scalars={"loss": 1.25, "train_error": 30.0, "step_seconds": 3.0, "test_error": 35.0, "eval_seconds": 1.0},
        )
    )
    # 2 nets x 10 steps x 16 images = 320 images in 1 + 3 = 4 s of step time: 80 img/s; shares
    # 1/4 and 3/4; evaluating 1 s of 1 + 3 + 1 = 5 s = 20 %; ETA (30 + 30) * 16 / 80 = 12 s
    timing = progress.throughput()
    assert timing.images_per_s == pytest.approx(80.0)
    assert timing.share == {"plain8": pytest.approx(0.25), "resnet14": pytest.approx(0.75)}
    assert timing.eval_share == pytest.approx(0.2)
    lines = progress.lines()
    assert lines[0].endswith("loss 1.500 train  40.0%  25% of step time") and "img/s" not in lines[0]
    assert lines[1].endswith("test  35.0%  75% of step time")
    assert lines[2] == "   group 80 img/s for the 2 nets together, evaluating 1 s (20%), ETA 12s"


def test_in_a_pipe_the_group_block_is_written_at_once_so_the_shares_add_up():
    out = io.StringIO()  # not a terminal
    progress = GroupProgress(["plain8", "resnet14"], [20, 20], 16, out=out)
    sinks = progress.sink(0), progress.sink(1)
    for step in (2, 4):
        for sink, seconds in zip(sinks, (1.0, 3.0), strict=True):
            sink.record(Record(step=step, scalars={"loss": 1.0, "train_error": 50.0, "step_seconds": seconds}))
    lines = out.getvalue().splitlines()
    # step 2: plain8 alone (resnet14 had no step time yet), then the block of three; step 4: the block
    assert lines[0].startswith("  plain8 [") and "img/s" in lines[0]
    # 2 nets x 2 steps x 16 images = 64 images in 1 + 3 s of step time: 16 img/s
    names = [line.split("[")[0].split(" for ")[0].strip() for line in lines[1:]]
    assert names == ["plain8", "resnet14", "group 16 img/s"] * 2
    assert lines[1].endswith(" 25% of step time") and lines[2].endswith(" 75% of step time")
