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
from ..records import Event, Record, StatusChange

__all__ = ["RunStore", "write_json_atomic", "read_json", "SCHEMA", "CHECKPOINT_DIR"]

CHECKPOINT_DIR = "checkpoints"

SCHEMA = """
CREATE TABLE IF NOT EXISTS metrics (
    id INTEGER PRIMARY KEY,
    step INTEGER NOT NULL,
    time REAL NOT NULL,
    metric TEXT NOT NULL,
    value REAL,
    vector BLOB
);
CREATE INDEX IF NOT EXISTS metrics_by_name ON metrics (metric, step);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    step INTEGER NOT NULL,
    time REAL NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL
);
"""


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to a temporary file and move it into place: readers never see half."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str))
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise RunError(f"{path.parent} is not a run folder: {path.name} is missing") from None
    except (OSError, ValueError) as exc:
        raise RunError(f"{path} is unreadable: {exc}") from exc


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection to a run's metrics database (readers open it read-only)."""
    if readonly:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0, check_same_thread=False)
    else:
        db = sqlite3.connect(path, timeout=5.0, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        # NORMAL is durable against a killed process in WAL mode (only a power loss can
        # roll back the last transactions), and avoids an fsync per commit.
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(SCHEMA)
    return db


class RunStore:
    """Writes one run folder; a :class:`~resviz.core.records.Sink` for the trainer."""

    def __init__(self, path: Path, *, commit_interval: float = 0.5) -> None:
        self.path = Path(path)
        self.commit_interval = commit_interval
        self._db = connect(self.path / "metrics.sqlite")
        self._last_commit = time.monotonic()
        self._status = StatusChange("running")

    # -- creating and reopening --------------------------------------------------------

    @staticmethod
    def check_new(path: str | Path, *, force: bool = False) -> Path:
        """Refuse, before any work is done, a path where a new run cannot go."""
        path = Path(path).expanduser()
        if path.exists() and not path.is_dir():
            raise RunError(f"{path} is a file, not a folder for a run")
        if (path / "config.json").exists() and not force:
            raise RunError(f"{path} already holds a run: use --resume to continue it or --force to replace it")
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
    ) -> "RunStore":
        """Make a new run folder; refuse an existing run unless ``force``."""
        path = RunStore.check_new(path, force=force)
        try:
            path.mkdir(parents=True, exist_ok=True)
            probe = path / f".write-test-{os.getpid()}"
            probe.write_text("")
            probe.unlink()
        except OSError as exc:
            raise RunError(f"cannot write the run folder {path}: {exc.strerror or exc}") from exc
        if force:
            _clear_run(path)
        write_json_atomic(path / "config.json", config)
        write_json_atomic(path / "versions.json", versions)
        write_json_atomic(path / "layout.json", layout)
        store = cls(path)
        store.status(StatusChange("running"))
        return store

    @classmethod
    def reopen(cls, path: str | Path, *, after_step: int) -> "RunStore":
        """Reopen for resuming: rows beyond the checkpoint's step are dropped (re-measured)."""
        path = Path(path).expanduser()
        read_json(path / "config.json")  # raises RunError if this is not a run
        store = cls(path)
        store._db.execute("DELETE FROM metrics WHERE step > ?", (after_step,))
        store._db.execute("DELETE FROM events WHERE step > ?", (after_step,))
        store._db.commit()
        store.status(StatusChange("running", step=after_step))
        return store

    # -- the Sink protocol -------------------------------------------------------------

    def record(self, record: Record) -> None:
        rows = [(record.step, record.time, k, float(v), None) for k, v in record.scalars.items()]
        rows += [
            (record.step, record.time, k, None, np.asarray(v, dtype="<f4").tobytes())
            for k, v in record.vectors.items()
        ]
        self._db.executemany("INSERT INTO metrics (step, time, metric, value, vector) VALUES (?,?,?,?,?)", rows)
        if time.monotonic() - self._last_commit >= self.commit_interval:
            self.commit()

    def event(self, event: Event) -> None:
        self._db.execute(
            "INSERT INTO events (step, time, kind, detail) VALUES (?,?,?,?)",
            (event.step, event.time, event.kind, json.dumps(event.detail, default=str)),
        )
        self.commit()

    def status(self, change: StatusChange) -> None:
        self.commit()
        self._status = change
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
        )

    # -- the rest ----------------------------------------------------------------------

    def commit(self) -> None:
        self._db.commit()
        self._last_commit = time.monotonic()

    @property
    def checkpoint_dir(self) -> Path:
        return self.path / CHECKPOINT_DIR

    def close(self) -> None:
        """Commit and close; the folder stays readable by anyone."""
        try:
            self.commit()
            # Fold the WAL back into the main file so a copied run folder is complete alone.
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            self._db.close()


def _clear_run(path: Path) -> None:
    """Remove what a previous run left, for --force (only files a run writes)."""
    for name in ("metrics.sqlite", "metrics.sqlite-wal", "metrics.sqlite-shm", "status.json"):
        (path / name).unlink(missing_ok=True)
    ckpts = path / CHECKPOINT_DIR
    if ckpts.is_dir():
        for f in ckpts.glob("*.pt"):
            f.unlink()
