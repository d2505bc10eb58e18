"""Where the app's runs come from: a trainer in a background thread, or a folder on disk.

Both expose ``poll() -> list[Record | Event | StatusChange]`` (a worker: one list per net
of its group) and never block, so the session's timer treats them alike. The training thread never waits on the GUI and the
GUI never gets a signal per step (DESIGN.md, hot path): the trainer appends to a
:class:`~resviz.core.train.control.QueueSink` and the timer drains it.

Only import this module's classes' dependencies after the engine has loaded: they
import torch (through ``resviz.core.train.trainer``) lazily, inside the methods.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..core.errors import ResvizError
from ..core.records import Event, Record, StatusChange
from ..core.train.config import TrainConfig

__all__ = ["TrainWorker", "RunFollower", "worker_threads"]

log = logging.getLogger(__name__)

Item = Record | Event | StatusChange


def worker_threads(cpus: int | None = None, preference: int | None = None) -> int | None:
    """Torch threads for a training run in the app (None: torch's default); the one rule.

    ``preference`` is the user's choice in Preferences (0 or None: "auto"). Auto leaves
    the GUI a core on small machines. On the project's 2-core machine, shared with other
    work, benchmarks/gui_latency.py (resnet20 on digits, the worker niced, two ABAB rounds
    of 15 s, load 2.5-3) gave 1,001 and 1,043 images/s with one thread, and 114 and 1,886
    with two: 1.8x when both cores happen to be free, 9x slower when another process takes
    one, since every OpenMP region then waits for the descheduled thread. Every case met
    the latency targets (longest gap 16-36 ms, p99 12-20 ms). One thread is the steady
    choice; a user whose cores are their own can pick two in Preferences. With more cores
    one spare core costs little, so keep one free up to 8 cores and leave torch's default
    above.
    """
    if preference:
        return max(1, int(preference))
    if cpus is None and os.environ.get("OMP_NUM_THREADS"):
        return None  # the user (or a test run) chose torch's threads already: torch honours it
    if cpus is None:
        from ..core.cores import usable_cores

        cpus = usable_cores()
    if cpus > 8:
        return None
    return max(1, cpus - 1)


class TrainWorker:
    """Trains the nets of one job together, as a lockstep group, in one daemon thread.

    A comparison (plain and residual) and the degradation experiment are one job: their
    nets advance one step each in turn, so their curves grow together (issue #11); a job
    of one net is a group of one. Each net has its own :class:`QueueSink` (``poll(i)``)
    and :class:`TrainControl` (``controls[i]``); :attr:`control` steers the whole group.
    """

    def __init__(self, configs: Sequence[TrainConfig], run_dirs: Sequence[Path], *, resume: bool = False) -> None:
        from ..core.train.control import GroupControl, QueueSink, TrainControl

        self.configs = list(configs)
        self.run_dirs = [Path(d) for d in run_dirs]
        self.resume = resume
        n = len(self.run_dirs)
        self.controls = [TrainControl() for _ in range(n)]
        self.control = GroupControl(self.controls)
        self.sinks = [QueueSink() for _ in range(n)]
        #: Set by the thread once the group is built (read by the GUI thread): per net.
        self.layouts: list[dict[str, list[Any]] | None] = [None] * n
        self.devices: list[str | None] = [None] * n
        #: What each trainer had to give up to start (see Trainer.notes); set with ``layouts``.
        self.notes: list[list[str]] = [[] for _ in range(n)]
        #: A message when the job could not start or ended in an error.
        self.failure: str | None = None
        self.final_statuses: list[str | None] = [None] * n
        self._group = None
        name = "+".join(d.name for d in self.run_dirs)
        self._thread = threading.Thread(target=self._main, name=f"resviz-train-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end; True if it has."""
        if self._thread.ident is not None:
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def poll(self, index: int = 0) -> list[Item]:
        """Everything net ``index`` emitted since the last call; never blocks."""
        return self.sinks[index].drain()

    def _main(self) -> None:
        from ..core.device import describe_device
        from ..core.train.group import LockstepGroup

        _lower_thread_priority()
        sinks = [[sink] for sink in self.sinks]
        try:
            if self.resume:
                group = LockstepGroup.resume(self.run_dirs, sinks=sinks, controls=self.controls)
            else:
                group = LockstepGroup(self.configs, run_dirs=self.run_dirs, sinks=sinks, controls=self.controls)
            self._group = group
            for i, trainer in enumerate(group.trainers):
                self.notes[i] = list(trainer.notes)
                self.devices[i] = describe_device(trainer.device)
                self.layouts[i] = trainer.layout
            self.final_statuses = list(group.run())
        except ResvizError as exc:  # bad data path, existing folder ...: the user can fix it
            self._failed(str(exc))
        except Exception as exc:  # a bug: keep the app alive, log the traceback, tell the user
            log.error("training thread failed:\n%s", traceback.format_exc())
            self._failed(f"{type(exc).__name__}: {exc}")

    def _failed(self, reason: str) -> None:
        """The job ended in an error: every net that had not ended fails with it (the
        others keep their own ending: a group stops its other nets cleanly)."""
        self.failure = reason
        trainers = self._group.trainers if self._group is not None else [None] * len(self.sinks)
        for i, trainer in enumerate(trainers):
            if trainer is not None and trainer.ended:
                self.final_statuses[i] = trainer.status
            else:
                self.final_statuses[i] = "failed"
                self.sinks[i].status(StatusChange("failed", reason))


#: Niceness of the training thread: below the GUI thread, so painting wins the CPU when
#: both want it (DESIGN.md: "leave the GUI a core or lower the worker's priority").
WORKER_NICENESS = 10


def _lower_thread_priority() -> None:
    """Make the calling thread (and the OpenMP threads it starts) yield to the GUI thread.

    Linux schedules threads individually, so ``setpriority`` on this thread's id lowers
    only the worker; elsewhere a thread id is not a process id, so nothing is done.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICENESS)
    except OSError as exc:  # a sandbox may forbid it: training just runs at normal priority
        log.info("could not lower the training thread's priority: %s", exc)


class RunFollower:
    """Follows a run folder that another process may still be writing (``resviz train``)."""

    def __init__(self, run_dir: Path) -> None:
        from ..core.runs import RunReader

        self.reader = RunReader(run_dir)
        self.config: dict[str, Any] = dict(self.reader.config)
        self.layout: dict[str, list[Any]] = dict(self.reader.layout)
        self._last_status: tuple[str, str | None] | None = None

    def poll(self) -> list[Item]:
        """Records and events committed since the last call, then the status if it changed."""
        records, events = self.reader.poll()
        items: list[Item] = [*records, *events]
        status = self.reader.status()
        key = (status.status, status.reason)
        if key != self._last_status:
            self._last_status = key
            items.append(status)
        return items

    def close(self) -> None:
        self.reader.close()
