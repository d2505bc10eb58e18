"""The runs the app shows: trained here, queued, or followed from a folder on disk.

A :class:`Run` is the object plots and lists look at; it changes only on the GUI thread
(the session's timer feeds it) and tells its views through signals. :class:`RunsModel`
is the ordered collection, with the "current" run that single-run views (bars,
heatmaps) show.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from PySide6 import QtCore

from ..core.archs import ArchSpec, spec_of
from ..core.records import Event, Record, StatusChange
from ..core.runs.history import RunHistory

__all__ = ["Run", "RunsModel", "LIVE_STATUSES", "DONE_STATUSES"]

#: Statuses in which a run may still grow.
LIVE_STATUSES = ("queued", "starting", "running", "paused")
#: Statuses after which nothing more comes (``cancelled``: a queued run never started).
DONE_STATUSES = ("finished", "stopped", "failed", "cancelled")


class Run(QtCore.QObject):
    """One training run as the app sees it; views connect to its signals."""

    #: New records or events arrived.
    changed = QtCore.Signal()
    #: ``status`` (or ``reason``) changed.
    status_changed = QtCore.Signal()
    #: Name, colour or visibility changed.
    style_changed = QtCore.Signal()

    def __init__(
        self,
        name: str,
        *,
        config: dict[str, Any],
        run_dir: Path | None = None,
        origin: str = "app",
        colour_index: int = 0,
        status: str = "queued",
    ) -> None:
        super().__init__()
        self.name = name
        self.config = dict(config)
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.origin = origin  # "app" (trained here) or "folder" (followed from disk)
        self.colour_index = colour_index
        self.visible = True
        #: Listed from the runs folder at launch, its metrics not read yet (they are when
        #: it is first shown: ticked or selected; see resviz.gui.listing).
        self.listed = False
        self.status = status
        self.reason: str | None = None
        self.device: str | None = None
        self.shortcuts: list[bool] | None = None
        #: The net the run trains (None when its config names none resviz knows).
        self.spec: ArchSpec | None = spec_of(self.config)
        self.history = RunHistory(name, plain=self.plain)
        self.group: str | None = None  # e.g. "degradation" for the experiment's four runs
        self.experiment: str | None = None  # which experiment of that group (its folder name)
        #: The runs trained together with this one in a lockstep group, itself included
        #: (issue #11): what "the whole group" means to Pause, Stop, Shortcuts and Continue.
        self.peers: list[Run] = [self]

    def __repr__(self) -> str:
        return f"<Run {self.name} {self.status} step={self.history.last_step}>"

    # -- what the run is -------------------------------------------------------------

    @property
    def plain(self) -> bool:
        """Trained without shortcuts (a plain net, section 4.1), as configured."""
        return self.spec is not None and self.spec.plain

    @property
    def depth(self) -> int | None:
        return self.spec.depth if self.spec is not None else None

    @property
    def layout(self) -> dict[str, list]:
        """Block and layer names per vector metric (the trainer's ``layout``)."""
        return self.history.layout

    @property
    def total_iters(self) -> int | None:
        value = self.config.get("iters")
        return int(value) if value else None

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def shortcuts_on(self) -> bool:
        """Whether the net trains with shortcuts now (after any mid-run switch)."""
        if self.shortcuts is not None:
            return any(self.shortcuts)
        return not self.plain

    # -- updates (GUI thread only) ---------------------------------------------------

    def apply(self, items: Iterable[Record | Event | StatusChange]) -> bool:
        """Take what a trainer or run reader produced; emit signals once. True if anything."""
        records: list[Record] = []
        events: list[Event] = []
        status: StatusChange | None = None
        for item in items:
            if isinstance(item, Record):
                records.append(item)
            elif isinstance(item, Event):
                events.append(item)
            elif isinstance(item, StatusChange):
                status = item
        was_on = self.shortcuts_on
        for ev in events:
            self._note_event(ev)
        grew = bool(self.history.extend(records)) | bool(self.history.add_events(events))
        if grew:
            self.changed.emit()
        if self.shortcuts_on != was_on:
            self.style_changed.emit()  # plain runs are drawn dashed
        if status is not None:
            self.set_status(status.status, status.reason)
        return grew or status is not None

    def _note_event(self, ev: Event) -> None:
        if ev.kind == "shortcuts" and "shortcuts" in ev.detail:
            self.shortcuts = [bool(s) for s in ev.detail["shortcuts"]]
        elif ev.kind == "start" and ev.detail.get("device"):
            self.device = str(ev.detail["device"])

    def set_status(self, status: str, reason: str | None = None) -> None:
        if status == self.status and reason == self.reason:
            return
        self.status, self.reason = status, reason
        self.status_changed.emit()

    def set_visible(self, visible: bool) -> None:
        if visible != self.visible:
            self.visible = visible
            self.style_changed.emit()

    def set_layout(self, layout: dict[str, list[str]] | None) -> None:
        """Block and layer names per vector metric (the trainer's ``layout``)."""
        if layout:
            self.history.layout = {k: list(v) for k, v in layout.items()}
            self.changed.emit()

    def names(self, metric: str) -> list[str]:
        """The block / layer names of a vector metric, or numbers when unknown."""
        names = self.layout.get(metric)
        if names:
            return names
        latest = self.history.latest_vector(metric)
        return [str(i) for i in range(0 if latest is None else len(latest))]


class RunsModel(QtCore.QObject):
    """The runs in the app, in the order they were added, and the current one.

    Besides them, the runs *listed* from the runs folder at launch (issue #19): only the
    Runs list shows those (``run_listed``, ``run_unlisted``) until one is shown (ticked or
    made current), when it joins the runs (``run_added``) and every view draws it; so
    fifty runs on disk cost the plots nothing at launch.
    """

    run_added = QtCore.Signal(object)
    run_removed = QtCore.Signal(object)
    current_changed = QtCore.Signal(object)  # Run or None
    run_listed = QtCore.Signal(object)
    run_unlisted = QtCore.Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self._runs: list[Run] = []
        self._listed: list[Run] = []
        self._current: Run | None = None
        self._colours_used = 0

    def __iter__(self):
        return iter(list(self._runs))

    def __len__(self) -> int:
        return len(self._runs)

    @property
    def runs(self) -> list[Run]:
        return list(self._runs)

    @property
    def current(self) -> Run | None:
        return self._current

    def next_colour(self) -> int:
        """A colour index not yet handed out (cycling once all are used)."""
        index = self._colours_used
        self._colours_used += 1
        return index

    @property
    def listed(self) -> list[Run]:
        """Runs listed from the runs folder and not shown yet."""
        return list(self._listed)

    def add_listed(self, run: Run) -> Run:
        """List ``run`` (the Runs list shows it; the views see it once it is shown)."""
        self._listed.append(run)
        run.style_changed.connect(self._on_listed_styled)
        self.run_listed.emit(run)
        return run

    def _on_listed_styled(self) -> None:
        for run in [r for r in self._listed if r.visible]:  # ticked: shown in the plots
            self.add(run, make_current=False)

    def add(self, run: Run, *, make_current: bool = True) -> Run:
        if run in self._listed:  # a listed run shown: it joins the runs
            self._listed.remove(run)
            run.style_changed.disconnect(self._on_listed_styled)
        self._runs.append(run)
        self.run_added.emit(run)
        if make_current or self._current is None:
            self.set_current(run)
        return run

    def remove(self, run: Run) -> None:
        if run in self._listed:
            self._listed.remove(run)
            run.style_changed.disconnect(self._on_listed_styled)
            self.run_unlisted.emit(run)
            return
        if run not in self._runs:
            return
        self._runs.remove(run)
        self.run_removed.emit(run)
        if run is self._current:
            self.set_current(self._runs[-1] if self._runs else None)

    def set_current(self, run: Run | None) -> None:
        if run in self._listed:  # selected: shown in the bars and heatmaps
            self.add(run, make_current=False)
        if run is not self._current:
            self._current = run
            self.current_changed.emit(run)

    def find(self, run_dir: Path) -> Run | None:
        """The run shown for this folder, if any."""
        target = Path(run_dir).resolve()
        for run in self._runs + self._listed:
            if run.run_dir is not None and run.run_dir.resolve() == target:
                return run
        return None
