"""A run on disk: a folder any number of processes can read while one writes it.

```
RUN_DIR/
  config.json       the TrainConfig
  versions.json     resviz, torch, python, device ... at creation
  layout.json       names of every index of the vector metrics (blocks, layers)
  status.json       running | paused | finished | stopped | failed (+ reason, pid, host)
  metrics.sqlite    records and events (SQLite in WAL mode)
  checkpoints/      step_0001000.pt ... written to a temporary name, then os.replace
```

SQLite in WAL mode gives one writer and any number of readers, and a transaction once
committed survives the writer being killed with SIGKILL (DESIGN.md, "Runs on disk"). The
writer commits at most every ``commit_interval`` seconds and at every event, status
change and checkpoint, so a kill loses at most that much telemetry.

Scalars are one row each; a vector metric is one row holding a little-endian float32 BLOB
(a resnet56 record is 8 rows instead of ~140), expanded to long format on export.

The folder's files are handled in :mod:`.files`, the database in :mod:`.database`, and
whether a writer is alive (so that nothing replaces or resumes a live run) in :mod:`.writer`.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import RunError
from ..inputs import usable_path
from ..records import Event, Record, StatusChange
from . import replace, writer
from .database import SCHEMA, connect, database_error
from .files import (
    CHECKPOINT_DIR,
    RUN_FILES,
    read_json,
    remove_leftovers,
    write_json_atomic,
)

__all__ = ["RunStore", "write_json_atomic", "read_json", "SCHEMA", "CHECKPOINT_DIR"]


class RunStore:
    """Writes one run folder; a :class:`~resviz.core.records.Sink` for the trainer.

    Every write that fails raises a one-line :class:`~resviz.core.errors.RunError`
    (a :class:`~resviz.core.errors.WriteError` for a full disk): the trainer ends the run
    ``failed`` with it instead of a chain of tracebacks (issue #9).
    """

    def __init__(self, path: Path, *, commit_interval: float = 0.5, lock_fd: int | None = None) -> None:
        self.path = Path(path)
        self.commit_interval = commit_interval
        self._db_path = self.path / "metrics.sqlite"
        self._lock_fd = writer.lock(self.path) if lock_fd is None else lock_fd
        try:
            self._db = connect(self._db_path)
        except BaseException:
            writer.unlock(self._lock_fd)
            raise
        writer.claim(self.path)
        self._last_commit = time.monotonic()
        self._status = StatusChange("running")
        #: Temporary files of writes killed halfway, removed when the run was reopened.
        self.removed_leftovers: list[Path] = []
        #: Set when --force could not delete every file of the run it replaced (issue #17).
        self.replaced_note: str | None = None
        #: Folders of runs replaced by a --force that was killed halfway, found on reopening.
        self.stale_asides: list[Path] = []

    # -- creating and reopening --------------------------------------------------------

    @staticmethod
    def check_new(path: str | Path, *, force: bool = False, _locked: bool = False) -> Path:
        """Refuse, before any work is done, a path where a new run cannot go."""
        path = usable_path(path, error=RunError)  # a name too long: one line (issue #17)
        if path.exists() and not path.is_dir():
            raise RunError(f"{path} is a file, not a folder for a run")
        if (path / "config.json").exists():
            if not force:
                raise RunError(f"{path} already holds a run: use --resume to continue it or --force to replace it")
            writer.refuse_live_writer(path, "replace", locked=_locked)  # --force never replaces a live run (issue #9)
            replace.check_replaceable(path)  # every file checked before any net of a group trains (issue #17)
        elif path.is_dir() and any(p.name != writer.LOCK_FILE for p in path.iterdir()):
            # (a lone writer lock is what a run killed before its config.json leaves)
            _refuse_foreign(path, force)
        replace.check_checkpoint_folder(path)
        parent = next((p for p in [path, *path.parents] if p.exists()), None)
        if parent is not None and not parent.is_dir():
            raise RunError(f"cannot make the run folder {path}: {parent} is a file")
        if parent is None or not os.access(parent, os.W_OK):
            raise RunError(f"cannot write the run folder {path}: {parent or path} is not writable")
        return path

    @classmethod
    def create(
        cls,
        path: str | Path,
        *,
        config: dict[str, Any],
        layout: dict[str, Any],
        versions: dict[str, Any],
        force: bool = False,
    ) -> RunStore:
        """Make a new run folder; refuse an existing run unless ``force``."""
        path = RunStore.check_new(path, force=force)  # again: another process may have started since
        try:
            path.mkdir(parents=True, exist_ok=True)
            probe = path / f".write-test-{os.getpid()}"
            probe.write_text("")
            probe.unlink()
        except OSError as exc:
            raise RunError(f"cannot write the run folder {path}: {exc.strerror or exc}") from exc
        # The lock before anything is cleared or written, then the checks once more under it:
        # a process that started writing since the first check is refused, not replaced.
        # --force replaces all or nothing (issue #17): the old run's files are moved aside
        # and deleted only once the new run has started; put back if it does not start.
        lock_fd = writer.lock(path)
        aside, stale = None, []
        try:
            RunStore.check_new(path, force=force, _locked=True)
            if force:
                stale = replace.stale_asides(path)  # of a --force killed before it finished
                aside = replace.move_aside(path)
            write_json_atomic(path / "config.json", config)
            write_json_atomic(path / "versions.json", versions)
            write_json_atomic(path / "layout.json", layout)
        except BaseException:
            replace.restore(path, aside)
            writer.unlock(lock_fd)
            raise
        try:
            store = cls(path, lock_fd=lock_fd)  # (unlocks lock_fd itself if it fails)
            store.status(StatusChange("running"))
        except BaseException:
            replace.restore(path, aside)
            raise
        notes = [replace.discard(a) for a in (aside, *stale)]
        store.replaced_note = "; ".join(n for n in notes if n) or None
        return store

    @classmethod
    def reopen(cls, path: str | Path, *, after_step: int) -> RunStore:
        """Reopen for resuming: rows beyond the checkpoint's step are dropped (re-measured)."""
        path = Path(path).expanduser()
        read_json(path / "config.json")  # raises RunError if this is not a run
        lock_fd = writer.lock(path)  # before leftovers are removed: they may be a live writer's
        try:
            writer.refuse_live_writer(path, "continue", locked=True)
            replace.check_checkpoint_folder(path)  # never writes or prunes another run's (issue #17)
            removed = remove_leftovers(path)
            stale = replace.stale_asides(path)
        except BaseException:
            writer.unlock(lock_fd)
            raise
        store = cls(path, lock_fd=lock_fd)
        store.removed_leftovers = removed
        store.stale_asides = stale
        try:
            store._db.execute("DELETE FROM metrics WHERE step > ?", (after_step,))
            store._db.execute("DELETE FROM events WHERE step > ?", (after_step,))
        except sqlite3.Error as exc:
            store.close()
            raise database_error(exc, store._db_path) from None
        store.commit()
        store.status(StatusChange("running", step=after_step))
        return store

    # -- the Sink protocol -------------------------------------------------------------

    def record(self, record: Record) -> None:
        rows = [(record.step, record.time, k, float(v), None) for k, v in record.scalars.items()]
        rows += [
            (record.step, record.time, k, None, np.asarray(v, dtype="<f4").tobytes()) for k, v in record.vectors.items()
        ]
        try:
            self._db.executemany("INSERT INTO metrics (step, time, metric, value, vector) VALUES (?,?,?,?,?)", rows)
        except sqlite3.Error as exc:
            raise database_error(exc, self._db_path) from None
        if time.monotonic() - self._last_commit >= self.commit_interval:
            self.commit()

    def event(self, event: Event) -> None:
        try:
            self._db.execute(
                "INSERT INTO events (step, time, kind, detail) VALUES (?,?,?,?)",
                (event.step, event.time, event.kind, json.dumps(event.detail, default=str)),
            )
        except sqlite3.Error as exc:
            raise database_error(exc, self._db_path) from None
        self.commit()

    def status(self, change: StatusChange) -> None:
        self._status = change
        try:
            self.commit()
        finally:  # status.json is written even when the database cannot be (a full disk)
            write_json_atomic(
                self.path / "status.json",
                {
                    "status": change.status,
                    "reason": change.reason,
                    "step": change.step,
                    "time": change.time,
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                },
                in_place_when_full=True,
            )

    # -- the rest ----------------------------------------------------------------------

    def commit(self) -> None:
        try:
            self._db.commit()
        except sqlite3.Error as exc:
            raise database_error(exc, self._db_path) from None
        self._last_commit = time.monotonic()

    @property
    def checkpoint_dir(self) -> Path:
        return self.path / CHECKPOINT_DIR

    def close(self) -> None:
        """Commit and close; the folder stays readable by anyone."""
        try:
            self.commit()
            # Fold the WAL back into the main file so a copied run folder is complete alone.
            # Where that fails (a full disk) the rows stay safe in the WAL file.
            try:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass
        finally:
            self._db.close()
            writer.release(self.path)
            writer.unlock(self._lock_fd)


def _refuse_foreign(path: Path, force: bool) -> None:
    """Refuse a non-empty folder that is not a run (no config.json), unless ``force``.

    Files a run writes (layout.json, status.json, metrics.sqlite, ``checkpoints/step_*.pt``)
    found there are refused even with ``force`` (issue #9): they are not this run's, so
    reading them would show another's history or resume another's weights (nothing
    hidden), and deleting them would destroy files resviz did not write (nothing lost).
    Other files are left alone beside the run, which never touches them.
    """
    foreign = [name for name in RUN_FILES if (path / name).exists()]
    ckpts = path / CHECKPOINT_DIR
    if ckpts.is_dir():
        foreign += [f"{CHECKPOINT_DIR}/{p.name}" for p in sorted(ckpts.glob("step_*.pt"))[:3]]
    if foreign:
        raise RunError(
            f"{path} holds {', '.join(foreign)} but no config.json, so they were not written by resviz for a run "
            "here; resviz neither adopts nor deletes such files: choose a new or empty folder for --out"
        )
    if not force:
        raise RunError(
            f"{path} is not empty and is not a run folder: choose a new or empty folder, or add --force to "
            "put the run beside the files already there (none of them is changed)"
        )
