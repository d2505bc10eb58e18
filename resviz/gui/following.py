"""Run folders the app follows while another process may write them (``resviz train``, torchrun).

The session's part that reads folders from disk: opened by File > Open or a drop, polled
by the session's timer less often than its training thread (SQLite reads cost more than
draining a queue), and let go when a run is continued here or removed from the list.
"""

from __future__ import annotations

from pathlib import Path

from ..core.errors import ResvizError, RunError
from ..core.experiment import PLAN_FILE as DEGRADATION_PLAN
from ..core.paper.plan import PLAN_FILE as PAPER_PLAN
from ..core.runs.reader import check_run_folder, experiment_runs
from ..core.train.config import TrainConfig
from .runs import Run
from .worker import RunFollower

__all__ = ["FollowingMixin", "experiment_group"]

#: The plan file each kind of experiment writes first, and the Run.group whose panel follows
#: it (the Paper tab, the Degradation panel).
_PLAN_FILES = {PAPER_PLAN: "paper", DEGRADATION_PLAN: "degradation"}


def experiment_group(folder: Path) -> str | None:
    """The group of an experiment folder: by its plan file (``resviz experiment``), else by
    the name the app gives it (``<time>-<group>``, see TrainingSession.enqueue)."""
    for plan, group in _PLAN_FILES.items():
        if (folder / plan).is_file():
            return group
    return next((g for g in _PLAN_FILES.values() if folder.name.endswith(f"-{g}")), None)


class FollowingMixin:
    """Following folders, for :class:`~resviz.gui.session.TrainingSession` (its runs,
    engine, message and error signals, ``_followers`` and ``_pending_folders``)."""

    def follow(self, path: str | Path) -> Run | None:
        """Show a run folder and keep it updated while another process writes it.

        Raises :class:`~resviz.core.errors.RunError` when ``path`` is not a run folder.
        Before the engine has loaded, the folder is opened once it has.
        """
        path = check_run_folder(path)
        existing = self.runs.find(path)
        if existing is not None:
            self._show_opened(existing)
            self.runs.set_current(existing)
            return existing
        if not self.engine.is_ready:
            self._pending_folders.append((path, None, None, None))
            self.message.emit(f"{path.name} opens once the engine has loaded")
            return None
        return self._open_folder(path)

    def follow_experiment(self, path: str | Path) -> list[Run]:
        """Show every run folder of an experiment folder, as one group (its peers).

        An experiment folder is what ``resviz experiment`` and the app's comparisons and
        experiments write: ``DIR/<net>`` run folders, perhaps a plan file. Reopened after a
        restart, its runs join their panel again (Degradation, Paper) and "Continue group"
        resumes them together. Raises :class:`~resviz.core.errors.RunError` when ``path``
        holds no run folder.
        """
        folder = Path(path).expanduser()
        run_dirs = experiment_runs(folder)
        if not run_dirs:
            check_run_folder(folder)  # says why it is not a run folder
            raise RunError(f"{folder} is a run folder, not an experiment folder; open it as a run")
        group, peers, out, broken = experiment_group(folder), [], [], []
        for run_dir in run_dirs:
            existing = self.runs.find(run_dir)
            if existing is not None:  # opened before (or listed at launch): shown once
                self._show_opened(existing)
                out.append(existing)
            elif not self.engine.is_ready:
                self._pending_folders.append((run_dir, group, folder.name, peers))
            else:
                try:
                    out.append(self._open_folder(run_dir, group=group, experiment=folder.name, peers=peers))
                except ResvizError as exc:  # one damaged net does not hide the others
                    broken.append(str(exc))
        if broken and not out:
            raise RunError(broken[0] if len(broken) == 1 else "; ".join(broken))
        if broken:
            n = len(broken)
            self.error.emit(
                "Cannot open every run", f"{n} of the runs of {folder.name} could not be opened:\n" + "\n".join(broken)
            )
        if not self.engine.is_ready and len(out) < len(run_dirs):
            self.message.emit(f"the runs of {folder.name} open once the engine has loaded")
        return out

    def _open_folder(
        self, path: Path, group: str | None = None, experiment: str | None = None, peers: list[Run] | None = None
    ) -> Run:
        follower = RunFollower(path)
        config = TrainConfig.from_dict(follower.config) if follower.config else None
        name = self._unique_name(config.label if config else path.name)
        run = Run(name, config=follower.config, run_dir=path, origin="folder", colour_index=self.runs.next_colour())
        run.group, run.experiment = group, experiment  # before it is added: the panels follow by group
        if peers is not None:
            peers.append(run)
            run.peers = peers
        run.set_layout(follower.layout)
        run.apply(follower.poll())
        self._followers[run] = follower
        self.runs.add(run)
        self.message.emit(f"opened {path}")
        return run

    def _show_opened(self, run: Run) -> None:
        """A run of the list that the user opens again (say, listed at launch): ticked."""
        run.set_visible(True)

    def load_listed(self, run: Run) -> None:
        """Read a run listed at launch (its metrics, its layout) and follow it: done the
        first time it is shown, so a launch with many runs on disk reads none of them."""
        if not run.listed or run.run_dir is None:
            return
        run.listed = False
        try:
            follower = RunFollower(run.run_dir)
        except ResvizError as exc:
            run.set_status("failed", str(exc))
            self.error.emit(f"Cannot read {run.name}", str(exc))
            return
        run.set_layout(follower.layout)
        run.apply(follower.poll())
        self._followers[run] = follower

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

    def _unfollow(self, run: Run) -> None:
        follower = self._followers.pop(run, None)
        if follower is not None:
            follower.close()

    def _close_followers(self) -> None:
        for follower in self._followers.values():
            follower.close()
        self._followers.clear()
