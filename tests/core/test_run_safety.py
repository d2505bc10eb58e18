"""Run folders are never lost or adopted by mistake (issue #9, "Data loss").

A live writer (another process, another host, or this process) is never replaced; a
folder that is not a run is not adopted; checkpoints sort by step; broken JSON, SQLite
and checkpoint files give one-line errors, and every fallback says what it did.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from resviz.core.errors import ConfigError, RunError
from resviz.core.runs import RunReader, RunStore
from resviz.core.runs.writer import live_writer
from resviz.core.train import TrainConfig, Trainer


def tiny(**kw) -> TrainConfig:
    base = {
        "arch": "resnet8",
        "iters": 20,
        "batch_size": 16,
        "telemetry_every": 5,
        "eval_every": 10,
        "checkpoint_every": 10,
        "device": "cpu",
    }
    return TrainConfig(**{**base, **kw})


@pytest.fixture(scope="module")
def _finished(tmp_path_factory, digits) -> Path:
    run = tmp_path_factory.mktemp("finished") / "run"
    assert Trainer(tiny(), run_dir=run, dataset=digits).run() == "finished"
    return run


@pytest.fixture
def run(_finished, tmp_path) -> Path:
    """A copy of a finished 20-step resnet8 run (checkpoints at 10 and 20)."""
    return Path(shutil.copytree(_finished, tmp_path / "run"))


def set_status(run: Path, status: str, *, pid: int | None = None, host: str | None = None) -> None:
    data = json.loads((run / "status.json").read_text())
    data.update(status=status, pid=os.getpid() if pid is None else pid, host=host or socket.gethostname())
    (run / "status.json").write_text(json.dumps(data))


def files_of(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in sorted(folder.rglob("*")) if p.is_file()}


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


def resume(run: Path, digits, **kw) -> Trainer:
    """Trainer.resume, its store closed again (the test only looks at what it found)."""
    t = Trainer.resume(run, dataset=digits, **kw)
    t.store.close()
    return t


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(10)
    return proc.pid


# -- 1. a live writer is never replaced ------------------------------------------------


@pytest.mark.parametrize("status", ["running", "paused"])
def test_force_refuses_a_run_another_process_is_writing(run, digits, live_pid, status):
    pid = live_pid(run)
    set_status(run, status, pid=pid)
    before = files_of(run)
    with pytest.raises(RunError, match=rf"pid {pid}.*still writing it"):
        Trainer(tiny(iters=5), run_dir=run, dataset=digits, force=True)
    with pytest.raises(RunError, match=rf"pid {pid}"):
        RunStore.create(run, config={}, layout={}, versions={}, force=True)  # the late check too
    with pytest.raises(RunError, match=rf"pid {pid}"):
        Trainer.resume(run, dataset=digits)
    assert files_of(run) == before  # nothing touched


def test_a_writer_on_another_host_is_named_and_refused(run, digits):
    set_status(run, "running", pid=1, host="elsewhere.example")
    with pytest.raises(RunError, match=r"elsewhere\.example.*status\.json"):
        Trainer(tiny(iters=5), run_dir=run, dataset=digits, force=True)
    with pytest.raises(RunError, match=r"elsewhere\.example"):
        Trainer.resume(run, dataset=digits)
    assert RunReader(run).status().status == "running"  # it may well be: say so


def test_a_dead_writer_on_this_host_is_not_live(run, digits):
    set_status(run, "running", pid=dead_pid())
    assert live_writer(run) is None
    status = RunReader(run).status()
    assert status.status == "stopped" and f"--resume {run}" in status.reason
    t = Trainer(tiny(iters=5), run_dir=run, dataset=digits, force=True)
    assert t.run() == "finished"


def test_this_process_is_live_while_its_store_is_open(tmp_path):
    store = RunStore.create(tmp_path / "r", config={"arch": "resnet8"}, layout={}, versions={})
    assert "this process" in live_writer(tmp_path / "r")
    store.close()  # status.json still says running with our pid, but the store is closed
    assert live_writer(tmp_path / "r") is None
    assert RunReader(tmp_path / "r").status().status == "stopped"


# -- 4. a folder that is not a run is not adopted -------------------------------------


def test_a_non_empty_folder_that_is_not_a_run_needs_force(tmp_path, digits):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("my notes")
    with pytest.raises(RunError, match=r"not empty.*--force"):
        Trainer(tiny(iters=5), run_dir=folder, dataset=digits)
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    assert Trainer(tiny(iters=5), run_dir=folder, dataset=digits, force=True).run() == "finished"
    assert (folder / "notes.txt").read_text() == "my notes"


@pytest.mark.parametrize("foreign", ["layout.json", "status.json", "metrics.sqlite", "checkpoints/step_0000005.pt"])
def test_files_a_run_writes_are_never_adopted_even_with_force(tmp_path, digits, foreign):
    folder = tmp_path / "mine"
    (folder / foreign).parent.mkdir(parents=True, exist_ok=True)
    (folder / foreign).write_bytes(b"someone else's")
    for force in (False, True):
        with pytest.raises(RunError, match=rf"{foreign}.*not written by resviz"):
            Trainer(tiny(iters=5), run_dir=folder, dataset=digits, force=force)
    assert (folder / foreign).read_bytes() == b"someone else's"
    assert not (folder / "config.json").exists()


def test_force_over_a_run_deletes_only_what_resviz_wrote(run, digits):
    (run / "checkpoints" / "best.pt").write_bytes(b"kept by hand")
    (run / "README").write_text("mine")
    assert Trainer(tiny(iters=5), run_dir=run, dataset=digits, force=True).run() == "finished"
    assert (run / "checkpoints" / "best.pt").read_bytes() == b"kept by hand"
    assert (run / "README").read_text() == "mine"
    assert [p.name for p in RunReader(run).checkpoints()] == ["step_0000005.pt"]


# -- 6. checkpoints sort by step ------------------------------------------------------


def test_retention_and_reader_sort_checkpoints_by_step(tmp_path):
    from resviz.core.train.snapshot import save_training_checkpoint

    run = tmp_path / "r"
    RunStore.create(run, config={"arch": "resnet8"}, layout={}, versions={}).close()
    folder = run / "checkpoints"
    folder.mkdir()
    for step in (9_999_998, 9_999_999, 10_000_000):
        (folder / f"step_{step:07d}.pt").write_bytes(b"")
    save_training_checkpoint(folder, {"step": 10_000_001}, keep=3)
    names = [p.name for p in RunReader(run).checkpoints()]
    assert names == ["step_9999999.pt", "step_10000000.pt", "step_10000001.pt"]


# -- 9. broken files are one-line errors ----------------------------------------------


@pytest.mark.parametrize(
    "text,message",
    [
        ("[1, 2]", "not a JSON object"),
        ("{not json", "unreadable"),
        ('{"arch": "resnet8", "iters": "many"}', "iters must be a whole number"),
        ('{"arch": "resnet8", "lr": "fast"}', "learning rate must be a finite number"),
        ('{"arch": 8}', "arch"),
    ],
)
def test_a_broken_config_json_is_one_line(run, digits, text, message):
    (run / "config.json").write_text(text)
    with pytest.raises(RunError, match=message) as info:
        RunReader(run)
    assert "config.json" in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(RunError, match=message):
        Trainer.resume(run, dataset=digits)


def test_a_layout_json_that_is_a_list_is_one_line(run):
    (run / "layout.json").write_text("[]")
    with pytest.raises(RunError, match="layout.json.*not a JSON object"):
        RunReader(run)


@pytest.mark.parametrize("text", ["garbage", "[1]", '{"status": 3, "step": "x", "pid": "me"}', ""])
def test_a_garbage_status_json_reads_as_stopped_with_a_reason(run, digits, text):
    (run / "status.json").write_text(text)
    status = RunReader(run).status()
    assert status.status == "stopped" and "status.json" in status.reason
    assert live_writer(run) is None
    resume(run, digits, overrides={"iters": 25})  # nothing claims the folder


def test_resume_on_a_corrupt_metrics_database_is_one_line(run, digits):
    set_status(run, "stopped")
    (run / "metrics.sqlite").write_bytes(b"this is not a database" * 100)
    for name in ("metrics.sqlite-wal", "metrics.sqlite-shm"):
        (run / name).unlink(missing_ok=True)
    with pytest.raises(RunError, match=r"metrics\.sqlite is not a readable metrics database") as info:
        Trainer.resume(run, dataset=digits)
    assert "\n" not in str(info.value)
    assert (run / "metrics.sqlite").read_bytes().startswith(b"this is not")  # kept for the user


# -- 10. fallbacks say what they did -------------------------------------------------


def test_resume_says_it_fell_back_from_an_unreadable_checkpoint(run, digits):
    set_status(run, "stopped")
    (run / "checkpoints" / "step_0000020.pt").write_bytes(b"truncated")
    t = resume(run, digits)
    assert t.step == 10
    assert any("step_0000020.pt" in n and "unreadable" in n and "step 10" in n for n in t.notes), t.notes


def test_resume_without_a_metrics_database_says_the_history_is_gone(run, digits):
    set_status(run, "stopped")
    for name in ("metrics.sqlite", "metrics.sqlite-wal", "metrics.sqlite-shm"):
        (run / name).unlink(missing_ok=True)
    t = resume(run, digits)
    assert any("metrics.sqlite" in n and "history" in n for n in t.notes), t.notes


def test_leftover_temporary_files_are_removed_when_a_run_is_reopened(run, digits):
    set_status(run, "stopped")
    leftovers = [run / "checkpoints" / ".step_0000030.pt.tmp4242", run / ".status.json.tmp4242"]
    for f in leftovers:
        f.write_bytes(b"half")
    (run / "checkpoints" / ".my-own.tmp").write_bytes(b"not ours")
    t = resume(run, digits)
    assert not any(f.exists() for f in leftovers)
    assert (run / "checkpoints" / ".my-own.tmp").exists()  # only what resviz writes
    assert any("removed 2 leftover" in n for n in t.notes), t.notes


def test_a_resume_says_where_a_killed_force_left_the_replaced_run(run, digits):
    set_status(run, "stopped")
    aside = run / ".replaced-k1ll3d"
    aside.mkdir()
    (aside / "status.json").write_text("{}")  # the replaced run's files, waiting to be deleted
    t = resume(run, digits)
    assert [n for n in t.notes if str(aside) in n and "earlier --force" in n], t.notes
    assert (aside / "status.json").read_text() == "{}"  # kept: a resume deletes nothing else


def test_no_checkpoint_to_resume_from_names_force_and_the_folder(run, digits):
    set_status(run, "stopped")
    for p in (run / "checkpoints").glob("step_*.pt"):
        p.write_bytes(b"broken")
    with pytest.raises(RunError, match=rf"no readable checkpoint.*--out {run} --force"):
        Trainer.resume(run, dataset=digits)


# -- 7 / 8. settings stored and checked ----------------------------------------------


def test_a_relative_data_folder_is_stored_absolute(tmp_path, monkeypatch):
    (tmp_path / "imgs").mkdir()
    monkeypatch.chdir(tmp_path)
    cfg = TrainConfig(data="imgs", data_root="roots").with_absolute_paths()
    assert cfg.data == str(tmp_path / "imgs") and cfg.data_root == str(tmp_path / "roots")
    assert TrainConfig(data="digits").with_absolute_paths().data == "digits"


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("lr", float("nan"), "learning rate must be a finite number"),
        ("lr", float("inf"), "learning rate must be a finite number"),
        ("momentum", float("nan"), "momentum must be a finite number"),
        ("weight_decay", float("nan"), "weight decay must be a finite number"),
        ("lr_gamma", float("nan"), "lr-gamma must be a finite number"),
        ("lr_gamma", 0.0, r"lr-gamma must be in \(0, 1\]"),
        ("warmup_lr", float("inf"), "warmup-lr must be a finite number"),
        ("warmup_until_error", float("nan"), "warmup-until-error must be a finite number"),
        ("warmup_max_iters", -1, "warmup-max-iters must be a whole number"),
        ("lr_milestones", [float("nan")], "milestones"),
        ("lr_milestones", "0.5", "milestones"),
        ("threads", 100_000, "threads must be a whole number from 1 to 512"),
        ("image_size", 0, "size must be a whole number from 8 to 512"),
        ("image_size", 100_000, "size must be a whole number from 8 to 512"),
        ("batch_size", 10**9, "batch-size must be a whole number from 1 to"),
        ("iters", 10**13, "iters must be a whole number from 1 to"),
        ("seed", -(2**63) - 1, "seed must be a whole number from"),
        ("seed", 2**64, "seed must be a whole number from"),
        ("seed", 1.5, "seed must be a whole number from"),
        ("plain", "yes", "plain must be true or false"),
        ("data", 5, "data must be"),
        ("device", None, "device must be"),
    ],
)
def test_every_number_of_a_config_is_checked(field, value, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**{field: value})


def test_two_writers_of_one_folder_cannot_both_write(tmp_path):
    """Two --resume started at the same moment both pass the status check: the writer lock
    refuses the second (issue #9: two processes on one run folder)."""
    import subprocess
    import sys

    from resviz.core.runs import writer

    run = tmp_path / "r"
    run.mkdir()
    fd = writer.lock(run)
    try:
        with pytest.raises(RunError, match="another process is writing it right now"):
            writer.lock(run)
        # The same from another process, which sees the lock held.
        code = (
            "import sys; from resviz.core.runs import writer; from resviz.core.errors import RunError\n"
            f"try:\n    writer.lock({str(run)!r})\nexcept RunError:\n    sys.exit(3)\n"
        )
        assert subprocess.run([sys.executable, "-c", code]).returncode == 3
        assert writer._lock_free(run) is False
    finally:
        writer.unlock(fd)
    assert writer._lock_free(run) is True
    writer.unlock(writer.lock(run))  # free again once released


def test_a_released_lock_means_the_writer_ended_even_if_its_pid_lives(tmp_path):
    """A status naming a live pid (here: this test's parent, surely alive) reads as ended
    when the writer's lock is free: the pid was reused by another program."""
    import json
    import os
    import socket

    from resviz.core.runs import writer

    run = tmp_path / "r"
    run.mkdir()
    writer.unlock(writer.lock(run))
    (run / "status.json").write_text(
        json.dumps(
            {
                "status": "running",
                "reason": None,
                "step": 3,
                "time": 0.0,
                "pid": os.getppid(),
                "host": socket.gethostname(),
            }
        )
    )
    assert writer.live_writer(run) is None
