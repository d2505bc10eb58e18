"""``resviz report``: the paper's figures for one or more runs, as a PNG/SVG/PDF.

``resviz report --paper DIR`` redraws a paper experiment folder instead: fig6, fig7,
table6 and claims.md from the run folders in it (:mod:`resviz.core.paper.report`).
"""

from __future__ import annotations

import argparse
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="draw training/test error (Fig. 1/6), layer response std (Fig. 7), residual ratios and gradient norms",
        description="Draw the paper's figures for the given runs into one image: training error (thin) and test "
        "error (bold) against iterations, response std per 3x3 layer (Fig. 7), residual ratio per block, "
        "gradient norm per layer. Plain nets are dashed. With --paper DIR: redraw the files of a paper "
        "experiment folder (fig6, fig7, table6, claims.md) from its runs.",
    )
    p.add_argument("run_dirs", nargs="*", metavar="RUN_DIR")
    p.add_argument("--out", metavar="FIG", help="output image (.png, .svg or .pdf)")
    p.add_argument("--title", help="a title above the panels")
    p.add_argument("--paper", metavar="DIR", help="a `resviz experiment paper` folder: write its files again")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..core.errors import ConfigError, RunError

    if args.paper:
        if args.run_dirs or args.out or args.title:
            raise ConfigError(
                "--paper DIR writes the experiment's own files into DIR; drop the run folders, --out and --title"
            )
        return _paper(args.paper)
    if not args.run_dirs or not args.out:
        raise ConfigError("give the run folders and --out FIG (or --paper DIR for a paper experiment folder)")
    from ..core.outputs import check_output
    from ..core.report import save_report
    from ..core.runs.history import load_history

    # Never into a run folder (issue #9); the path checked is the one written (issue #17).
    args.out = str(check_output(args.out, inputs=args.run_dirs, what="figure", kind="figure"))
    histories = [load_history(d, require=True) for d in args.run_dirs]  # no metrics: one line (issue #17)
    try:
        out = save_report(histories, args.out, title=args.title)
    except (OSError, ValueError) as exc:
        raise RunError(f"cannot write {args.out}: {exc}") from exc
    print(f"wrote {out}", file=sys.stderr)
    return 0


def _paper(folder: str) -> int:
    from ..core.paper.report import write_paper_report

    report = write_paper_report(folder)
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    print("wrote " + ", ".join(str(p) for p in report.written), file=sys.stderr)
    return 0
