"""The training, export, report and experiment verbs never destroy a run (issue #9)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from resviz.cli import main

TINY = [
    "--arch",
    "resnet8",
    "--iters",
    "10",
    "--batch-size",
    "16",
    "--telemetry-every",
    "5",
    "--eval-every",
    "10",
    "--device",
    "cpu",
    "--quiet",
]
#: A degradation experiment small enough to be refused before it trains.
TINY_DEGRADATION = [
    "experiment",
    "degradation",
    "--depths",
    "8,14",
    "--iters",
    "5",
    "--batch-size",
    "16",
    "--device",
    "cpu",
]


@pytest.fixture(scope="module")
def _finished(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("finished") / "run"
    assert main(["train", *TINY, "--checkpoint-every", "5", "--out", str(run)]) == 0
    return run


@pytest.fixture
def run(_finished, tmp_path) -> Path:
    """A copy of a finished 10-step resnet8 run with checkpoints at 5 and 10."""
    return Path(shutil.copytree(_finished, tmp_path / "run"))


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("resviz: error: ")
    return err


def set_status(run: Path, status: str, pid: int, host: str | None = None) -> None:
    data = json.loads((run / "status.json").read_text())
    data.update(status=status, pid=pid, host=host or socket.gethostname())
    (run / "status.json").write_text(json.dumps(data))


@pytest.fixture
def live_pid():
    """Make a live writer of a folder: ``live_pid(folder)`` is the pid of a process that holds
    the folder's writer lock for the test's duration."""
    from live_writer import hold_writer_lock

    procs = []

    def hold(folder: Path) -> int:
        procs.append(hold_writer_lock(folder))
        return procs[-1].pid

    yield hold
    for proc in procs:
        proc.kill()
        proc.wait(10)
        proc.stdout.close()


# -- 1. --force never replaces a live run ----------------------------------------------


def test_train_force_refuses_a_live_run(run, capsys, live_pid):
    pid = live_pid(run)
    set_status(run, "running", pid)
    before = (run / "metrics.sqlite").read_bytes()
    assert main(["train", *TINY, "--out", str(run), "--force"]) == 2
    err = one_error_line(capsys)
    assert f"pid {pid}" in err and "still writing it" in err
    assert (run / "metrics.sqlite").read_bytes() == before
    set_status(run, "paused", 4242, host="elsewhere.example")
    assert main(["train", "--resume", str(run)]) == 2
    assert "elsewhere.example" in one_error_line(capsys)


def test_experiment_force_refuses_a_live_run(tmp_path, run, capsys, live_pid):
    out = tmp_path / "exp"
    out.mkdir()
    shutil.copytree(run, out / "resnet14")
    pid = live_pid(out / "resnet14")
    set_status(out / "resnet14", "running", pid)
    code = main([*TINY_DEGRADATION, "--out", str(out), "--force"])
    assert code == 2
    assert f"pid {pid}" in one_error_line(capsys)
    assert not (out / "plain8").exists()  # refused before any training


# -- 3. outputs never go into a run folder or over an input -------------------------


@pytest.mark.parametrize("target", ["metrics.sqlite", "config.json", "checkpoints/step_0000010.pt", "new.csv", "."])
def test_export_refuses_to_write_into_the_run(run, capsys, target):
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    assert main(["export", str(run), "--out", str(run / target)]) == 2
    one_error_line(capsys)
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before


def test_report_refuses_to_write_into_a_run(run, tmp_path, capsys):
    assert main(["report", str(run), "--out", str(run / "fig.png")]) == 2
    assert "inside the run folder" in one_error_line(capsys)
    assert not (run / "fig.png").exists()
    assert main(["report", str(run), "--out", str(run / "metrics.sqlite")]) == 2
    one_error_line(capsys)


def test_experiment_refuses_to_write_its_report_into_a_run(run, capsys):
    code = main([*TINY_DEGRADATION, "--out", str(run)])
    assert code == 2
    assert "report.png" in one_error_line(capsys)
    assert not (run / "plain8").exists()


def test_screenshot_refuses_to_write_into_a_run_or_over_its_input(run, tmp_path, capsys):
    assert main(["screenshot", str(run / "shot.png")]) == 2
    assert "inside the run folder" in one_error_line(capsys)
    img = tmp_path / "in.png"
    img.write_bytes(b"\x89PNG\r\n\x1a\n")
    assert main(["screenshot", str(img), "--inspect", str(img), "--checkpoint", str(run)]) == 2
    assert "also an input" in one_error_line(capsys)


def test_export_into_a_closed_pipe_is_quiet(run):
    proc = subprocess.Popen(
        [sys.executable, "-m", "resviz", "export", str(run)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    proc.stdout.close()  # like `| head` that has read what it wanted
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 141, err  # 128 + SIGPIPE, as a shell reports a piped tool cut short
    assert err == b""


# -- 7. a relative --data folder -------------------------------------------------------


def _image_folder(root: Path) -> None:
    from PIL import Image

    for split in ("train", "test"):
        for c, colour in (("red", (200, 0, 0)), ("blue", (0, 0, 200))):
            (root / split / c).mkdir(parents=True)
            for i in range(4):
                Image.new("RGB", (8, 8), tuple(max(0, v - 20 * i) for v in colour)).save(root / split / c / f"{i}.png")


def test_a_relative_data_folder_resumes_from_anywhere(tmp_path, monkeypatch, capsys):
    _image_folder(tmp_path / "work" / "imgs")
    monkeypatch.chdir(tmp_path / "work")
    run = tmp_path / "run"
    assert main(["train", *TINY, "--batch-size", "4", "--size", "8", "--data", "imgs", "--out", str(run)]) == 0
    assert json.loads((run / "config.json").read_text())["data"] == str(tmp_path / "work" / "imgs")
    status = json.loads((run / "status.json").read_text())
    (run / "status.json").write_text(json.dumps({**status, "status": "stopped"}))
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--resume", str(run)]) == 0, capsys.readouterr().err


# -- 8. settings are checked up front -------------------------------------------------


@pytest.mark.parametrize(
    "args,message",
    [
        (["--threads", "100000"], "threads must be a whole number from 1 to 512"),
        (["--threads", "0"], "threads must be a whole number from 1 to 512"),
        # nan and inf never reach the config: the one float parser refuses them for every flag
        # (tests/cli/test_numbers_attack.py, issue #17); a finite number out of range does
        (["--weight-decay", "-1"], "weight decay must be 0 or more"),
        (["--lr", "1e39"], "learning rate must be from"),
        (["--momentum", "1"], "momentum must be in [0, 1)"),
        (["--size", "0"], "size must be a whole number from 8 to 512"),
        (["--batch-size", "100000000"], "batch-size must be a whole number from 1 to"),
        (["--seed", str(2**64)], "seed must be a whole number from"),
    ],
)
def test_bad_numbers_are_one_line_before_anything_is_made(tmp_path, capsys, args, message):
    assert main(["train", "--iters", "5", *args, "--out", str(tmp_path / "run")]) == 2
    assert message in one_error_line(capsys)
    assert not (tmp_path / "run").exists()


def test_threads_100000_does_not_crash_a_real_process(tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "resviz", "train", "--threads", "100000", "--out", str(tmp_path / "run")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert res.returncode == 2 and res.stderr.startswith("resviz: error: threads must be")


# -- 9. broken run files are one-line errors ----------------------------------------


@pytest.mark.parametrize("text", ["[]", '{"arch": "resnet8", "iters": "many"}'])
def test_a_broken_config_is_one_line_in_every_verb(run, tmp_path, capsys, text):
    (run / "config.json").write_text(text)
    for argv in (
        ["train", "--resume", str(run)],
        ["report", str(run), "--out", str(tmp_path / "f.png")],
        ["export", str(run)],
        ["screenshot", str(tmp_path / "s.png"), "--open", str(run)],
    ):
        assert main(argv) == 2, argv
        assert "config.json" in one_error_line(capsys), argv


def test_resume_prints_its_fallbacks(run, capsys):
    set_status(run, "stopped", 1)
    (run / "checkpoints" / "step_0000010.pt").write_bytes(b"cut short")
    for name in ("metrics.sqlite", "metrics.sqlite-wal", "metrics.sqlite-shm"):
        (run / name).unlink(missing_ok=True)
    assert main(["train", "--resume", str(run), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "step_0000010.pt is unreadable" in err and "resuming from step 5" in err
    assert "metrics.sqlite is missing" in err


def test_resume_without_a_readable_checkpoint_names_force(run, capsys):
    set_status(run, "stopped", 1)
    for p in (run / "checkpoints").glob("step_*.pt"):
        p.write_bytes(b"cut short")
    assert main(["train", "--resume", str(run)]) == 2
    err = one_error_line(capsys)
    assert f"--out {run} --force" in err
