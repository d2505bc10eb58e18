"""The app's training session: a queue of runs, one trainer at a time, folders followed.

One timer on the GUI thread (25 Hz) pulls what the training thread produced into the
:class:`~resviz.gui.runs.Run` objects, which tell their views; folders opened from disk
are polled less often. One run trains at a time: on a small machine two trainers would
only share the same cores, and the degradation experiment's four runs are queued.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from PySide6 import QtCore

from ..core.errors import ResvizError, RunError
from ..core.runs.reader import check_run_folder
from ..core.runs.writer import live_writer
from ..core.train.config import TrainConfig
from .engine import EngineLoader
from .runs import DONE_STATUSES, Run, RunsModel
from .worker import RunFollower, TrainWorker, worker_threads

__all__ = ["TrainingSession"]

log = logging.getLogger(__name__)


@dataclass
class _Queued:
    run: Run
    config: TrainConfig
    resume: bool = False
    folder: str | None = None  # a subfolder of the runs root shared by an experiment's runs


class TrainingSession(QtCore.QObject):
    """Starts, steers and feeds runs; views learn everything through the runs' signals."""

    #: The active run started, paused, resumed or ended (controls refresh their state).
    active_changed = QtCore.Signal()
    #: New data for the active run (the status bar's progress line).
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
        self._queue: list[_Queued] = []
        self._worker: TrainWorker | None = None
        self._active: Run | None = None
        self._followers: dict[Run, RunFollower] = {}
        self._pending_folders: list[Path] = []
        self._ticks = 0
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(self.TICK_MS)
        self._timer.timeout.connect(self._on_tick)
        self._timer.start()
        engine.ready.connect(self._on_engine_ready)

    # -- state -----------------------------------------------------------------------

    @property
    def active(self) -> Run | None:
        """The run training now (or starting, or paused)."""
        return self._active

    @property
    def queued(self) -> list[Run]:
        return [q.run for q in self._queue]

    @property
    def busy(self) -> bool:
        return self._active is not None or bool(self._queue)

    @property
    def paused(self) -> bool:
        return self._active is not None and self._active.status == "paused"

    # -- starting runs ---------------------------------------------------------------

    def enqueue(self, configs: list[TrainConfig], *, group: str | None = None) -> list[Run]:
        """Queue new runs (trained one after another); returns their Run objects at once.

        Runs of a ``group`` (an experiment) are written into one folder under the runs
        root, ``<time>-<group>/<run name>``, the layout ``resviz experiment`` uses.
        """
        folder = f"{time.strftime('%Y%m%d-%H%M%S')}-{group}" if group else None
        added = []
        for config in configs:
            config.validate()
            if config.threads is None:
                config = replace(config, threads=worker_threads())
            run = Run(
                self._unique_name(config.label),
                config=config.to_dict(),
                colour_index=self.runs.next_colour(),
                status="queued",
            )
            run.group, run.experiment = group, folder
            self._queue.append(_Queued(run, config, folder=folder))
            self.runs.add(run, make_current=not added and self._active is None)
            added.append(run)
        if self._active is not None and added:
            self.message.emit(f"queued {', '.join(r.name for r in added)} after {self._active.name}")
        self._start_next()
        return added

    def continue_run(self, run: Run) -> None:
        """Resume a stopped or failed run from its last checkpoint (same schedule).

        A folder another process may still write (a ``resviz train`` in a terminal, a job
        on another host) is refused here, before the run is queued: resuming it would
        rewrite its history, and failing later would show the live run as failed (issue #9).
        """
        if run.run_dir is not None and run is not self._active and run not in self.queued:
            writer = live_writer(run.run_dir)
            if writer is not None:
                raise RunError(f"cannot continue {run.name}: {writer}")
        if run.live or run.run_dir is None:
            raise RunError(f"{run.name} is still running; stop it before continuing it")
        follower = self._followers.pop(run, None)
        if follower is not None:
            follower.close()
        config = TrainConfig.from_dict(run.config)
        run.set_status("queued")
        self._queue.append(_Queued(run, config, resume=True))
        self._start_next()

    def _unique_name(self, name: str) -> str:
        taken = {r.name for r in self.runs}
        if name not in taken:
            return name
        n = 2
        while f"{name} #{n}" in taken:
            n += 1
        return f"{name} #{n}"

    def _new_run_dir(self, run: Run, folder: str | None) -> Path:
        root = self._runs_root()
        name = run.name.replace(" #", "-")
        if folder:
            root, base = root / folder, name
        else:
            base = f"{time.strftime('%Y%m%d-%H%M%S')}-{name}"
        path, n = root / base, 2
        while path.exists():
            path, n = root / f"{base}-{n}", n + 1
        return path

    def _start_next(self) -> None:
        if self._active is not None or not self._queue or not self.engine.is_ready:
            return
        job = self._queue.pop(0)
        run, resume = job.run, job.resume
        try:
            if not resume:
                run.run_dir = self._new_run_dir(run, job.folder)
                run.run_dir.parent.mkdir(parents=True, exist_ok=True)
            worker = TrainWorker(job.config, run.run_dir, resume=resume)
        except OSError as exc:
            run.set_status("failed", f"cannot create the run folder: {exc}")
            self.error.emit(
                "Cannot start training",
                f"The runs folder {self._runs_root()} cannot be written ({exc.strerror or exc}). "
                "Choose another one with File > Runs folder.",
            )
            self._start_next()
            return
        self._worker, self._active = worker, run
        run.set_status("starting")
        worker.start()
        self.runs.set_current(run)
        self.message.emit(f"{'continuing' if resume else 'starting'} {run.name}")
        self.active_changed.emit()

    def _on_engine_ready(self) -> None:
        for path in self._pending_folders:
            self._open_folder(path)
        self._pending_folders.clear()
        self._start_next()

    # -- steering the active run -----------------------------------------------------

    def pause(self) -> None:
        if self._worker is not None:
            self._worker.control.pause()

    def resume(self) -> None:
        if self._worker is not None:
            self._worker.control.resume()

    def toggle_pause(self) -> None:
        self.resume() if self.paused else self.pause()

    def stop(self) -> None:
        """Stop the active run after its current step (it writes a checkpoint) and drop the queue."""
        self._cancel_queue()
        if self._worker is not None:
            self._worker.control.stop()
            self.message.emit(f"stopping {self._active.name} after this step ...")

    def set_shortcuts(self, on: bool) -> None:
        """Switch every shortcut of the training net on or off before its next step."""
        if self._worker is not None:
            self._worker.control.set_shortcuts(on)

    def _cancel_queue(self) -> None:
        for job in self._queue:
            job.run.set_status("stopped" if job.resume else "cancelled")
        self._queue.clear()

    # -- following folders -----------------------------------------------------------

    def follow(self, path: str | Path) -> Run | None:
        """Show a run folder and keep it updated while another process writes it.

        Raises :class:`~resviz.core.errors.RunError` when ``path`` is not a run folder.
        Before the engine has loaded, the folder is opened once it has.
        """
        path = check_run_folder(path)
        existing = self.runs.find(path)
        if existing is not None:
            self.runs.set_current(existing)
            return existing
        if not self.engine.is_ready:
            self._pending_folders.append(path)
            self.message.emit(f"{path.name} opens once the engine has loaded")
            return None
        return self._open_folder(path)

    def _open_folder(self, path: Path) -> Run:
        follower = RunFollower(path)
        config = TrainConfig.from_dict(follower.config) if follower.config else None
        name = self._unique_name(config.label if config else path.name)
        run = Run(name, config=follower.config, run_dir=path, origin="folder", colour_index=self.runs.next_colour())
        run.set_layout(follower.layout)
        run.apply(follower.poll())
        self._followers[run] = follower
        self.runs.add(run)
        self.message.emit(f"opened {path}")
        return run

    def forget(self, run: Run) -> None:
        """Remove a run from the app (its folder stays on disk)."""
        if run is self._active:
            raise RunError(f"{run.name} is training; stop it before removing it from the list")
        self._queue = [q for q in self._queue if q.run is not run]
        follower = self._followers.pop(run, None)
        if follower is not None:
            follower.close()
        self.runs.remove(run)

    # -- the timer -------------------------------------------------------------------

    def _on_tick(self) -> None:
        self._ticks += 1
        if self._worker is not None:
            self._pump_worker()
        if self._followers and self._ticks % self.FOLLOW_EVERY == 0:
            self._pump_followers()

    def _pump_worker(self) -> None:
        worker, run = self._worker, self._active
        done = not worker.alive  # read before draining: nothing can follow the thread's end
        if worker.layout and not run.layout:
            run.device = worker.device
            run.set_layout(worker.layout)
            for note in worker.notes:  # e.g. resumed from an older checkpoint: never silent (issue #9)
                self.message.emit(f"{run.name}: {note}")
        before = run.status
        if run.apply(worker.poll()):
            self.progress.emit(run)
        if run.status != before:
            self.active_changed.emit()
        if done:
            self._finish_active(worker, run)

    def _finish_active(self, worker: TrainWorker, run: Run) -> None:
        self._worker, self._active = None, None
        if worker.failure is not None:
            run.set_status("failed", worker.failure)
        elif run.status not in DONE_STATUSES:
            run.set_status(worker.final_status or "stopped")
        if run.status == "failed":
            # A bad setting or a diverging loss: the reason says what to change.
            self.error.emit(f"{run.name} failed", run.reason or "the training thread ended with an error")
        self.message.emit(f"{run.name} {run.status} at iteration {run.history.last_step}")
        self.active_changed.emit()
        self._start_next()

    def _pump_followers(self) -> None:
        for run, follower in list(self._followers.items()):
            try:
                run.apply(follower.poll())
            except ResvizError as exc:
                # The folder went away or its database broke: say so once, stop following.
                run.set_status("failed", str(exc))
                follower.close()
                del self._followers[run]
                self.error.emit(f"Stopped following {run.name}", str(exc))

    # -- closing ---------------------------------------------------------------------

    def shutdown(self, timeout: float = 10.0) -> bool:
        """Stop training (the trainer writes its final checkpoint), wait up to ``timeout``
        seconds for the thread, close the folders; True if everything ended in time.

        Like napari's ``wait_for_workers_to_quit``: the window closes only after the
        worker has finished writing, so nothing is left half-written.
        """
        self._timer.stop()
        self._cancel_queue()
        ok = True
        worker, run = self._worker, self._active
        if worker is not None:
            worker.control.stop()
            ok = worker.join(timeout)
            run.apply(worker.poll())
            if ok:
                self._finish_active(worker, run)
            else:
                log.warning("the training thread of %s did not end within %.0f s", run.name, timeout)
        for follower in self._followers.values():
            follower.close()
        self._followers.clear()
        return ok
