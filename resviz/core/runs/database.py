"""The metrics database of a run: SQLite in WAL mode, and one-line errors for its failures."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..errors import RunError
from ..write_errors import write_error

__all__ = ["SCHEMA", "check_database", "connect", "database_error"]

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


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection to a run's metrics database (readers open it read-only)."""
    if readonly:
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0, check_same_thread=False)
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
