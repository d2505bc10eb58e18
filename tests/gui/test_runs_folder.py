"""Run folders: follow one that another process is writing; open bad folders; drop a folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import curve_len, drop_paths


def _train_in_subprocess(out: Path, iters: int) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "resviz",
        "train",
        "--arch",
        "resnet8",
        "--data",
        "digits",
        "--iters",
        str(iters),
        "--batch-size",
        "32",
        "--telemetry-every",
        "2",
        "--eval-every",
        "20",
        "--threads",
        "1",
        "--quiet",
        "--out",
        str(out),
    ]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow(seconds=20)
def test_a_run_written_by_another_process_grows_live(window, qtbot, tmp_path):
    out = tmp_path / "terminal-run"
    proc = _train_in_subprocess(out, iters=400)
    try:
        qtbot.waitUntil(lambda: (out / "layout.json").is_file() or proc.poll() is not None, timeout=60_000)
        assert proc.poll() is None, proc.communicate()
        run = window.open_run_folder(out)
        assert run is not None and run.origin == "folder" and window.runs.current is run
        assert run.name == "resnet8"
        qtbot.waitUntil(lambda: len(run.history) >= 2, timeout=60_000)
        first = len(run.history)
        qtbot.waitUntil(lambda: len(run.history) > first + 2, timeout=60_000)  # it grows while we watch
        assert run.status == "running"
        curve = window.train_tab.curves._items[run].train
        qtbot.waitUntil(lambda: curve_len(curve) >= first, timeout=30_000)  # the curves follow
        qtbot.waitUntil(lambda: run.status == "finished", timeout=120_000)
        assert run.history.last_step == 400
        assert run.history.latest_vector("residual_ratio").shape == (3,)
    finally:
        proc.kill()
        proc.communicate()
    # opening it again selects the same run instead of adding a twin
    assert window.open_run_folder(out) is run and len(window.runs) == 1


def test_opening_something_that_is_not_a_run_folder_says_what_to_do(window, tmp_path):
    assert window.open_run_folder(tmp_path / "missing") is None
    assert "not a folder" in window.last_error
    (tmp_path / "empty").mkdir()
    assert window.open_run_folder(tmp_path / "empty") is None
    assert "not a run folder" in window.last_error and "resviz train" in window.last_error
    assert len(window.runs) == 0  # nothing half-added


def test_dropping_a_folder_opens_it(window, qtbot, tmp_path):
    (tmp_path / "empty").mkdir()
    assert drop_paths(window, [tmp_path / "empty"])
    assert "not a run folder" in window.last_error  # it tried to open it, and said why it could not
    (tmp_path / "a.txt").write_text("x")
    assert not drop_paths(window, [tmp_path / "a.txt"])  # files are for the Inspect tab, not the window


def _finished_run(folder: Path) -> Path:
    from conftest import tiny_config

    from resviz.core.data import load_dataset
    from resviz.core.train import Trainer

    Trainer(tiny_config(iters=4), run_dir=folder, dataset=load_dataset("digits")).run()
    return folder


def test_a_run_written_on_another_host_is_never_continued(window, tmp_path):
    """Issue #9: the app must not resume (and so rewrite) a folder another machine writes."""
    import json

    folder = _finished_run(tmp_path / "shared-run")
    status = json.loads((folder / "status.json").read_text())
    (folder / "status.json").write_text(json.dumps({**status, "status": "running", "host": "gpu-box.example"}))
    run = window.open_run_folder(folder)
    assert run is not None and run.status == "running"
    before = (folder / "metrics.sqlite").read_bytes()
    window.runs.set_current(run)
    window._on_continue()
    assert "gpu-box.example" in window.last_error
    assert run.status == "running" and not window.session.busy  # not queued, not marked failed
    assert (folder / "metrics.sqlite").read_bytes() == before


def test_a_run_folder_with_a_broken_config_says_so(window, tmp_path):
    folder = _finished_run(tmp_path / "broken")
    (folder / "config.json").write_text("[1, 2, 3]")
    assert window.open_run_folder(folder) is None
    assert "config.json" in window.last_error and "not a JSON object" in window.last_error
    assert len(window.runs) == 0
