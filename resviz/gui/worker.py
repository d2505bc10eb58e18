"""Where the app's runs come from: a trainer in a background thread, or a folder on disk.

Both expose ``poll() -> list[Record | Event | StatusChange]`` and never block, so the
session's timer treats them alike. The training thread never waits on the GUI and the
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
from pathlib import Path
from typing import Any

from ..core.errors import ResvizError
from ..core.train.config import TrainConfig
from ..core.records import Event, Record, StatusChange

__all__ = ["TrainWorker", "RunFollower", "worker_threads"]

log = logging.getLogger(__name__)

Item = Record | Event | StatusChange


def worker_threads(cpus: int | None = None) -> int | None:
    """Torch threads for a training run in the app: leave the GUI a core on small machines.

    On the project's 2-core machine, shared with other work, two OpenMP threads are both
    slower and worse for the GUI: whenever another process takes one core, every parallel
    region waits for the descheduled thread (benchmarks/gui_latency.py, resnet20 on digits
    under load: ~75 images/s with 2 threads against ~1,600 with 1). With more cores the
    cost of one spare core is small, so keep one free up to 8 cores and leave torch's
    default above.
    """
    cpus = cpus or os.cpu_count() or 1
    if cpus > 8:
        return None
    return max(1, cpus - 1)


class TrainWorker:
    """Runs one :class:`~resviz.core.train.Trainer` (new or resumed) in a daemon thread."""

    def __init__(self, config: TrainConfig, run_dir: Path, *, resume: bool = False) -> None:
        from ..core.train.control import QueueSink, TrainControl

        self.config = config
        self.run_dir = Path(run_dir)
        self.resume = resume
        self.control = TrainControl()
        self.sink = QueueSink()
        #: Set by the thread once the trainer is built (read by the GUI thread).
        self.layout: dict[str, list[Any]] | None = None
        self.device: str | None = None
        #: What the trainer had to give up to start (see Trainer.notes); set with ``layout``.
        self.notes: list[str] = []
        #: A message when the run could not start or ended in an error.
        self.failure: str | None = None
        self.final_status: str | None = None
        self._thread = threading.Thread(target=self._main, name=f"resviz-train-{self.run_dir.name}", daemon=True)

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

    def poll(self) -> list[Item]:
        """Everything the trainer emitted since the last call; never blocks."""
        return self.sink.drain()

    def _main(self) -> None:
        from ..core.device import describe_device
        from ..core.train.trainer import Trainer

        _lower_thread_priority()
        try:
            if self.resume:
                trainer = Trainer.resume(self.run_dir, sinks=[self.sink], control=self.control)
            else:
                trainer = Trainer(self.config, run_dir=self.run_dir, sinks=[self.sink], control=self.control)
            self.notes = list(trainer.notes)
            self.layout = trainer.layout
            self.device = describe_device(trainer.device)
            self.final_status = trainer.run()
        except ResvizError as exc:  # bad data path, existing folder ...: the user can fix it
            self._failed(str(exc))
        except Exception as exc:  # a bug: keep the app alive, log the traceback, tell the user
            log.error("training thread failed:\n%s", traceback.format_exc())
            self._failed(f"{type(exc).__name__}: {exc}")

    def _failed(self, reason: str) -> None:
        self.failure = reason
        self.final_status = "failed"
        self.sink.status(StatusChange("failed", reason))


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
