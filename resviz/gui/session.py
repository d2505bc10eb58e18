"""The app's training session: a queue of jobs, one training thread at a time, folders followed.

A job is a lockstep group (issue #11): one net, a comparison (plain and residual) or the
degradation experiment's nets, trained together step by step in one worker thread, so
their curves grow together in every panel. One job trains at a time (on a small machine
two threads would only share the same cores); a job started while one trains is queued.
One timer on the GUI thread (25 Hz) drains one queue per net into the
:class:`~resviz.gui.runs.Run` objects, which tell their views; folders opened from disk
are polled less often. Pause, stop and shortcut switches act on one net of the group or
on all of them (``run=None``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from PySide6 import QtCore

from ..core.errors import RunError
from ..core.runs.writer import live_writer
from ..core.train.config import TrainConfig
from .engine import EngineLoader
from .following import FollowingMixin
from .preferences import training_threads
from .runs import DONE_STATUSES, Run, RunsModel
from .worker import RunFollower, TrainWorker

__all__ = ["TrainingSession"]

log = logging.getLogger(__name__)


@dataclass
class _Job:
    """Runs to train together: new ones, or stopped ones to continue (``resume``)."""

    runs: list[Run]
    configs: list[TrainConfig]
    resume: bool = False
    folder: str | None = None  # a subfolder of the runs root holding the group's runs
    dir_names: list[str] | None = None  # the runs' folders in it, where a plan names them


class TrainingSession(FollowingMixin, QtCore.QObject):
    """Starts, steers and feeds runs; views learn everything through the runs' signals."""

    #: The active runs started, paused, resumed or ended (controls refresh their state).
    active_changed = QtCore.Signal()
    #: New data for the active runs (the status bar's progress line): the run it is about.
    progress = QtCore.Signal(object)
    #: One line of news for the status bar.
    message = QtCore.Signal(str)
    #: Something went wrong that the user must read: (title, message with what to do).
    error = QtCore.Signal(str, str)

    TICK_MS = 40  # 25 Hz: curves look live, the event loop stays nearly idle
    FOLLOW_EVERY = 10  # poll opened folders every 10 ticks (2.5 Hz): SQLite reads cost more

    def __init__(
        self,
        runs: RunsModel,
        engine: EngineLoader,
        runs_root: Callable[[], Path],
        parent: QtCore.QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.runs = runs
        self.engine = engine
        self._runs_root = runs_root
        self._queue: list[_Job] = []
        self._worker: TrainWorker | None = None
        self._active: list[Run] = []
        self._followers: dict[Run, RunFollower] = {}
        #: (folder, group, experiment, peers) opened before the engine had loaded
        self._pending_folders: list[tuple[Path, str | None, str | None, list[Run] | None]] = []
        self._ticks = 0
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(self.TICK_MS)
        self._timer.timeout.connect(self._on_tick)
        self._timer.start()
        engine.ready.connect(self._on_engine_ready)
        runs.run_added.connect(self.load_listed)  # a run listed at launch, shown now: read it first

    # -- state -----------------------------------------------------------------------

    @property
    def active_runs(self) -> list[Run]:
        """The runs of the group training now (or starting, or paused)."""
        return list(self._active)

    @property
    def active(self) -> Run | None:
        """The training run the status bar speaks of: the selected one if it trains, else
        the first of the group still training; None when nothing trains."""
        if not self._active:
            return None
        live = [r for r in self._active if r.live] or self._active  # a net stopped alone is no focus
        current = self.runs.current
        return current if current in live else live[0]

    @property
    def queued(self) -> list[Run]:
        return [run for job in self._queue for run in job.runs]

    @property
    def busy(self) -> bool:
        return bool(self._active) or bool(self._queue)

    @property
    def paused(self) -> bool:
        """Every live run of the active group is paused."""
        live = [r for r in self._active if r.status not in DONE_STATUSES]
        return bool(live) and all(r.status == "paused" for r in live)

    # -- starting runs ---------------------------------------------------------------

    def enqueue(
        self,
        configs: list[TrainConfig],
        *,
        group: str | None = None,
        folder: str | None = None,
        names: list[str] | None = None,
    ) -> list[Run]:
        """Queue new runs, trained together as one lockstep group; returns their Run objects at once.

        The runs of a group are written into one folder under the runs root,
        ``<time>-<group>/<run name>`` (``<group>`` defaults to the runs' names joined),
        the layout ``resviz experiment`` uses; a single run gets ``<time>-<run name>``.
        ``folder`` puts them into a folder an earlier call made instead: the paper
        experiment's groups (one per depth on a CPU) share one experiment folder.
        ``names``: the runs' names in the experiment's plan (``resnet20-seed1``), which are
        then their folders too, where ``resviz report --paper`` looks for them.
        """
        for config in configs:
            config.validate()
        shown: list[str] = []
        for i, config in enumerate(configs):  # unique among the runs shown and among each other
            base = names[i] if names else config.label
            name, n = base, 2
            while name in shown or name in {r.name for r in (*self.runs, *self.runs.listed)}:
                name, n = f"{base} #{n}", n + 1
            shown.append(name)
        label = group or "-".join(name.replace(" #", "-") for name in shown)
        if folder is None and (len(configs) > 1 or group):
            folder = f"{time.strftime('%Y%m%d-%H%M%S')}-{label}"
        added: list[Run] = []
        for config, name in zip(configs, shown, strict=True):
            if config.threads is None:
                config = replace(config, threads=training_threads())
            run = Run(name, config=config.to_dict(), colour_index=self.runs.next_colour(), status="queued")
            run.group, run.experiment, run.peers = group, folder, added  # peers: filled as the loop goes
            self.runs.add(run, make_current=not added and not self._active)
            added.append(run)
        configs = [TrainConfig.from_dict(r.config) for r in added]
        self._queue.append(_Job(added, configs, folder=folder, dir_names=list(names) if names else None))
        if self._active and added:
            self.message.emit(f"queued {', '.join(r.name for r in added)} after {self._names(self._active)}")
        self._start_next()
        return added

    def continue_run(self, run: Run, *, group: bool = False) -> list[Run]:
        """Resume a stopped or failed run from its last checkpoint (same schedule); with
        ``group``, every stopped or failed run of its group, together in lockstep again.

        A folder another process may still write (a ``resviz train`` in a terminal, a job
        on another host) is refused here, before anything is queued: resuming it would
        rewrite its history, and failing later would show the live run as failed (issue #9).
        """
        runs = [r for r in run.peers if self.can_continue(r)] if group else [run]
        if run not in runs:
            runs.insert(0, run)
        for r in runs:
            if r.run_dir is not None and r not in self._active and r not in self.queued:
                writer = live_writer(r.run_dir)
                if writer is not None:
                    raise RunError(f"cannot continue {r.name}: {writer}")
            if r.live or r.run_dir is None:
                raise RunError(f"{r.name} is still running; stop it before continuing it")
        for r in runs:
            self._unfollow(r)
            r.set_status("queued")
        self._queue.append(_Job(runs, [TrainConfig.from_dict(r.config) for r in runs], resume=True))
        self._start_next()
        return runs

    def can_continue(self, run: Run) -> bool:
        """A stopped or failed run with a folder, not training or queued here."""
        return (
            run.run_dir is not None
            and run.status in ("stopped", "failed")
            and run not in self._active
            and run not in self.queued
        )

    def _unique_name(self, name: str) -> str:
        taken = {r.name for r in (*self.runs, *self.runs.listed)}
        if name not in taken:
            return name
        n = 2
        while f"{name} #{n}" in taken:
            n += 1
        return f"{name} #{n}"

    def _new_run_dir(self, run: Run, folder: str | None, planned: str | None = None) -> Path:
        root = self._runs_root()
        name = planned if planned and folder else run.name.replace(" #", "-")
        if folder:
            root, base = root / folder, name
        else:
            base = f"{time.strftime('%Y%m%d-%H%M%S')}-{name}"
        path, n = root / base, 2
        while path.exists():
            path, n = root / f"{base}-{n}", n + 1
        return path

    def _start_next(self) -> None:
        if self._active or not self._queue or not self.engine.is_ready:
            return
        job = self._queue.pop(0)
        try:
            if not job.resume:
                for i, run in enumerate(job.runs):
                    run.run_dir = self._new_run_dir(run, job.folder, job.dir_names[i] if job.dir_names else None)
                    run.run_dir.parent.mkdir(parents=True, exist_ok=True)
            worker = TrainWorker(job.configs, [r.run_dir for r in job.runs], resume=job.resume)
        except OSError as exc:
            for run in job.runs:
                run.set_status("failed", f"cannot create the run folder: {exc}")
            self.error.emit(
                "Cannot start training",
                f"The runs folder {self._runs_root()} cannot be written ({exc.strerror or exc}). "
                "Choose another one with File > Runs folder.",
            )
            self._start_next()
            return
        self._worker, self._active = worker, list(job.runs)
        for run in job.runs:
            run.set_status("starting")
        worker.start()
        self.runs.set_current(job.runs[-1])  # the residual net of a comparison
        together = " together" if len(job.runs) > 1 else ""
        self.message.emit(f"{'continuing' if job.resume else 'starting'} {self._names(job.runs)}{together}")
        self.active_changed.emit()

    @staticmethod
    def _names(runs: list[Run]) -> str:
        return ", ".join(r.name for r in runs)

    def _on_engine_ready(self) -> None:
        for path, group, experiment, peers in self._pending_folders:
            self._open_folder(path, group, experiment, peers)
        self._pending_folders.clear()
        self._start_next()

    # -- steering the active runs: one of them, or the whole group (run=None) ----------

    def _control(self, run: Run | None):
        if self._worker is None:
            return None
        if run is None:
            return self._worker.control
        if run not in self._active:
            raise RunError(f"{run.name} is not training")
        return self._worker.controls[self._active.index(run)]

    def pause(self, run: Run | None = None) -> None:
        """Hold one run (the others of its group go on) or the whole group before the next step."""
        control = self._control(run)
        if control is not None:
            control.pause()

    def resume(self, run: Run | None = None) -> None:
        """Let paused runs go on; a run resumed alone catches up with its group first."""
        control = self._control(run)
        if control is not None:
            control.resume()

    def toggle_pause(self) -> None:
        self.resume() if self.paused else self.pause()

    def stop(self, run: Run | None = None) -> None:
        """Stop one run, or the whole group and the queue, after the current step (each
        stopped run writes a checkpoint)."""
        if run is None:
            self._cancel_queue()
        control = self._control(run)
        if control is not None:
            control.stop()
            self.message.emit(f"stopping {run.name if run else self._names(self._active)} after this step ...")

    def set_shortcuts(self, on: bool, run: Run | None = None) -> None:
        """Switch every shortcut of one net, or of every net of the group, before its next step."""
        control = self._control(run)
        if control is not None:
            control.set_shortcuts(on)

    def _cancel_queue(self) -> None:
        for job in self._queue:
            for run in job.runs:
                run.set_status("stopped" if job.resume else "cancelled")
        self._queue.clear()

    def forget(self, run: Run) -> None:
        """Remove a run from the app (its folder stays on disk)."""
        if run in self._active:
            raise RunError(f"{run.name} is training; stop it before removing it from the list")
        for job in self._queue:
            if run in job.runs:
                index = job.runs.index(run)
                del job.runs[index], job.configs[index]
        self._queue = [job for job in self._queue if job.runs]
        self._unfollow(run)
        self.runs.remove(run)

    # -- the timer -------------------------------------------------------------------

    def _on_tick(self) -> None:
        self._ticks += 1
        if self._worker is not None:
            self._pump_worker()
        if self._followers and self._ticks % self.FOLLOW_EVERY == 0:
            self._pump_followers()

    def _pump_worker(self) -> None:
        """Drain every net's queue: the group's curves grow together, tick by tick."""
        worker = self._worker
        done = not worker.alive  # read before draining: nothing can follow the thread's end
        grew = ended = False
        for i, run in enumerate(self._active):
            if worker.layouts[i] and not run.layout:
                run.device = worker.devices[i]
                run.set_layout(worker.layouts[i])
                for note in worker.notes[i]:  # e.g. resumed from an older checkpoint: never silent (issue #9)
                    self.message.emit(f"{run.name}: {note}")
            before = run.status
            grew |= run.apply(worker.poll(i))
            if run.status != before:
                ended = True
                if run.status in DONE_STATUSES:
                    self._say_ended(run)
        if grew:
            self.progress.emit(self.active)
        if ended:
            self.active_changed.emit()
        if done:
            self._finish_active(worker)

    def _say_ended(self, run: Run) -> None:
        """A run of the group ended (the others may go on): a line, or a dialog when it failed."""
        if run.status == "failed":
            # A bad setting or a diverging loss: the reason says what to change.
            self.error.emit(f"{run.name} failed", run.reason or "the training thread ended with an error")
        self.message.emit(f"{run.name} {run.status} at iteration {run.history.last_step}")

    def _finish_active(self, worker: TrainWorker) -> None:
        runs, self._worker, self._active = self._active, None, []
        for i, run in enumerate(runs):
            if run.status in DONE_STATUSES:
                continue
            if worker.failure is not None and worker.final_statuses[i] in (None, "failed"):
                run.set_status("failed", worker.failure)
            else:
                run.set_status(worker.final_statuses[i] or "stopped")
            self._say_ended(run)
        self.active_changed.emit()
        self._start_next()

    # -- closing ---------------------------------------------------------------------

    def shutdown(self, timeout: float = 10.0) -> bool:
        """Stop training (every net writes its final checkpoint), wait up to ``timeout``
        seconds for the thread, close the folders; True if everything ended in time.

        Like napari's ``wait_for_workers_to_quit``: the window closes only after the
        worker has finished writing, so nothing is left half-written.
        """
        self._timer.stop()
        self._cancel_queue()
        ok = True
        worker, runs = self._worker, list(self._active)
        if worker is not None:
            worker.control.stop()
            ok = worker.join(timeout)
            for i, run in enumerate(runs):
                run.apply(worker.poll(i))
            if ok:
                self._finish_active(worker)
            else:
                log.warning("the training thread of %s did not end within %.0f s", self._names(runs), timeout)
        self._close_followers()
        return ok
