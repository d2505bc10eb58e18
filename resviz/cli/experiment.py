"""``resviz experiment degradation|paper``: the paper's experiments, trained and judged.

``degradation``: plain vs residual nets at two depths, trained together, and the report.
``paper``: the CIFAR-10 section (4.2) whole: Table 6, Fig. 6, Fig. 7 and its claims, its
cost said first (:mod:`resviz.cli._paper`).
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from ..core.experiment import DEGRADATION_ITERS, parse_depths
from ..core.shell import shell_command
from ._numbers import finite_float

#: Options only the paper experiment takes (refused for degradation rather than ignored).
_PAPER_ONLY = ("plain_depths", "yes", "estimate", "time_limit", "download", "threads")
#: Options only the degradation experiment takes (the paper experiment uses the paper's recipe).
_DEGRADATION_ONLY = ("lr", "warmup", "checkpoint_every")
#: The options that make a new experiment (a resumed one keeps its own), with their defaults.
_NEW_ONLY = {
    "data": "digits",
    "data_root": None,
    "depths": "20,56",
    "iters": DEGRADATION_ITERS,
    "batch_size": 128,
    "lr": 0.1,
    "warmup": False,
    "device": "auto",
    "seed": 0,
    "seeds": 1,
    "schedule": "auto",
    "eval_subset": None,
    "checkpoint_every": None,  # a tenth of the budget, at most 1000 steps (see _checkpoint_every)
    "force": False,
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "experiment",
        help="run a paper experiment: degradation (plain vs residual nets at two depths) or paper "
        "(the CIFAR-10 section: Table 6, Fig. 6, Fig. 7 and its claims)",
        description="degradation: train plain and residual nets at each depth with the same recipe, together step "
        "by step, then write report.png (the paper's Fig. 6 shape), summary.md and summary.json, and say whether "
        "the paper's claims held. paper: train the ResNets and plain nets of the paper's CIFAR-10 section with its "
        "recipe in lockstep groups, say what it will cost first, then write fig6, fig7, table6 and claims.md beside "
        "the paper's numbers. Ctrl+C stops every net after its current step (each writes a checkpoint); "
        "--resume DIR continues them.",
    )
    p.add_argument("name", choices=("degradation", "paper", "imagenet"))
    p.add_argument(
        "--size", type=int, help="imagenet: the crop size (default 224, the paper's; smaller for a quick look)"
    )
    p.add_argument("--workers", type=int, help="imagenet: DataLoader worker processes that decode the folder")
    p.add_argument(
        "--data", help="degradation: digits (default), cifar10 or a folder; paper: cifar10 (default) or a folder"
    )
    p.add_argument("--data-root", help="where cifar10 lives")
    p.add_argument("--download", action="store_true", help="paper: let torchvision download CIFAR-10 into --data-root")
    p.add_argument(
        "--depths", help="comma-separated 6n+2 depths (degradation: 20,56; paper: the ResNets, 20,32,44,56,110)"
    )
    p.add_argument("--plain-depths", help="paper: the plain nets' depths (default 20,32,44,56; 'none' for none)")
    p.add_argument("--iters", type=int, help=f"iterations per net (degradation: {DEGRADATION_ITERS}; paper: 64000)")
    p.add_argument("--batch-size", type=int, help="default 128")
    p.add_argument("--lr", type=finite_float, help="degradation: default 0.1")
    p.add_argument(
        "--warmup", action="store_true", default=None, help="degradation: lr 0.01 until training error < 80%%"
    )
    p.add_argument("--device", help="auto (default), cpu, cuda or mps")
    p.add_argument("--threads", type=int, help="paper: torch CPU threads (default: torch's choice)")
    p.add_argument("--seed", type=int)
    p.add_argument(
        "--seeds",
        type=int,
        metavar="N",
        help="train each net N times (seeds --seed, --seed+1, ...; the plain and residual twins share each seed) "
        "and report mean ± std (paper: Table 6's 'best (mean ± std)', at most 5); the verdicts then use the "
        "spread across seeds (default 1)",
    )
    p.add_argument(
        "--schedule",
        choices=("auto", "paper", "scaled"),
        help="where the learning rate drops: paper (32k and 48k, as in the paper: a short run is the paper's "
        "first iterations at lr 0.1), scaled (50%% and 75%% of --iters), auto (default: paper under 32k "
        "iterations, else scaled)",
    )
    p.add_argument(
        "--eval-subset",
        type=int,
        metavar="N",
        help="test images per evaluation during training, a fixed class-stratified subset (default 1000; 0: the "
        "whole split every time); the last evaluation reads the whole test split",
    )
    p.add_argument(
        "--checkpoint-every",
        type=int,
        metavar="N",
        help="degradation: each net writes a checkpoint every N steps, so a killed experiment loses at most N "
        "steps of each net (default: a tenth of --iters, at most 1000)",
    )
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", metavar="DIR", help="folder for the runs and the report")
    where.add_argument("--resume", metavar="DIR", help="continue a stopped experiment: every unfinished net")
    p.add_argument("--force", action="store_true", default=None, help="replace runs already in DIR")
    p.add_argument("--yes", action="store_true", help="paper: start even when the estimate is over an hour")
    p.add_argument("--estimate", action="store_true", help="paper: print the estimated time and stop")
    p.add_argument(
        "--time-limit",
        type=finite_float,
        metavar="S",
        help="paper: stop every net after S seconds (checkpointed; --resume continues) and write the files",
    )
    p.set_defaults(run=run)


def _given(args: argparse.Namespace, names) -> list[str]:
    return ["--" + n.replace("_", "-") for n in names if getattr(args, n, None) not in (None, False)]


def run(args: argparse.Namespace) -> int:
    from ..core.errors import ConfigError

    if args.name == "imagenet":  # issue #22: the ImageNet section, under torchrun across GPUs and nodes
        wrong = _given(args, (*_DEGRADATION_ONLY, "seeds", "plain_depths", "download", "data_root"))
        if wrong:
            raise ConfigError(f"the imagenet experiment uses the paper's recipe (section 3.4); drop {', '.join(wrong)}")
        from ._imagenet import run_imagenet_experiment

        return run_imagenet_experiment(args)
    imagenet_only = _given(args, ("size", "workers"))
    if imagenet_only:
        raise ConfigError(f"{', '.join(imagenet_only)} belong(s) to the imagenet experiment")
    if args.name == "paper":
        wrong = _given(args, _DEGRADATION_ONLY)
        if wrong:
            raise ConfigError(f"the paper experiment uses the paper's recipe (section 4.2); drop {', '.join(wrong)}")
        from ._paper import run_paper

        return run_paper(args)
    wrong = _given(args, _PAPER_ONLY)
    if wrong:
        raise ConfigError(f"{', '.join(wrong)} belong(s) to the paper experiment, not to degradation")
    return _run_degradation(args)


def _checkpoint_every(given: int | None, iters: int) -> int:
    from ..core.errors import ConfigError

    if given is None:
        return min(1000, max(1, iters // 10))
    if given < 1:
        raise ConfigError(f"--checkpoint-every must be 1 or more, not {given}")
    return given


def _run_degradation(args: argparse.Namespace) -> int:
    from ..core.errors import ConfigError
    from ..core.train.config import TrainConfig

    given = [k for k in _NEW_ONLY if getattr(args, k) is not None]
    if args.resume:
        if given:
            raise ConfigError(
                "--resume continues an experiment with its own settings; drop "
                + ", ".join("--" + k.replace("_", "-") for k in given)
            )
        out = Path(args.resume)
    else:
        for key, default in _NEW_ONLY.items():
            if getattr(args, key) is None:
                setattr(args, key, default)
        depths = parse_depths(args.depths)  # unknown depths fail here, before any training
        base = TrainConfig(
            data=args.data,
            data_root=args.data_root,
            iters=args.iters,
            batch_size=args.batch_size,
            lr=args.lr,
            warmup=args.warmup,
            device=args.device,
            seed=args.seed,
            schedule=args.schedule,
            **({} if args.eval_subset is None else {"eval_subset": args.eval_subset}),
            eval_every=max(1, args.iters // 10),
            # Periodic, as in `resviz train`: it was only at the end, so a SIGKILL lost every
            # net's training (issue #17).
            checkpoint_every=_checkpoint_every(args.checkpoint_every, args.iters),
        )
        out = Path(args.out)
        from ..core.experiment import degradation_plan

        degradation_plan(base, depths, args.seeds)  # a bad --seeds fails now, before any data loads
    from ..core.experiment import resume_degradation, run_degradation  # torch loads here

    groups = []

    def on_group(group) -> None:
        show_group_progress(group)
        groups.append(group)

    def on_sigint(signum, frame):  # first Ctrl+C: stop every net cleanly; second: abort
        print("\nstopping every net after its current step (Ctrl+C again to abort) ...", file=sys.stderr)
        for group in groups:
            group.control.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        if args.resume:
            summary = resume_degradation(out, on_group=on_group)
        else:
            summary = run_degradation(out, base, depths, force=args.force, on_group=on_group, seeds=args.seeds)
    finally:
        signal.signal(signal.SIGINT, previous)
    print((out / "summary.md").read_text(), end="")
    print(f"figure: {out}/report.png", file=sys.stderr)
    if not summary["complete"] and any(r["status"] == "stopped" for r in summary["runs"]):
        print(
            f"continue with: {shell_command('resviz', 'experiment', 'degradation', '--resume', out)}", file=sys.stderr
        )
    return 0 if summary["complete"] else 1


def show_group_progress(group) -> None:
    """One progress line per net, and where they train."""
    from .progress import GroupProgress

    trainers = group.trainers
    progress = GroupProgress(
        [t.config.label for t in trainers],
        [t.config.iters for t in trainers],
        trainers[0].config.batch_size,
        start_steps=group.steps,
    )
    for i, trainer in enumerate(trainers):
        trainer.sinks.append(progress.sink(i))
    print(
        f"{', '.join(group.names)} together on {group.dataset.describe()}; device {trainers[0].versions()['device']}",
        file=sys.stderr,
    )
    from ..core.train.schedule import describe_schedule

    cfg = trainers[0].config
    subset = (
        f"a fixed {cfg.eval_subset:,}-image subset of the test split" if cfg.eval_subset else "the whole test split"
    )
    print(f"schedule: {describe_schedule(cfg)}; test error on {subset}, the whole split at the end", file=sys.stderr)
    for trainer in trainers:
        for note in trainer.notes:
            print(f"note: {trainer.config.label}: {note}", file=sys.stderr)
