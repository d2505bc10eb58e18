"""Training the paper experiment: its nets in lockstep groups, new or resumed, then the files.

:class:`PaperExperiment` does it in the order a careful person would: refuse what cannot
work before anything is loaded (outputs that cannot be written, run folders that are not
free, a ``--resume`` of something that is not an experiment), load the data once for
every net, measure the cost (:mod:`.cost`) so the caller can say it and ask, then train
the groups of :meth:`~.plan.PaperPlan.groups` and write the report (:mod:`.report`).
A resumed experiment trains only what is unfinished: a finished net's folder is not
touched (not even reopened for writing), a stopped or failed one continues from its
newest checkpoint, a missing one starts.

How a group trains is a :class:`GroupRunner`: :func:`lockstep_group` (the default) makes
it a :class:`~resviz.core.train.group.LockstepGroup` (issue #11), which advances its nets
step by step together, so a group's nets are always at the same iteration and a stop (Ctrl+C,
``--time-limit``) leaves them all at one step, where their claims can still be judged.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..errors import ConfigError, RunError
from ..runs.files import checkpoint_step
from ..runs.reader import RunReader, is_run_folder
from ..runs.store import RunStore
from ..runs.writer import refuse_live_writer
from ..train.config import TrainConfig
from ..train.control import TrainControl
from .agreement import disagreement
from .cost import CostEstimate, DataShape, estimate_cost, measure_speeds, shape_of
from .plan import PLAN_FILE, PaperPlan
from .report import (
    PaperReport,
    check_report_outputs,
    read_plan,
    write_paper_report,
    write_plan,
)

__all__ = ["GroupRunner", "Member", "PaperExperiment", "lockstep_group"]


@dataclass
class Member:
    """One net of a group: where it lives, how it is set up, whether it continues."""

    name: str
    run_dir: Path
    config: TrainConfig
    resume: bool = False
    done: int = 0  # iterations already trained (a resumed net)

    @property
    def remaining(self) -> int:
        return max(0, self.config.iters - self.done)


class GroupRunner(Protocol):
    """Trains the members of one group; returns each one's final status by name.

    ``on_group(group)`` is called with each :class:`~resviz.core.train.group.LockstepGroup`
    before it trains (to attach a progress display to its trainers).
    """

    def __call__(
        self,
        members: Sequence[Member],
        *,
        dataset,
        control: TrainControl,
        on_group: Callable[[object], None] | None,
    ) -> dict[str, str]: ...


def lockstep_group(
    members: Sequence[Member], *, dataset, control: TrainControl, on_group: Callable[[object], None] | None = None
) -> dict[str, str]:
    """The members as one :class:`~resviz.core.train.group.LockstepGroup`, every net steered by
    ``control`` (one stop reaches them all between two rounds).

    A group is built either new or resumed, so where a resumed experiment holds both in one
    group (a net whose folder was removed beside one that was interrupted), the resumed
    nets train together first, then the new ones.
    """
    from ..train.group import LockstepGroup

    statuses: dict[str, str] = {}
    resumed, new = [m for m in members if m.resume], [m for m in members if not m.resume]
    for part in (resumed, new):
        if not part or control.stop_requested:
            continue
        controls = [control] * len(part)
        if part is resumed:
            group = LockstepGroup.resume([m.run_dir for m in part], dataset=dataset, controls=controls)
        else:
            group = LockstepGroup(
                [m.config for m in part], run_dirs=[m.run_dir for m in part], dataset=dataset, controls=controls
            )
        if on_group:
            on_group(group)
        statuses.update(zip((m.name for m in part), group.run(), strict=False))
    return statuses


class PaperExperiment:
    """The experiment in ``out_dir``: a new one from ``plan``, or the one there (``resume``)."""

    def __init__(
        self, out_dir: str | Path, plan: PaperPlan | None = None, *, resume: bool = False, force: bool = False
    ) -> None:
        self.folder = Path(out_dir).expanduser()
        self.resume = resume
        self.notes: list[str] = []
        if resume:
            if not (self.folder / PLAN_FILE).is_file():
                raise RunError(
                    f"{self.folder} holds no {PLAN_FILE}: it is not a paper experiment to resume (start one with --out)"
                )
            self.plan, self.facts, _ = read_plan(self.folder)
        else:
            if plan is None:
                raise ConfigError("a new paper experiment needs a plan")
            if (self.folder / PLAN_FILE).exists() and not force:
                raise RunError(
                    f"{self.folder} already holds a paper experiment: continue it with --resume "
                    f"{self.folder}, or add --force to replace its runs"
                )
            self.plan, self.facts = plan.with_absolute_paths(), {}
        check_report_outputs(self.folder)  # before an hour of training, not after (issue #9)
        self.members, self.finished = self._members(force)
        self.dataset = None
        self.shape: DataShape | None = None

    def _members(self, force: bool) -> tuple[list[Member], list[str]]:
        members, finished = [], []
        for name, cfg in self.plan.nets():
            run_dir = self.folder / name
            if not self.resume:
                RunStore.check_new(run_dir, force=force)
                members.append(Member(name, run_dir, cfg))
                continue
            if not is_run_folder(run_dir):
                RunStore.check_new(run_dir)  # a stray file there is refused now
                members.append(Member(name, run_dir, cfg))
                continue
            refuse_live_writer(run_dir, "continue")  # now, not after the data and the estimate (issue #9)
            with RunReader(run_dir) as reader:
                status = reader.status().status
                steps = [checkpoint_step(p) or 0 for p in reader.checkpoints()]
                differs = disagreement(reader.config, cfg)
            if differs:
                raise RunError(
                    f"{run_dir} is not the net {PLAN_FILE} plans there: {differs}; move it out of "
                    f"{self.folder} (the net then starts again) or put the planned run back"
                )
            if status == "finished":
                finished.append(name)
            else:
                members.append(Member(name, run_dir, cfg, resume=True, done=max(steps, default=0)))
        return members, finished

    # -- before training ---------------------------------------------------------------

    def load_data(self):
        """Load the data set once for every net; returns it."""
        from ..data import load_dataset

        p = self.plan
        self.dataset = load_dataset(p.data, root=p.data_root, download=p.download)
        self.shape = shape_of(self.dataset)
        self.facts = {
            "test_images": self.shape.test,
            "classes": self.shape.classes,
            "describe": self.dataset.describe(),
        }
        self.notes += list(self.dataset.notes)
        return self.dataset

    def device_type(self) -> str:
        from ..device import resolve_device

        return resolve_device(self.plan.device).type

    def estimate(self, on_progress: Callable[[str], None] | None = None) -> CostEstimate:
        """Measure each depth still to train on the device, and estimate the wall time."""
        if self.shape is None:
            self.load_data()
        from ..device import describe_device, resolve_device

        todo = {m.name: m.remaining for m in self.members}
        depths = [m.config.depth for m in self.members] or [self.plan.depths[0]]
        speeds = measure_speeds(depths, self.shape, self.plan.base_config(), on_progress=on_progress)
        # The suggestion of a smaller budget needs every depth of the plan.
        speeds = measure_speeds(
            [cfg.depth for _, cfg in self.plan.nets()],
            self.shape,
            self.plan.base_config(),
            known=speeds,
            on_progress=on_progress,
        )
        return estimate_cost(
            self.plan, self.shape, speeds, device=describe_device(resolve_device(self.plan.device)), remaining=todo
        )

    def groups(self) -> list[list[Member]]:
        """The members still to train, in the plan's lockstep groups for this device."""
        by_name = {m.name: m for m in self.members}
        out = []
        for names in self.plan.groups(self.device_type()):
            group = [by_name[n] for n in names if n in by_name]
            if group:
                out.append(group)
        return out

    # -- training ----------------------------------------------------------------------

    def run(
        self,
        *,
        control: TrainControl | None = None,
        on_group: Callable[[object], None] | None = None,
        group_runner: GroupRunner = lockstep_group,
        time_limit: float | None = None,
    ) -> PaperReport:
        """Train every group (stopping them all at ``time_limit`` seconds), then write the files."""
        if self.dataset is None:
            self.load_data()
        self.folder.mkdir(parents=True, exist_ok=True)
        write_plan(self.folder, self.plan, self.facts)
        control = control or TrainControl()
        timer = threading.Timer(time_limit, control.stop) if time_limit else None
        if timer is not None:
            timer.daemon = True
            timer.start()
        try:
            for group in self.groups():
                if control.stop_requested:
                    break
                group_runner(group, dataset=self.dataset, control=control, on_group=on_group)
        finally:
            if timer is not None:
                timer.cancel()
        report = write_paper_report(self.folder)
        report.notes = self.notes + report.notes
        return report
