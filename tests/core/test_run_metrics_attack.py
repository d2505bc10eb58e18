"""A run's metrics as export and report read them (issue #17 items 8, 9, 10).

A diverged run's JSON export is valid JSON (null for NaN/inf); a metrics.sqlite that is
missing, empty, a folder, a device or another program's database is refused in one line;
a run on storage nothing can be written to is read without creating SQLite's -shm file.
"""

from __future__ import annotations

import io
import json
import math
import os
import sqlite3

import numpy as np
import pytest

from resviz.cli import main
from resviz.core.errors import RunError
from resviz.core.records import Record
from resviz.core.runs import RunReader, RunStore, write_json
from resviz.core.runs import database as database_module


def _run(path, losses=(2.5, 1.0), vectors=None):
    store = RunStore.create(path, config={"arch": "resnet8"}, layout={}, versions={})
    for step, loss in enumerate(losses, start=1):
        store.record(Record(step=step, scalars={"loss": loss}, vectors=vectors or {}, time=100.0 + step))
    store.close()
    return path


def _strict_json(text: str):
    def refuse(token):
        raise ValueError(f"bare {token} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_a_diverged_run_exports_valid_json_with_null(tmp_path):
    grad = {"grad_norm": np.array([0.5, np.nan, np.inf], dtype=np.float32)}
    run = _run(tmp_path / "r", losses=(2.5, float("nan"), float("inf"), -float("inf")), vectors=grad)
    out = io.StringIO()
    with RunReader(run) as reader:
        records, _ = reader.read_all()
        assert write_json(records, out, reader=reader) == 16
    doc = _strict_json(out.getvalue())
    losses = [row["value"] for row in doc["rows"] if row["metric"] == "loss"]
    assert losses == [2.5, None, None, None]
    norms = [(row["step"], row["index"], row["value"]) for row in doc["rows"] if row["metric"] == "grad_norm"]
    assert norms[:3] == [(1, 0, 0.5), (1, 1, None), (1, 2, None)] and len(norms) == 12


def test_the_csv_of_a_diverged_run_keeps_nan(tmp_path, capsys):
    run = _run(tmp_path / "r", losses=(float("nan"),))
    assert main(["export", str(run)]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0] == "step,metric,index,value" and rows[1].startswith("1,loss,,") and math.isnan(float(rows[1][8:]))


def _no_metrics(run):
    for suffix in ("", "-wal", "-shm"):
        p = run / f"metrics.sqlite{suffix}"
        if p.exists():
            p.unlink()


def _empty(run):
    _no_metrics(run)
    (run / "metrics.sqlite").write_bytes(b"")


def _folder(run):
    _no_metrics(run)
    (run / "metrics.sqlite").mkdir()


def _foreign(run):
    _no_metrics(run)
    db = sqlite3.connect(run / "metrics.sqlite")
    db.execute("CREATE TABLE metrics (a INTEGER)")
    db.commit()
    db.close()


def _no_tables(run):
    _no_metrics(run)
    db = sqlite3.connect(run / "metrics.sqlite")
    db.execute("CREATE TABLE notes (a INTEGER)")
    db.commit()
    db.close()


def _dev_null(run):
    _no_metrics(run)
    os.symlink(os.devnull, run / "metrics.sqlite")


def _garbage(run):
    _no_metrics(run)
    (run / "metrics.sqlite").write_bytes(b"not sqlite at all" * 100)


@pytest.mark.parametrize(
    "damage,words",
    [
        (_no_metrics, "holds no metrics.sqlite"),
        (_empty, "is empty (0 bytes)"),
        (_folder, "is a folder, not the run's metrics database"),
        (_foreign, "its metrics table lacks metric, step, time, value, vector"),
        (_no_tables, "holds no metrics table"),
        (_dev_null, "is not a regular file"),
        (_garbage, "is not a readable metrics database"),
    ],
)
@pytest.mark.parametrize("verb", ["export-csv", "export-json", "report"])
def test_export_and_report_refuse_a_run_without_usable_metrics(tmp_path, capsys, damage, words, verb):
    run = _run(tmp_path / "r")
    damage(run)
    out = tmp_path / ("out.png" if verb == "report" else "out.txt")
    if verb == "report":
        args = ["report", str(run), "--out", str(out)]
    else:
        args = ["export", str(run), "--format", verb.split("-")[1], "--out", str(out)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err, err
    assert not out.exists()


def test_a_run_on_read_only_storage_is_read_without_writing_beside_it(tmp_path, monkeypatch):
    """As root chmod does not stop writes, so the writability check itself is what says 'read-only'."""
    run = _run(tmp_path / "r", losses=(2.5, 1.5, 0.5))
    assert not (run / "metrics.sqlite-shm").exists()  # a cleanly closed run leaves none
    monkeypatch.setattr(database_module, "folder_writable", lambda folder: False)
    with RunReader(run) as reader:
        records, _ = reader.read_all(require=True)
    assert [r.scalars["loss"] for r in records] == [2.5, 1.5, 0.5]
    assert not (run / "metrics.sqlite-shm").exists()  # nothing was created beside the database


def test_a_killed_run_on_read_only_storage_reads_its_wal_from_a_copy(tmp_path, monkeypatch):
    run = _run(tmp_path / "r", losses=(2.5,))
    # a writer killed with records still in its WAL: an open connection that never checkpoints
    db = sqlite3.connect(run / "metrics.sqlite")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("INSERT INTO metrics (step, time, metric, value) VALUES (2, 102.0, 'loss', 0.25)")
    db.commit()
    shm = run / "metrics.sqlite-shm"
    assert (run / "metrics.sqlite-wal").stat().st_size > 0
    monkeypatch.setattr(database_module, "folder_writable", lambda folder: False)
    os.unlink(shm)
    try:
        with RunReader(run) as reader:
            records, _ = reader.read_all(require=True)
    finally:
        db.close()
    assert [r.scalars["loss"] for r in records] == [2.5, 0.25]


def test_a_run_folder_with_uri_characters_is_read(tmp_path):
    run = _run(tmp_path / "a?mode=rwc#x%20", losses=(3.0,))
    with RunReader(run) as reader:
        records, _ = reader.read_all(require=True)
    assert [r.scalars["loss"] for r in records] == [3.0]


def test_require_is_what_export_needs_and_the_app_does_not(tmp_path):
    run = _run(tmp_path / "r")
    _no_metrics(run)
    with RunReader(run) as reader:
        assert reader.read_all() == ([], [])  # a run that has not recorded yet, as the app follows it
        with pytest.raises(RunError, match="holds no metrics.sqlite"):
            reader.read_all(require=True)
