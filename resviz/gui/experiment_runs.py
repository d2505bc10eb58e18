"""The runs of an experiment's latest instance, for the panels that judge it.

The Degradation panel and the Paper tab each show the latest experiment of their kind
(``Run.group``: ``degradation``, ``paper``): a new experiment of that kind replaces the
last one (``Run.experiment`` names its folder). Runs change 25 times a second while they
train; the verdicts need not, so :attr:`LatestExperiment.changed` is debounced.
"""

from __future__ import annotations

from PySide6 import QtCore

from .runs import Run, RunsModel

__all__ = ["LatestExperiment"]


class LatestExperiment(QtCore.QObject):
    """Follows the runs of one group's latest experiment; ``changed`` at most every ``interval_ms``."""

    changed = QtCore.Signal()

    def __init__(
        self, runs: RunsModel, group: str, interval_ms: int = 500, parent: QtCore.QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.group = group
        self._runs: list[Run] = []
        self._refresh = QtCore.QTimer(self, singleShot=True, interval=interval_ms)
        self._refresh.timeout.connect(self.changed)
        runs.run_added.connect(self._on_run_added)
        runs.run_removed.connect(self._on_run_removed)
        for run in runs:
            self._on_run_added(run)

    @property
    def runs(self) -> list[Run]:
        """The latest experiment's runs, in the order they were added."""
        return list(self._runs)

    def _on_run_added(self, run: Run) -> None:
        if run.group != self.group:
            return
        if self._runs and self._runs[-1].experiment != run.experiment:
            self._runs = []  # a new experiment of this kind replaces the last
        self._runs.append(run)
        run.changed.connect(self._refresh.start)
        run.status_changed.connect(self._refresh.start)
        self._refresh.start()

    def _on_run_removed(self, run: Run) -> None:
        if run in self._runs:
            self._runs.remove(run)
            self._refresh.start()
