"""``resviz eval``: the test error (and top-5 error) of a trained net on a data set."""

from __future__ import annotations

import argparse
import json

from ._inspect import (
    add_data_options,
    add_model_options,
    check_common,
    load_with_test_split,
    progress_printer,
    subset_line,
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="test error of a checkpoint on a data set",
        description="Print the test error of a trained net (top-1, and top-5 when it has more than 5 classes).",
    )
    add_model_options(p)
    add_data_options(p, required=True)
    p.add_argument(
        "--limit", type=int, metavar="N", help="only N test images: a fixed subset with each class in its share"
    )
    p.add_argument(
        "--json", action="store_true", help="print the result as JSON (errors, counts and the mean cross-entropy loss)"
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    check_common(args)
    from ..core.inspect import Inspector

    loaded, data = load_with_test_split(args)
    result = Inspector(loaded).evaluate(
        data.test, limit=args.limit, classes=data.classes, progress=progress_printer("evaluating")
    )
    if args.json:
        print(json.dumps({"model": loaded.describe(), "data": data.name, **result.to_dict()}, indent=2))
        return 0
    print(loaded.describe())
    top5 = "" if result.top5_error is None else f", top-5 error {result.top5_error:.2f}% ({result.wrong5:,} wrong)"
    loss = "" if result.loss is None else f", loss {result.loss:.4f}"
    print(f"test error {result.error:.2f}% ({result.wrong:,} wrong){top5}{loss}")
    print(f"on {subset_line(result, data.name)}")
    return 0
