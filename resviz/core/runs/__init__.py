"""Runs on disk: a folder per run, metrics in SQLite (WAL), atomic checkpoints."""

from .export import export_run, long_rows, write_csv, write_json
from .reader import RunReader, is_run_folder
from .store import RunStore

__all__ = ["RunReader", "RunStore", "export_run", "is_run_folder", "long_rows", "write_csv", "write_json"]
