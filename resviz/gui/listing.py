"""The runs folder's runs in the Runs list at launch, read only when shown (issue #19).

After a restart the list used to be empty: every earlier run had to be found again with
File > Open. Now the runs root's run folders (single runs, and the runs of experiment
folders as one group each) are listed on launch, newest first, from their small JSON
files only (config, status): no metrics database is opened until a run is shown (ticked,
or selected), so 50 runs on disk cost the launch nothing it would notice. Listed runs
start unticked: the plots show what this session trains until the user asks for more.

Deleting a run's folder is refused while a process writes it: the run's writer lock
(:func:`resviz.core.runs.writer.lock`) is taken for the deletion, so no trainer can start
writing it meanwhile either.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from ..core.errors import ConfigError, RunError
from ..core.runs.files import read_json
from ..core.runs.reader import experiment_runs, is_run_folder
from ..core.runs.writer import live_writer, lock, read_status, unlock
from ..core.train.config import TrainConfig
from .runs import Run

__all__ = ["delete_run_folder", "listed_run", "runs_on_disk"]


def _started(run_dir: Path) -> float:
    """When the run started: its config.json is written first (RunStore.create)."""
    try:
        return (run_dir / "config.json").stat().st_mtime
    except OSError:
        return 0.0


def runs_on_disk(root: Path) -> list[tuple[str | None, list[Path]]]:
    """The runs root's runs as (experiment folder name or None, its run folders), newest first.

    A batch's time is its newest run's start; an unreadable root lists nothing.
    """
    try:
        children = [c for c in root.iterdir() if c.is_dir()]
    except OSError:
        return []
    batches: list[tuple[float, str | None, list[Path]]] = []
    for child in children:
        if is_run_folder(child):
            batches.append((_started(child), None, [child]))
        elif runs := experiment_runs(child):
            batches.append((max(_started(r) for r in runs), child.name, runs))
    batches.sort(key=lambda b: b[0], reverse=True)
    return [(experiment, runs) for _, experiment, runs in batches]


def listed_run(run_dir: Path, unique: Callable[[str], str], colour_index: int) -> Run:
    """A :class:`Run` for ``run_dir`` from its config and status files only (``listed``:
    its metrics are read when it is first shown), named by its net through ``unique``.
    Raises ResvizError when its config cannot be read."""
    config = read_json(run_dir / "config.json")
    try:
        name = TrainConfig.from_dict(config).label
    except (ConfigError, TypeError, ValueError):
        name = run_dir.name
    found = read_status(run_dir)
    if found is None:
        status, reason = "stopped", "no status file: it ended before its first record"
    else:
        status, reason = found.change.status, found.change.reason
    if status in ("running", "paused") and live_writer(run_dir) is None:
        status, reason = "stopped", "its process ended without writing a final status"
    run = Run(unique(name), config=config, run_dir=run_dir, origin="folder", colour_index=colour_index, status=status)
    run.reason = reason
    run.listed = True
    run.visible = False  # the plots show this session's runs until the user ticks more
    return run


def delete_run_folder(run_dir: Path, before: Callable[[], None] = lambda: None) -> None:
    """Delete a run's folder, holding its writer lock; RunError, nothing deleted, while a
    process writes it. ``before`` runs once the deletion is sure to go ahead (let go of
    the folder's reader)."""
    fd = lock(run_dir)  # refused at once while a trainer holds it; no trainer starts meanwhile
    try:
        why = live_writer(run_dir, locked=True)  # a writer on another host, say
        if why is not None:
            raise RunError(f"cannot delete {run_dir}: {why}")
        before()
        try:
            shutil.rmtree(run_dir)
        except OSError as exc:
            raise RunError(f"cannot delete {run_dir}: {exc.strerror or exc}") from exc
    finally:
        unlock(fd)
