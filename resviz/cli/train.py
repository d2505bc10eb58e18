"""``resviz train``: train one net with the paper's recipe, headless, into a run folder."""

from __future__ import annotations

import argparse
import signal
import sys
import time

from ..core.durations import format_duration
from ..core.shell import shell_command
from ._numbers import finite_float
from .progress import ProgressSink


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a net into a run folder (the app can follow it live)",
        description=(
            "Train a ResNet or plain net with the paper's recipe (SGD, momentum 0.9, weight decay "
            "1e-4, batch 128, lr 0.1 divided by 10 at 50%% and 75%% of the iterations). Metrics go "
            "to RUN_DIR/metrics.sqlite; checkpoints to RUN_DIR/checkpoints. Ctrl+C stops cleanly "
            "(a final checkpoint is written; continue with --resume)."
        ),
    )
    p.add_argument("--arch", help="architecture, e.g. resnet20, plain56, resnet8 (default resnet20)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--plain", action="store_true", help="switch every shortcut off (the paper's plain net)")
    g.add_argument(
        "--shortcut", choices=("A", "B", "C"), type=str.upper, help="shortcut option (default A for CIFAR nets)"
    )
    p.add_argument("--data", help="digits (default), cifar10, or a folder with train/ and test/")
    p.add_argument("--data-root", help="where cifar10 lives (default: resviz's cache folder)")
    p.add_argument("--download", action="store_true", help="allow downloading cifar10")
    p.add_argument("--size", type=int, dest="image_size", help="image side for digits/folders (default 16 / 32)")
    p.add_argument("--iters", type=int, help="iterations (optimizer steps); default 64000 as in the paper")
    p.add_argument("--batch-size", type=int, help="mini-batch size (default 128)")
    p.add_argument("--lr", type=finite_float, help="initial learning rate (default 0.1)")
    p.add_argument("--momentum", type=finite_float, help="SGD momentum (default 0.9)")
    p.add_argument("--weight-decay", type=finite_float, help="weight decay (default 1e-4)")
    p.add_argument(
        "--warmup", action="store_true", help="lr 0.01 until training error < 80%% (the paper's ResNet-110 warm-up)"
    )
    p.add_argument("--device", help="auto (default: cuda, then mps, then cpu), cpu, cuda or mps")
    p.add_argument(
        "--bf16",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="bf16 autocast on CUDA (default on; ignored on other devices)",
    )
    p.add_argument(
        "--channels-last",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="channels-last (NHWC) activations (default on: faster on CUDA and on this CPU)",
    )
    p.add_argument(
        "--compile",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="torch.compile the training step, with CUDA graphs on CUDA (default: on for CUDA; on "
        "the CPU only for runs of 5M images or more, where a first compile of minutes pays)",
    )
    p.add_argument(
        "--recipe",
        choices=("cifar", "imagenet"),
        help="cifar (section 4.2: pad-4 crops, images in memory) or imagenet (section 3.4: shorter side in "
        "[256, 480], 224 crops, flips, PCA lighting, batch 256, lr /10 at epochs 30 and 60 of 90, streamed); "
        "default imagenet for resnet18..152 and plain18/34 on a folder, else cifar",
    )
    p.add_argument(
        "--stream",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="decode a folder per batch from disk (--stream) or hold it decoded in memory (--no-stream); "
        "default: stream when the decoded folder would take more than a quarter of the available memory",
    )
    p.add_argument("--workers", type=int, help="DataLoader worker processes that decode a streamed folder")
    p.add_argument("--eval-every", type=int, help="test error every N iterations (default 500, and at the end)")
    p.add_argument("--telemetry-every", type=int, help="record telemetry every N iterations (default 10)")
    p.add_argument("--checkpoint-every", type=int, help="checkpoint every N iterations (default 1000, and at the end)")
    p.add_argument("--seed", type=int, help="random seed (default 0)")
    p.add_argument("--threads", type=int, help="CPU threads for torch")
    p.add_argument("--out", metavar="RUN_DIR", help="the run folder to create")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue a stopped or killed run from its last checkpoint")
    p.add_argument("--force", action="store_true", help="replace an existing run in --out")
    p.add_argument("--quiet", action="store_true", help="no progress bar, only the summary")
    p.set_defaults(run=run)


_CONFIG_KEYS = (
    "arch",
    "shortcut",
    "data",
    "data_root",
    "download",
    "image_size",
    "iters",
    "batch_size",
    "lr",
    "momentum",
    "weight_decay",
    "warmup",
    "device",
    "eval_every",
    "telemetry_every",
    "checkpoint_every",
    "seed",
    "threads",
    "recipe",
    "workers",
)
#: On/off options (--x / --no-x) whose default is None: False is given, too.
_SWITCHES = ("bf16", "channels_last", "stream")


def _given(value) -> bool:
    """Set on the command line: not None and not an unset flag (0 and 0.0 count as given)."""
    return value is not None and value is not False


def config_from_args(args: argparse.Namespace):
    """A TrainConfig from the options given (unset ones keep the paper's defaults)."""
    from ..core.train.config import TrainConfig

    values = {k: v for k in _CONFIG_KEYS if _given(v := getattr(args, k, None))}
    values.update({k: v for k in _SWITCHES if (v := getattr(args, k, None)) is not None})
    if getattr(args, "compile", None) is not None:
        values["compile"] = "on" if args.compile else "off"
    if args.plain:
        values["plain"] = True
    return with_recipe(TrainConfig(**values), values)


