"""``resviz models``: every architecture the paper names, with its parameter count."""

from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "models",
        help="list the architectures (name, family, depth, blocks, params, shortcut option)",
        description="List the paper's architectures. Parameter counts match its Tables 1 and 6.",
    )
    p.add_argument("--json", action="store_true", help="print a JSON array instead of a table")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..core.models import architecture_table

    rows = architecture_table()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    header = f"{'name':<11} {'family':<9} {'depth':>5} {'blocks':>6} {'params':>12}  shortcut"
    print(header)
    print("-" * len(header))
    for r in rows:
        option = "none (plain)" if r["plain"] else r["shortcut"]
        print(f"{r['name']:<11} {r['family']:<9} {r['depth']:>5} {r['blocks']:>6} {r['params']:>12,}  {option}")
    return 0
