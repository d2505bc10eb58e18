"""``resviz experiment imagenet``: the paper's ImageNet section (4.1): Fig. 4, Table 2, claims.

Under ``torchrun`` every rank runs this; each net in turn trains on all ranks, and rank 0
writes the run folders, prints, and writes the report. The cost is measured and said first
(``--estimate`` stops there; over an hour needs ``--yes``, as ``experiment paper``).
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

__all__ = ["run_imagenet_experiment"]

#: Options that make a new experiment (a resumed one keeps its plan).
_NEW_ONLY = ("data", "depths", "iters", "batch_size", "size", "device", "seed", "threads", "force")


def _plan(args: argparse.Namespace):
    from ..core.errors import ConfigError
    from ..core.paper.imagenet import ImageNetPlan

    if not args.data:
        raise ConfigError("the imagenet experiment needs --data: a folder with train/ and test/ class subfolders")
    try:
        depths = tuple(int(p) for p in str(args.depths or "18,34").replace(" ", "").split(",") if p)
    except ValueError:
        raise ConfigError(f"--depths takes 18 and/or 34 separated by commas, not {args.depths!r}") from None
    return ImageNetPlan(
        data=args.data,
        depths=depths,
        iters=args.iters,
        batch_size=args.batch_size or 256,
        image_size=args.size or 224,
        workers=args.workers,
        device=args.device or "auto",
        seed=args.seed or 0,
        threads=args.threads,
    )


def run_imagenet_experiment(args: argparse.Namespace) -> int:
    from ..core.errors import ConfigError

    if bool(args.out) == bool(args.resume):
        raise ConfigError("give either --out DIR for a new imagenet experiment or --resume DIR to continue one")
    folder = Path(args.resume or args.out)
    if args.resume:
        given = ["--" + k.replace("_", "-") for k in _NEW_ONLY if getattr(args, k, None) not in (None, False)]
        if given:
            raise ConfigError(f"--resume continues the experiment with its own plan; drop {', '.join(given)}")
        from ..core.paper.imagenet import ImageNetPlan

        plan = ImageNetPlan.read(folder)
    else:
        plan = _plan(args)
    from ..core.data import load_dataset  # torch loads here
    from ..core.paper.imagenet import IMAGENET_PLAN_FILE, estimate, run_imagenet
    from ..core.paper.imagenet_report import collect_results, write_imagenet_report
    from ..core.train.control import TrainControl
    from ..core.train.distributed import init_distributed, shutdown_distributed
    from ._paper import confirm_long_job

    dist = init_distributed(plan.device)
    main = dist.is_main
    err = sys.stderr
    if args.out and main:
        if folder.exists() and any(folder.iterdir()) and not args.force:
            raise ConfigError(f"{folder} is not empty: choose a new --out, --resume it, or add --force")
        folder.mkdir(parents=True, exist_ok=True)
        if args.force:  # --force replaces this experiment's own run folders, nothing else
            import shutil

            from ..core.runs.reader import is_run_folder

            for name in (f"{k}{d}" for d in plan.depths for k in ("plain", "resnet")):
                if is_run_folder(folder / name):
                    shutil.rmtree(folder / name)
        from ..core.outputs import write_text_atomic

        write_text_atomic(folder / IMAGENET_PLAN_FILE, plan.to_json())
    dataset = load_dataset(plan.data, size=plan.image_size, recipe="imagenet", stream=True, workers=plan.workers)
    nets = plan.configs(len(dataset.train))
    if main:
        print(f"imagenet experiment: {dataset.describe()}; {dist.world_size} rank(s)", file=err)
        for note in dataset.notes:
            print(f"note: {note}", file=err)
        print(f"to train, in turn: {', '.join(n for n, _ in nets)}; {nets[0][1].iters:,} iterations each", file=err)
    est = estimate(plan, dataset, nets, world_size=dist.world_size)
    if main:
        for line in est.lines():
            print(line, file=err)
    if args.estimate:
        shutdown_distributed(dist)
        return 0
    confirm_long_job(est, yes=args.yes)
    control = TrainControl()

    def on_sigint(signum, frame):
        print("\nstopping after this step (Ctrl+C again to abort) ...", file=err)
        control.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        statuses = run_imagenet(
            folder,
            nets,
            dataset,
            dist=dist,
            time_limit=args.time_limit,
            control=control,
            on_trainer=(lambda name, t: print(f"training {name} ...", file=err)) if main else None,
        )
    finally:
        signal.signal(signal.SIGINT, previous)
    shutdown_distributed(dist)
    if not main:
        return 0
    results = collect_results(folder, [n for n, _ in nets], workers=plan.workers)
    written = write_imagenet_report(folder, results, plan.depths, len(dataset.train), plan.batch_size)
    print((folder / "table2.md").read_text())
    print((folder / "claims.md").read_text(), end="")
    print("files: " + ", ".join(str(p) for p in written), file=err)
    if any(statuses.get(n) != "finished" for n, _ in nets):
        print(f"not every net finished: continue with `resviz experiment imagenet --resume {folder}`", file=err)
        return 1
    return 0
