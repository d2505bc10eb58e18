"""``resviz export``: a run's metrics as long-format CSV or JSON."""

from __future__ import annotations

import argparse
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="write a run's metrics as CSV or JSON (rows: step, metric, index, value)",
        description="Write every recorded number of a run in long format: step,metric,index,value "
        "(index empty for scalars; the block or layer number for vector metrics).",
    )
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--format", choices=("csv", "json"), default="csv")
    p.add_argument("--out", metavar="FILE", help="write here instead of to standard output")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..core.outputs import atomic_output, check_output
    from ..core.runs import RunReader, write_csv, write_json

    if args.out is not None:  # never over the run's own files (issue #9: --out R/metrics.sqlite replaced its database)
        args.out = str(check_output(args.out, inputs=[args.run_dir], what="export"))
    reader = RunReader(args.run_dir)
    try:
        records, _ = reader.read_all(require=True)  # no metrics: one line, not "wrote 0 rows"
    finally:
        reader.close()
    write = write_csv if args.format == "csv" else (lambda recs, f: write_json(recs, f, reader=reader))
    if args.out is not None:
        from ..core.errors import RunError

        try:
            with atomic_output(args.out) as tmp, open(tmp, "w", newline="") as f:
                n = write(records, f)
        except OSError as exc:
            raise RunError(f"cannot write {args.out}: {exc.strerror or exc}") from exc
        print(f"wrote {n} rows to {args.out}", file=sys.stderr)
    else:
        write(records, sys.stdout)
    return 0
