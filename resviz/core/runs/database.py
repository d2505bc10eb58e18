"""The metrics database of a run: SQLite in WAL mode, and one-line errors for its failures."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from pathlib import Path
from urllib.parse import quote

from ..errors import RunError
from ..write_errors import write_error

__all__ = ["SCHEMA", "check_database", "check_schema", "connect", "database_error", "folder_writable"]

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


def database_error(exc: sqlite3.Error, path: Path) -> RunError:
    """One line for a failed SQLite call on ``path`` (full disk, damaged file ...)."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, sqlite3.DatabaseError) and ("not a database" in text or "malformed" in text):
        return RunError(
            f"{path} is not a readable metrics database ({text}); move it away to continue the run without its history"
        )
    return write_error(exc, path)


#: The columns resviz reads from each table: a database without them is another program's.
_COLUMNS = {"metrics": {"step", "time", "metric", "value", "vector"}, "events": {"step", "time", "kind", "detail"}}


def check_schema(db: sqlite3.Connection, path: Path) -> None:
    """RunError in one line when ``db`` lacks the tables and columns a run's metrics have."""
    try:
        for table, wanted in _COLUMNS.items():
            have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
            if not have:
                raise RunError(
                    f"{path} holds no {table} table: it is not the metrics database of a resviz run "
                    "(an empty or foreign file); nothing to read"
                )
            if not wanted <= have:
                raise RunError(
                    f"{path} is not the metrics database of a resviz run: its {table} table lacks "
                    f"{', '.join(sorted(wanted - have))}"
                )
    except sqlite3.Error as exc:
        raise database_error(exc, path) from None


def check_database(path: Path) -> None:
    """Raise a one-line RunError now when ``path`` exists but is no SQLite database."""
    if not path.exists():
        return
    try:
        db = connect(path, readonly=True)
        try:
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise database_error(exc, path) from None


def folder_writable(folder: Path) -> bool:
    """Whether this process may create files in ``folder`` (SQLite's -shm beside a database)."""
    return os.access(folder, os.W_OK)


class _SnapshotConnection(sqlite3.Connection):
    """A connection to a copy of a database, the copy deleted on close."""

    snapshot: tempfile.TemporaryDirectory | None = None

    def close(self) -> None:
        super().close()
        if self.snapshot is not None:
            self.snapshot.cleanup()
            self.snapshot = None


def _readonly_uri(path: Path, **options: str) -> str:
    # Percent-quoted: a folder named "a?b" or "50%" is a path, not a URI query (issue #17).
    query = "&".join(f"{k}={v}" for k, v in options.items())
    return f"file:{quote(str(Path(path).absolute()))}?{query}"


def _connect_readonly(path: Path) -> sqlite3.Connection:
    """Open read-only, also where nothing can be written beside the file.

    A WAL database opened read-only needs its -shm file, which SQLite creates beside it
    when missing; on read-only storage without one that failed with "attempt to write a
    readonly database" (issue #17). There the file is opened ``immutable`` (no -shm, no
    locks) when its WAL is empty (every cleanly closed run); a run whose WAL still holds
    records (its writer was killed) is read from a copy of the two files.
    """
    kwargs = {"uri": True, "timeout": 5.0, "check_same_thread": False}
    shm = path.with_name(path.name + "-shm")
    if shm.exists() or folder_writable(path.parent):
        return sqlite3.connect(_readonly_uri(path, mode="ro"), **kwargs)
    wal = path.with_name(path.name + "-wal")
    if not wal.exists() or wal.stat().st_size == 0:
        return sqlite3.connect(_readonly_uri(path, mode="ro", immutable="1"), **kwargs)
    snapshot = tempfile.TemporaryDirectory(prefix="resviz-metrics-")
    try:
        copy = Path(snapshot.name) / path.name
        shutil.copyfile(path, copy)
        shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
        db = sqlite3.connect(_readonly_uri(copy, mode="ro"), factory=_SnapshotConnection, **kwargs)
    except BaseException:
        snapshot.cleanup()
        raise
    db.snapshot = snapshot
    return db


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection to a run's metrics database (readers open it read-only)."""
    if readonly:
        return _connect_readonly(path)
    db = sqlite3.connect(path, timeout=5.0, check_same_thread=False)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        # NORMAL is durable against a killed process in WAL mode (only a power loss can
        # roll back the last transactions), and avoids an fsync per commit.
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(SCHEMA)
    except sqlite3.Error as exc:  # a damaged file or a full disk: one line, and the file kept
        db.close()
        raise database_error(exc, path) from None
    return db
