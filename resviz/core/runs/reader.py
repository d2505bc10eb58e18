"""Reading a run folder, also while another process is still writing it.

The app follows a ``resviz train`` in a terminal (or a torchrun job on a shared folder)
by calling :meth:`RunReader.poll` on a timer: each call returns only what was committed
since the previous one, found by SQLite row id.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

import numpy as np

from ..errors import ConfigError, RunError
from ..inputs import usable_path, what_it_is, why_unreadable
from ..records import Event, Record, StatusChange
from ..shell import shell_command
from ..train.config import TrainConfig
from .database import check_schema, connect, database_error
from .files import CHECKPOINT_DIR, checkpoint_files, read_json
from .writer import LIVE_STATUSES, live_writer, read_status

__all__ = ["RunReader", "check_run_folder", "experiment_runs", "is_run_folder", "run_folders_in"]

#: What makes a folder a run: RunStore.create writes both before anything else.
_RUN_FILES = ("config.json", "layout.json")


def _missing_run_file(path: Path) -> str | None:
    return next((name for name in _RUN_FILES if not (path / name).is_file()), None)


def is_run_folder(path: str | Path) -> bool:
    """True when ``path`` is a run folder (it has a config.json and a layout)."""
    try:
        p = Path(path)
        return p.is_dir() and _missing_run_file(p) is None
    except (OSError, ValueError):  # a name too long, a folder without permission: not a run to open
        return False


def run_folders_in(folder: str | Path) -> list[Path]:
    """The run folders directly inside ``folder`` (an experiment's: ``DIR/<net>``), by name."""
    p = Path(folder).expanduser()
    try:
        return [c for c in sorted(p.iterdir()) if is_run_folder(c)] if p.is_dir() else []
    except OSError:  # unreadable: not an experiment this user can open
        return []


def experiment_runs(folder: str | Path) -> list[Path]:
    """The run folders of an experiment's folder (what File > Open and ``screenshot --open``
    open as one group); [] when ``folder`` is a run folder itself or holds none."""
    return [] if is_run_folder(Path(folder).expanduser()) else run_folders_in(folder)


def check_run_folder(path: str | Path) -> Path:
    """``path`` (expanded) when it is a run folder; a :class:`RunError` saying what to do otherwise."""
    p = usable_path(path, error=RunError)  # a name too long or unreadable: one line (issue #17)
    if not p.exists():
        raise RunError(f"{p} is not a folder (it does not exist); open a run folder made by resviz train or the app")
    if not p.is_dir():
        kind = what_it_is(os.stat(p).st_mode)  # /dev/null, a FIFO: said as what they are
        raise RunError(f"{p} is {kind}, not a folder; open a run folder made by resviz train or the app")
    missing = _missing_run_file(p)
    if missing is not None:
        raise RunError(f"{p} is not a run folder (no {missing}); pick a folder made by resviz train")
    return p


class RunReader:
    """Reads config, layout, status, records, events and checkpoints of one run."""

    def __init__(self, path: str | Path) -> None:
        self.path = check_run_folder(path)
        self.config: dict = read_json(self.path / "config.json")
        try:  # wrong-typed fields fail here, in one line, not deep in a report or the app (issue #9)
            TrainConfig.from_dict(self.config)
        except ConfigError as exc:
            raise RunError(f"{self.path / 'config.json'} is not a valid run config: {exc}") from None
        self.layout: dict = read_json(self.path / "layout.json")
        self._db: sqlite3.Connection | None = None
        self._last_metric = 0
        self._last_event = 0

    @property
    def name(self) -> str:
        return self.path.name

    def versions(self) -> dict:
        try:
            return read_json(self.path / "versions.json")
        except RunError:
            return {}

    def status(self) -> StatusChange:
        """The status the writer last recorded; a writer that died uncleanly reads as stopped.

        Whether the writer is alive is judged by :func:`~resviz.core.runs.writer.live_writer`,
        the same rule that keeps ``--force`` and ``--resume`` off a live run.
        """
        found = read_status(self.path)
        if found is None:
            return StatusChange("running", "no status written yet")
        change = found.change
        if change.status in LIVE_STATUSES and live_writer(self.path) is None:
            return StatusChange(
                "stopped",
                "the training process ended without closing the run (killed?); "
                f"continue it with `{shell_command('resviz', 'train', '--resume', self.path)}`",
                change.step,
                change.time,
            )
        return change

    def _connection(self) -> sqlite3.Connection | None:
        if self._db is None:
            db_path = self.path / "metrics.sqlite"
            if not db_path.exists():
                return None
            try:
                self._db = connect(db_path, readonly=True)
            except sqlite3.Error:
                return None
        return self._db

    def poll(self) -> tuple[list[Record], list[Event]]:
        """Records and events committed since the last call (all of them the first time)."""
        db = self._connection()
        if db is None:
            return [], []
        try:
            rows = db.execute(
                "SELECT id, step, time, metric, value, vector FROM metrics WHERE id > ? ORDER BY id",
                (self._last_metric,),
            ).fetchall()
            events = db.execute(
                "SELECT id, step, time, kind, detail FROM events WHERE id > ? ORDER BY id", (self._last_event,)
            ).fetchall()
        except sqlite3.Error as exc:
            if "no such table" in str(exc):
                return [], []
            raise RunError(f"cannot read {self.path / 'metrics.sqlite'}: {exc}") from exc
        if rows:
            self._last_metric = rows[-1][0]
        if events:
            self._last_event = events[-1][0]
        return _group_records(rows), [Event(step=s, kind=k, detail=json.loads(d), time=t) for _, s, t, k, d in events]

    def read_all(self, *, require: bool = False) -> tuple[list[Record], list[Event]]:
        """Every record and event, whatever was polled before.

        ``require``: the metrics database must be there and be a run's (``export`` and
        ``report``, which printed "wrote 0 rows" for a missing one, issue #17); otherwise a
        run that has not written its first record yet reads as empty (the app follows it).
        """
        self._last_metric = self._last_event = 0
        if require:
            self.require_metrics()
        return self.poll()

    def require_metrics(self) -> None:
        """RunError in one line unless the run's metrics.sqlite is a readable database of runs."""
        db_path = self.path / "metrics.sqlite"
        try:
            st = os.stat(db_path)
        except FileNotFoundError:
            raise RunError(
                f"{self.path} holds no metrics.sqlite: the run recorded nothing (or the file was moved away)"
            ) from None
        except OSError as exc:
            raise RunError(why_unreadable(db_path, exc)) from None
        if not stat.S_ISREG(st.st_mode):
            kind = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file"
            raise RunError(f"{db_path} is {kind}, not the run's metrics database")
        if st.st_size == 0:
            raise RunError(f"{db_path} is empty (0 bytes): the run recorded nothing")
        self.close()  # a connection opened before the file was replaced would read the old one
        try:
            self._db = connect(db_path, readonly=True)
        except sqlite3.Error as exc:
            raise database_error(exc, db_path) from None
        check_schema(self._db, db_path)

    def checkpoints(self) -> list[Path]:
        """Checkpoint files, oldest step first."""
        return checkpoint_files(self.path / CHECKPOINT_DIR)

    def __enter__(self) -> RunReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def _group_records(rows: list[tuple]) -> list[Record]:
    """Rows in id order -> one Record per (step, time): a record's rows are contiguous."""
    records: list[Record] = []
    key = None
    for _, step, t, metric, value, vector in rows:
        if (step, t) != key:
            records.append(Record(step=step, time=t))
            key = (step, t)
        if vector is not None:
            records[-1].vectors[metric] = np.frombuffer(vector, dtype="<f4").copy()
        else:
            records[-1].scalars[metric] = value
    return records
