"""``resviz experiment paper``: the CIFAR-10 section of the paper, its cost said first.

The rule for long jobs (issue #12): the estimate is printed before anything trains; one
over :data:`~resviz.core.limits.LONG_JOB_SECONDS` (an hour) starts only with ``--yes``, or
after a "y" at the prompt when standard input is a terminal. Anywhere else (a script, a
test, a pipe) it is refused with the estimate and a smaller ``--iters`` that fits, never
left waiting for an answer no one will type.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from ..core.durations import format_duration, format_long_duration
from ..core.shell import shell_command

__all__ = ["confirm_long_job", "run_paper"]


#: The options that make a new experiment (a resumed one keeps its plan).
_NEW_ONLY = (
    "data",
    "data_root",
    "download",
    "depths",
    "plain_depths",
    "iters",
    "batch_size",
    "device",
    "seed",
    "seeds",
    "threads",
    "schedule",
    "eval_subset",
    "force",
)


def _plan(args: argparse.Namespace):
    from ..core.paper.plan import PAPER_DEPTHS, PAPER_PLAIN_DEPTHS, PaperPlan, check_seeds

    def given(name, default):
        value = getattr(args, name)
        return default if value is None else value

    return PaperPlan(
        data=given("data", "cifar10"),
        data_root=args.data_root,
        download=bool(args.download),
        depths=given("depths", PAPER_DEPTHS),
        plain_depths=given("plain_depths", PAPER_PLAIN_DEPTHS),
        iters=given("iters", 64_000),
        device=given("device", "auto"),
        seed=given("seed", 0),
        seeds=check_seeds(given("seeds", 1), "--seeds"),
        batch_size=given("batch_size", 128),
        threads=args.threads,
        schedule=given("schedule", "auto"),
        **({} if args.eval_subset is None else {"eval_subset": args.eval_subset}),
    )


def _stdin_is_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def confirm_long_job(estimate, *, yes: bool) -> None:
    """Go ahead, ask, or refuse (ConfigError) by the rule of this module's docstring."""
    from ..core.errors import ConfigError
    from ..core.limits import LONG_JOB_SECONDS

    if not estimate.long or yes:
        return
    took = f"about {format_long_duration(estimate.seconds)} on {estimate.device}"
    if _stdin_is_terminal():
        answer = input(f"This takes {took}. Start it? [y/N] ")
        if answer.strip().lower() in ("y", "yes"):
            return
        raise ConfigError("not started")
    offer = ""
    if estimate.suggestion is not None:
        options, seconds = estimate.suggestion
        offer = f", or a smaller budget: {options} takes about {format_duration(seconds)}"
    raise ConfigError(
        f"the experiment would take {took}, more than {format_duration(LONG_JOB_SECONDS)}: "
        f"add --yes to start it anyway{offer}"
    )


def run_paper(args: argparse.Namespace) -> int:
    from ..core.errors import ConfigError

    if bool(args.out) == bool(args.resume):
        raise ConfigError("give either --out DIR for a new paper experiment or --resume DIR to continue one")
    if args.resume:
        given = ["--" + k.replace("_", "-") for k in _NEW_ONLY if getattr(args, k) not in (None, False)]
        if given:
            raise ConfigError(f"--resume continues the experiment with its own plan; drop {', '.join(given)}")
        plan = None
    else:
        plan = _plan(args)  # bad depths or numbers fail here, before torch loads
    from ..core.paper.run import PaperExperiment  # torch loads here
    from ..core.train.control import TrainControl
    from .experiment import show_group_progress  # one line per net of the group

    folder = Path(args.resume or args.out)
    exp = PaperExperiment(folder, plan, resume=bool(args.resume), force=bool(args.force))
    err = sys.stderr
    if exp.finished:
        print(f"already finished, left as they are: {', '.join(exp.finished)}", file=err)
    exp.load_data()
    print(f"paper experiment: {exp.dataset.describe()}", file=err)
    print(f"budget: {exp.plan.budget()}", file=err)  # which learning-rate schedule runs (issue #18)
    for note in exp.notes:
        print(f"note: {note}", file=err)
    if exp.members:
        groups = exp.groups()
        print(
            f"to train: {', '.join(m.name + (' (resumed)' if m.resume else '') for m in exp.members)}, "
            f"in {len(groups)} lockstep group(s): " + "; ".join(" + ".join(m.name for m in g) for g in groups),
            file=err,
        )
        estimate = exp.estimate(on_progress=lambda line: print(line, file=err))
        for line in estimate.lines():
            print(line, file=err)
        if args.estimate:
            return 0
        confirm_long_job(estimate, yes=args.yes)
    elif args.estimate:
        print("nothing left to train", file=err)
        return 0

    control = TrainControl()

    def on_sigint(signum, frame):  # first Ctrl+C: every net stops and checkpoints; second: abort
        print("\nstopping every net after this step (Ctrl+C again to abort) ...", file=err)
        control.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        report = exp.run(control=control, on_group=show_group_progress, time_limit=args.time_limit)
    finally:
        signal.signal(signal.SIGINT, previous)
    for note in report.notes:
        print(f"note: {note}", file=err)
    print((folder / "table6.md").read_text())
    print((folder / "claims.md").read_text(), end="")
    print("files: " + ", ".join(str(p) for p in report.written), file=err)
    if not report.complete:
        print(
            f"not every net finished: continue with `{shell_command('resviz', 'experiment', 'paper', '--resume', folder)}`",
            file=err,
        )
        return 1
    return 0
