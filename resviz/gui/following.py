"""Run folders the app follows while another process may write them (``resviz train``, torchrun).

The session's part that reads folders from disk: opened by File > Open or a drop, polled
by the session's timer less often than its training thread (SQLite reads cost more than
draining a queue), and let go when a run is continued here or removed from the list.
"""

from __future__ import annotations

from pathlib import Path

from ..core.errors import ResvizError
from ..core.runs.reader import check_run_folder
from ..core.train.config import TrainConfig
from .runs import Run
from .worker import RunFollower

__all__ = ["FollowingMixin"]


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
