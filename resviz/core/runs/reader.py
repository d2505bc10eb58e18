"""Reading a run folder, also while another process is still writing it.

The app follows a ``resviz train`` in a terminal (or a torchrun job on a shared folder)
by calling :meth:`RunReader.poll` on a timer: each call returns only what was committed
since the previous one, found by SQLite row id.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from pathlib import Path

import numpy as np

from ..errors import RunError
from ..records import Event, Record, StatusChange
from .store import CHECKPOINT_DIR, connect, read_json

__all__ = ["RunReader", "check_run_folder", "is_run_folder"]

#: What makes a folder a run: RunStore.create writes both before anything else.
_RUN_FILES = ("config.json", "layout.json")


def _missing_run_file(path: Path) -> str | None:
    return next((name for name in _RUN_FILES if not (path / name).is_file()), None)


def is_run_folder(path: str | Path) -> bool:
    """True when ``path`` is a run folder (it has a config.json and a layout)."""
    p = Path(path)
    return p.is_dir() and _missing_run_file(p) is None


def check_run_folder(path: str | Path) -> Path:
    """``path`` (expanded) when it is a run folder; a :class:`RunError` saying what to do otherwise."""
    p = Path(path).expanduser()
    if not p.exists():
        raise RunError(f"{p} is not a folder (it does not exist); open a run folder made by resviz train or the app")
    if not p.is_dir():
        raise RunError(f"{p} is a file, not a folder; open a run folder made by resviz train or the app")
    missing = _missing_run_file(p)
    if missing is not None:
        raise RunError(f"{p} is not a run folder (no {missing}); pick a folder made by resviz train")
    return p


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


class RunReader:
    """Reads config, layout, status, records, events and checkpoints of one run."""

    def __init__(self, path: str | Path) -> None:
        self.path = check_run_folder(path)
        self.config: dict = read_json(self.path / "config.json")
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
        """The status the writer last recorded; a writer that died uncleanly reads as stopped."""
        try:
            data = json.loads((self.path / "status.json").read_text())
        except (OSError, ValueError):
            return StatusChange("running", "no status written yet")
        change = StatusChange(data.get("status", "running"), data.get("reason"), int(data.get("step", 0)), data.get("time", 0.0))
        if change.status in ("running", "paused") and data.get("host") == socket.gethostname():
            pid = data.get("pid")
            if isinstance(pid, int) and not _pid_alive(pid):
                return StatusChange(
                    "stopped",
                    "the training process ended without closing the run (killed?); "
                    "continue it with `resviz train --resume`",
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
        return _group_records(rows), [
            Event(step=s, kind=k, detail=json.loads(d), time=t) for _, s, t, k, d in events
        ]

    def read_all(self) -> tuple[list[Record], list[Event]]:
        """Every record and event, whatever was polled before."""
        self._last_metric = self._last_event = 0
        return self.poll()

    def checkpoints(self) -> list[Path]:
        """Checkpoint files, oldest first."""
        folder = self.path / CHECKPOINT_DIR
        return sorted(folder.glob("step_*.pt")) if folder.is_dir() else []

    def __enter__(self) -> "RunReader":
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