def with_recipe(config, given: dict):
    """``config`` with the ImageNet recipe's settings (batch 256, 90 epochs of this folder, lr
    /10 at epochs 30 and 60, 224 px; data.recipes) where it trains with that recipe and the
    user did not set them (issue #22)."""
    from dataclasses import replace

    if config.recipe_name != "imagenet":
        return config
    from ..core.data.recipes import recipe_train_settings
    from ..core.data.streamset import count_images

    settings = recipe_train_settings("imagenet", count_images(config.data, ("train",)))
    if "iters" in given:  # the milestones stay at epochs 30 and 60 of 90: a third and two thirds of --iters
        settings.pop("iters")
    return replace(config, **{k: v for k, v in settings.items() if k not in given})


def run(args: argparse.Namespace) -> int:
    from ..core.errors import ConfigError
    from ..core.train.config import TrainConfig

    if bool(args.out) == bool(args.resume):
        raise ConfigError("give either --out RUN_DIR for a new run or --resume RUN_DIR to continue one")
    if args.resume:
        _resume_conflicts(args)
    else:
        config_from_args(args)  # validate the numbers before importing torch (fast errors)
    from ..core.train import TrainControl, Trainer  # torch loads here
    from ..core.train.distributed import init_distributed, shutdown_distributed

    # Under torchrun (WORLD_SIZE > 1 in the environment) this joins the process group.
    dist = init_distributed(args.device or "auto")
    control = TrainControl()
    if args.resume:
        trainer = Trainer.resume(args.resume, control=control, dist=dist)
    else:
        trainer = Trainer(config_from_args(args), run_dir=args.out, control=control, force=args.force, dist=dist)
    cfg: TrainConfig = trainer.config
    label = cfg.label
    if dist.distributed:
        label += f" x{dist.world_size} ranks"
    progress = ProgressSink(cfg.iters, cfg.batch_size, label, start_step=trainer.step)
    if not args.quiet and dist.is_main:
        trainer.sinks.append(progress)
        print(
            f"{label} on {trainer.dataset.describe()}; device {trainer.versions()['device']}; run {trainer.run_dir}",
            file=sys.stderr,
        )
        for note in trainer.dataset.notes:
            print(f"note: {note}", file=sys.stderr)
    if dist.is_main:  # even with --quiet: what a resume had to give up is never silent (issue #9)
        for note in trainer.notes:
            print(f"note: {note}", file=sys.stderr)

    signalled: list[int] = []  # the signal that stopped the run: its exit status says so

    def _on_sigint(signum, frame):  # first Ctrl+C: stop cleanly; second: abort
        print("\nstopping after this step (Ctrl+C again to abort) ...", file=sys.stderr)
        signalled.append(signal.SIGINT)
        control.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def _on_sigterm(signum, frame):  # torchrun's way to stop
        signalled.append(signal.SIGTERM)
        control.stop()

    previous = signal.signal(signal.SIGINT, _on_sigint)
    previous_term = signal.signal(signal.SIGTERM, _on_sigterm)
    started = time.monotonic()
    try:
        status = trainer.run()
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, previous_term)
    trainer.release_distributed()
    shutdown_distributed(dist)
    if dist.is_main:
        _summary(trainer, status, time.monotonic() - started, progress)
    if status == "stopped" and signalled:
        # 128 + the signal, as a shell reports a command it interrupted (130 for Ctrl+C): a
        # script that trains and then evaluates must not take a stopped run as done (issue #17).
        return 128 + int(signalled[0])
    return {"finished": 0, "stopped": 0}.get(status, 1)


def _resume_conflicts(args: argparse.Namespace) -> None:
    from ..core.errors import ConfigError

    given = [k for k in _CONFIG_KEYS if _given(getattr(args, k, None))]
    # A switch named as it was typed: "drop --no-bf16", not "drop --bf16".
    given += [
        ("" if getattr(args, k) else "no-") + k for k in (*_SWITCHES, "compile") if getattr(args, k, None) is not None
    ]
    given += (["plain"] if args.plain else []) + (["force"] if args.force else [])
    if given:
        raise ConfigError(
            "--resume continues a run with its own settings; drop "
            + ", ".join("--" + k.replace("_", "-") for k in given)
        )


def _summary(trainer, status: str, seconds: float, progress: ProgressSink) -> None:
    from ..core.runs.history import load_history

    out = sys.stdout
    where = trainer.run_dir
    if status == "failed":
        print(f"resviz: error: training failed at step {trainer.step}: {trainer.reason}", file=sys.stderr)
        print(f"run folder: {where}", file=sys.stderr)
        return
    history = load_history(where) if where else None
    errs = history.final_errors() if history is not None else {}
    parts = [
        f"{status} {trainer.step}/{trainer.config.iters} iterations of {trainer.config.label}"
        f" on {trainer.dataset.name} in {format_duration(seconds)}"
    ]
    if errs.get("train_error") is not None:
        parts.append(f"training error {errs['train_error']:.2f}%")
    if errs.get("test_error") is not None:
        measured = history.scalar("test_error")[0]
        # The test error is measured every --eval-every steps: a run stopped between two
        # says from which step the shown one is (issue #17: step 80 shown for a stop at 94).
        at = int(measured[-1]) if len(measured) else trainer.step
        parts.append(
            f"test error {errs['test_error']:.2f}%" + (f" (measured at step {at})" if at != trainer.step else "")
        )
    print(", ".join(parts), file=out)
    step = trainer.train_step
    if step.compiled:
        graphs = "CUDA graphs" if step.cuda_graphs else "no CUDA graphs"
        print(f"compiled the step in {step.compile_seconds:.1f} s ({graphs}; not counted in images/s)", file=out)
    print(f"run folder: {where}", file=out)
    if status == "stopped":
        print(f"continue with: {shell_command('resviz', 'train', '--resume', where)}", file=out)
