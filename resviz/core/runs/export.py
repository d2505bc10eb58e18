"""Exporting a run's metrics in long format: one row per ``step, metric, index, value``.

``index`` is empty for scalars and the block or layer number for vector metrics, so a
spreadsheet, pandas (``pivot``) or R reads every metric the same way.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from ..records import Record
from .reader import RunReader

__all__ = ["long_rows", "write_csv", "write_json", "export_run"]

FIELDS = ("step", "metric", "index", "value")


def long_rows(records: Iterable[Record]) -> Iterator[tuple[int, str, int | None, float]]:
    """(step, metric, index, value) for every number in ``records``."""
    for r in records:
        for name, value in r.scalars.items():
            # SQLite stores a NaN as NULL: it reads back as None (float(None) was a traceback)
            yield r.step, name, None, math.nan if value is None else float(value)
        for name, values in r.vectors.items():
            for i, v in enumerate(values):
                yield r.step, name, i, float(v)


def write_csv(records: Iterable[Record], out: TextIO) -> int:
    """Write long-format CSV with a header; returns the number of rows."""
    w = csv.writer(out, lineterminator="\n")
    w.writerow(FIELDS)
    n = 0
    for step, metric, index, value in long_rows(records):
        w.writerow((step, metric, "" if index is None else index, repr(value)))
        n += 1
    return n


def write_json(records: Iterable[Record], out: TextIO, *, reader: RunReader | None = None) -> int:
    """Write ``{"run": ..., "rows": [{step, metric, index, value}, ...]}``; returns rows."""
    rows = [dict(zip(FIELDS, row, strict=False)) for row in long_rows(records)]
    doc = {"rows": rows}
    if reader is not None:
        doc = {"run": reader.name, "config": reader.config, "layout": reader.layout, **doc}
    json.dump(_finite_or_null(doc), out, allow_nan=False)
    out.write("\n")
    return len(rows)


def _finite_or_null(value):
    """``value`` with every NaN or infinity replaced by None (JSON ``null``).

    Python's json writes bare ``NaN`` and ``Infinity``, which RFC 8259 does not allow and
    strict parsers (JavaScript's JSON.parse, jq, Go) reject: a diverged run's export was
    invalid JSON (issue #17). The CSV keeps ``nan`` and ``inf``, which CSV readers parse.
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite_or_null(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_null(v) for v in value]
    return value


def export_run(run_dir: str | Path, out: str | Path, fmt: str = "csv") -> int:
    """Export a run folder's metrics to ``out`` as csv or json; returns the row count.

    ``out`` is refused inside a run folder or over an input (:func:`~resviz.core.outputs.check_output`).
    """
    from ..outputs import atomic_output, check_output

    out = check_output(out, inputs=[run_dir], what="export")
    reader = RunReader(run_dir)
    try:
        records, _ = reader.read_all(require=True)
    finally:
        reader.close()
    with atomic_output(out) as tmp, open(tmp, "w", newline="") as f:
        return write_csv(records, f) if fmt == "csv" else write_json(records, f, reader=reader)
