"""``resviz lesion``: Veit et al.'s lesion study: per-block test errors with one block cut."""

from __future__ import annotations

import argparse
import os

from ._inspect import (
    add_data_options,
    add_model_options,
    check_common,
    inputs_of,
    load_with_test_split,
    note_line,
    progress_printer,
    subset_line,
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "lesion",
        help="test error with each block's residual branch deleted, and each shortcut removed",
        description=(
            "The lesion study of Veit et al. 2016 (arXiv:1605.06431): the test error of the net "
            "with each single block's residual branch deleted, and with each single shortcut "
            "removed, beside the intact net's error."
        ),
    )
    add_model_options(p)
    add_data_options(p, required=True)
    p.add_argument(
        "--limit",
        type=int,
        metavar="N",
        help="only N test images (faster): a fixed subset with each class in its share",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--out", metavar="FIG.png", help="also write the bar chart (PNG, SVG or PDF)")
    p.add_argument("--csv", metavar="FILE.csv", help="also write the per-block errors as CSV")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..core.errors import ConfigError, ResvizError
    from ..core.outputs import atomic_output, check_output

    # Every option and output before any work: a refused file costs no lesion study.
    check_common(args)
    # The paths written (a figure name without a suffix gains .png) are the ones checked (issue #17).
    if args.out:
        args.out = str(check_output(args.out, inputs=inputs_of(args), what="figure", kind="figure"))
    if args.csv:
        args.csv = str(check_output(args.csv, inputs=inputs_of(args), what="CSV file"))
    if args.out and args.csv and os.path.realpath(args.out) == os.path.realpath(args.csv):
        raise ConfigError(f"--out and --csv both name {args.csv}: give each its own file")
    from ..core.inspect import Inspector, lesion_figure, save_figure

    loaded, data = load_with_test_split(args)
    result = Inspector(loaded).lesion_study(
        data.test, limit=args.limit, classes=data.classes, progress=progress_printer("lesion study")
    )
    if args.out:
        save_figure(lesion_figure(result), args.out)
        note_line(f"wrote {args.out}")
    if args.csv:
        try:
            with atomic_output(args.csv) as tmp:
                tmp.write_text(result.to_csv())
        except OSError as exc:
            raise ResvizError(f"cannot write {args.csv}: {exc.strerror or exc}") from None
        note_line(f"wrote {args.csv}")
    if args.json:
        print(result.to_json())
        return 0
    print(f"{loaded.describe()}\n{subset_line(result, data.name)}")
    print(f"intact test error {result.intact_error:.2f}% ({result.intact_wrong:,} wrong)")
    print(f"{'block':>5}  {'name':<10} {'level':<5} {'down':<4} {'residual deleted':>16} {'shortcut removed':>16}")
    for row in result.rows():
        down = "yes" if row["downsamples"] else ""
        print(
            f"{row['block']:>5}  {row['name']:<10} {row['level']:<5} {down:<4} "
            f"{row['residual_deleted_error']:>15.2f}% {row['shortcut_removed_error']:>15.2f}%"
        )
    return 0
