"""``resviz experiment degradation``: plain vs residual nets at two depths, and the report."""

from __future__ import annotations

import argparse
import sys

from ..core.experiment import DEGRADATION_ITERS, parse_depths


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "experiment",
        help="run a paper experiment: degradation (plain vs residual nets at two depths)",
        description="Train plain and residual nets at each depth with the same recipe, then write "
        "report.png (the paper's Fig. 6 shape), summary.md and summary.json, and say whether the "
        "paper's claims held.",
    )
    p.add_argument("name", choices=("degradation",))
    p.add_argument("--data", default="digits", help="digits (default), cifar10, or a folder")
    p.add_argument("--data-root", help="where cifar10 lives")
    p.add_argument("--depths", default="20,56", help="comma-separated 6n+2 depths (default 20,56)")
    p.add_argument("--iters", type=int, default=DEGRADATION_ITERS, help=f"iterations per net (default {DEGRADATION_ITERS})")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--warmup", action="store_true", help="lr 0.01 until training error < 80%%")
    p.add_argument("--device", default="auto")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the runs and the report")
    p.add_argument("--force", action="store_true", help="replace runs already in DIR")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..core.train.config import TrainConfig

    depths = parse_depths(args.depths)  # unknown depths fail here, before any training
    eval_every = max(1, args.iters // 10)
    base = TrainConfig(
        data=args.data, data_root=args.data_root, iters=args.iters, batch_size=args.batch_size, lr=args.lr,
        warmup=args.warmup, device=args.device, seed=args.seed, eval_every=eval_every,
        checkpoint_every=args.iters,
    )
    from ..core.experiment import run_degradation, summary_markdown  # noqa: F401  (torch loads here)
    from .progress import ProgressSink

    def on_start(name, trainer):
        trainer.sinks.append(ProgressSink(trainer.config.iters, trainer.config.batch_size, f"{name:>9}"))

    summary = run_degradation(args.out, base, depths, force=args.force, on_start=on_start)
    print((__import__("pathlib").Path(args.out) / "summary.md").read_text(), end="")
    print(f"figure: {args.out}/report.png", file=sys.stderr)
    return 0 if summary["complete"] else 1
