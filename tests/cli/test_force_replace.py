"""Issue #17 item 2: ``--force`` replaces a run all or nothing.

It deleted the old run's files one by one and stopped at the first failure: with
``status.json`` or ``metrics.sqlite`` a folder, or a read-only ``checkpoints/``, layout.json
and versions.json (and more) were gone and the run could be neither exported nor resumed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from resviz.cli import main

TINY = ["--arch", "resnet8", "--iters", "4", "--batch-size", "8", "--eval-every", "4", "--device", "cpu", "--quiet"]


@pytest.fixture(scope="module")
def _run(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("r") / "run"
    assert main(["train", *TINY, "--checkpoint-every", "2", "--out", str(run)]) == 0
    return run


@pytest.fixture
def run(_run, tmp_path) -> Path:
    return Path(shutil.copytree(_run, tmp_path / "run"))


def tree(folder: Path) -> dict[str, str]:
    """Every entry under ``folder``: a file's SHA-256, or what else it is."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = str(p.relative_to(folder))
        if p.is_symlink():
            out[rel] = "link"
        elif p.is_dir():
            out[rel] = "dir"
        else:
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("resviz: error: "), err
    return err[0]


@pytest.mark.parametrize("name", ["status.json", "metrics.sqlite", "layout.json"])
def test_a_run_file_that_is_a_folder_is_refused_before_anything_is_removed(run, capsys, name):
    (run / name).unlink()
    (run / name).mkdir()
    (run / name / "keep.txt").write_text("mine")
    before = tree(run)
    assert main(["train", *TINY, "--force", "--out", str(run)]) == 2
    line = _error(capsys)
    assert name in line and "not" in line
    assert tree(run) == before


def test_a_removal_that_fails_midway_puts_everything_back(run, capsys, monkeypatch):
    """A read-only checkpoints/ as a user without root's capabilities meets it (tests run as
    root, where permissions do not stop anything): every removal or move of a file in it fails."""
    before = tree(run)
    real = {name: getattr(os, name) for name in ("unlink", "remove", "rename", "replace")}

    def refuse(name):
        def call(src, *args, **kwargs):
            if f"{os.sep}checkpoints{os.sep}" in os.fspath(src):
                raise PermissionError(13, "Permission denied", os.fspath(src))
            return real[name](src, *args, **kwargs)

        return call

    for name in real:
        monkeypatch.setattr(os, name, refuse(name))
    assert main(["train", *TINY, "--force", "--out", str(run)]) == 2
    monkeypatch.undo()
    line = _error(capsys)
    assert "Permission denied" in line and "nothing was changed" in line
    assert tree(run) == before
    assert main(["export", str(run), "--out", str(run.parent / "rows.csv")]) == 0  # still readable


def test_a_checkpoints_link_to_another_run_is_refused(run, tmp_path, capsys):
    other = Path(shutil.copytree(run, tmp_path / "other"))
    shutil.rmtree(run / "checkpoints")
    (run / "checkpoints").symlink_to(other / "checkpoints")
    before = tree(other)
    assert main(["train", *TINY, "--force", "--out", str(run)]) == 2
    assert "checkpoints" in _error(capsys)
    assert tree(other) == before


def test_force_still_replaces_a_run_and_leaves_nothing_aside(run, capsys):
    (run / "checkpoints" / "notes.txt").write_text("mine")  # not a run's file: left alone
    old = (run / "config.json").read_text()
    assert main(["train", *TINY, "--lr", "0.05", "--force", "--out", str(run)]) == 0
    assert (run / "config.json").read_text() != old
    assert (run / "checkpoints" / "notes.txt").read_text() == "mine"
    assert not [p for p in run.iterdir() if p.name.startswith(".replaced")]
    assert sorted(p.name for p in (run / "checkpoints").glob("step_*.pt")) == ["step_0000004.pt"]


def _killed_force(run: Path) -> Path:
    """What a --force killed (SIGKILL) between setting the old run aside and deleting it leaves:
    the old run's files in RUN/.replaced-XXXX, the new run's config beside them."""
    aside = run / ".replaced-k1ll3d"
    (aside / "checkpoints").mkdir(parents=True)
    for name in ("status.json", "metrics.sqlite"):
        shutil.copy2(run / name, aside / name)
    shutil.copy2(next((run / "checkpoints").glob("step_*.pt")), aside / "checkpoints")
    return aside


def test_the_next_force_deletes_what_a_killed_force_set_aside(run, capsys):
    _killed_force(run)
    assert main(["train", *TINY, "--force", "--out", str(run)]) == 0
    # the user asked twice to replace that run: no folder set aside is left, old or new
    assert not [p for p in run.iterdir() if p.name.startswith(".replaced")]


def test_a_resume_names_what_a_killed_force_set_aside_and_keeps_it(run, capsys):
    from resviz.core.runs.store import RunStore

    aside = _killed_force(run)
    before = tree(aside)
    store = RunStore.reopen(run, after_step=4)
    try:
        assert store.stale_asides == [aside]
    finally:
        store.close()
    assert tree(aside) == before  # a resume deletes nothing it was not asked to
