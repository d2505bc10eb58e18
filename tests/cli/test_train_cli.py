"""``resviz train / export / report / experiment`` end to end, and their error paths."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from resviz.cli import main

TINY = [
    "--arch",
    "resnet8",
    "--iters",
    "20",
    "--batch-size",
    "32",
    "--telemetry-every",
    "5",
    "--eval-every",
    "10",
    "--device",
    "cpu",
    "--quiet",
]


def test_train_export_report(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", *TINY, "--out", str(run)]) == 0
    out = capsys.readouterr().out
    assert "finished 20/20 iterations of resnet8 on digits" in out and "test error" in out
    assert (run / "checkpoints" / "step_0000020.pt").is_file()

    assert main(["export", str(run), "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "step,metric,index,value"
    assert "5,loss,," in "\n".join(lines) and any(line.startswith("20,grad_norm,7,") for line in lines)
    assert main(["export", str(run), "--format", "json", "--out", str(tmp_path / "m.json")]) == 0
    assert json.loads((tmp_path / "m.json").read_text())["rows"]

    fig = tmp_path / "fig.png"
    assert main(["report", str(run), str(run), "--out", str(fig)]) == 0
    assert fig.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and fig.stat().st_size > 20_000


def test_plain_flag_and_resume(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", *TINY, "--plain", "--out", str(run)]) == 0
    assert json.loads((run / "config.json").read_text())["plain"] is True
    assert main(["train", "--resume", str(run)]) == 2  # finished: nothing to resume
    assert "nothing to resume" in capsys.readouterr().err


def test_experiment_degradation_writes_report_and_claims(tmp_path, capsys):
    out = tmp_path / "exp"
    code = main(
        [
            "experiment",
            "degradation",
            "--depths",
            "8,14",
            "--iters",
            "10",
            "--batch-size",
            "16",
            "--device",
            "cpu",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    md = capsys.readouterr().out
    assert "| plain14 |" in md and "What the paper expects" in md
    summary = json.loads((out / "summary.json").read_text())
    assert [r["name"] for r in summary["runs"]] == ["plain8", "plain14", "resnet8", "resnet14"]
    assert len(summary["claims"]) == 4 and summary["complete"]
    assert (out / "report.png").stat().st_size > 20_000


def _cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "resviz", *args], capture_output=True, text=True, cwd=cwd, timeout=120)


@pytest.mark.parametrize(
    "args,message",
    [
        (["--arch", "resnet21"], "unknown architecture 'resnet21'"),
        (["--arch", "vgg16"], "unknown architecture 'vgg16'"),
        (["--iters", "-5"], "iters must be a whole number from 1 to"),
        (["--lr", "0"], "learning rate must be greater than 0"),
        (["--data", "no-such-set"], "unknown data set 'no-such-set'"),
        (["--data", "/nonexistent/folder"], "does not exist"),
    ],
)
def test_train_bad_input_is_one_line(tmp_path, capsys, args, message):
    assert main(["train", "--iters", "5", *args, "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("resviz: error: ")
    assert message in err
    assert not (tmp_path / "run").exists()  # nothing was created


def test_train_refuses_existing_run_and_unwritable_out(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", *TINY, "--out", str(run)]) == 0
    before = (run / "metrics.sqlite").read_bytes()
    capsys.readouterr()
    assert main(["train", *TINY, "--out", str(run)]) == 2
    err = capsys.readouterr().err
    assert "already holds a run" in err and "--force" in err
    assert (run / "metrics.sqlite").read_bytes() == before  # nothing overwritten
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert main(["train", *TINY, "--out", str(blocker / "run")]) == 2
    assert "is a file" in capsys.readouterr().err
    assert main(["train", *TINY, "--out", str(run), "--force"]) == 0


def test_train_unwritable_folder(tmp_path):
    if os.geteuid() == 0:
        target = "/sys/resviz-test-run"  # root may write anywhere, but not into sysfs
    else:
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
        target = str(ro / "run")
    # In a real process: one line on stderr, no traceback.
    res = _cli("train", *TINY, "--out", target)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.startswith("resviz: error: cannot") and len(res.stderr.strip().splitlines()) == 1


def test_resume_and_export_of_missing_runs(tmp_path, capsys):
    assert main(["train", "--resume", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["export", str(tmp_path)]) == 2
    assert "not a run folder" in capsys.readouterr().err
    assert main(["train", "--arch", "resnet8"]) == 2
    assert "--out" in capsys.readouterr().err
