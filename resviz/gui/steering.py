"""Pause, Stop, Shortcuts and Continue: on the selected run of a lockstep group, or on all of it.

A comparison and the degradation experiment train as one group (issue #11). What the
buttons act on is chosen beside them ("Acts on: whole group / selected run") and said in
their own text, so nobody has to guess: "Pause group", "Stop plain20", "Turn shortcuts on ·
plain20". A group of one net keeps the plain words ("Pause", "Stop"). The Shortcuts button
names the state a press produces; on a plain + residual group a press swaps each net's own
shortcuts (issue #19).
"""

from __future__ import annotations

from PySide6 import QtGui, QtWidgets

from .actions import WindowActions
from .runs import Run, RunsModel
from .session import TrainingSession

__all__ = ["Steering"]

_STEERABLE = ("running", "paused")


class Steering:
    """Keeps the steering actions' text, state and tooltips true, and carries them out."""

    def __init__(
        self, actions: WindowActions, session: TrainingSession, runs: RunsModel, scope: QtWidgets.QComboBox
    ) -> None:
        self.actions, self.session, self.runs, self.scope = actions, session, runs, scope
        self._shortcut_states: list[bool] = []  # what the Shortcuts button's words were made from

    # -- what the buttons act on -------------------------------------------------------

    @property
    def whole_group(self) -> bool:
        """The choice beside the buttons: the whole group (True) or the selected run."""
        return self.scope.currentData() != "run"

    def target(self) -> Run | None:
        """The run the buttons act on; None: every run of the group (or its only one)."""
        active = self.session.active_runs
        if len(active) <= 1 or self.whole_group:
            return None
        current = self.runs.current
        return current if current in active else None

    def targets(self) -> list[Run]:
        """The runs a press reaches now (none: the selected run is not one of the group's)."""
        active = self.session.active_runs
        if len(active) <= 1 or self.whole_group:
            return active
        current = self.runs.current
        return [current] if current in active else []

    def _suffix(self) -> str:
        if len(self.session.active_runs) <= 1:
            return ""
        target = self.target()
        return " group" if target is None and self.whole_group else f" {target.name}" if target else ""

    # -- keeping the actions true ------------------------------------------------------

    def update(self) -> None:
        a, active = self.actions, self.session.active_runs
        targets = self.targets()
        live = [r for r in targets if r.status in _STEERABLE]
        paused = bool(live) and all(r.status == "paused" for r in live)
        many, suffix = len(active) > 1, self._suffix()
        current = self.runs.current
        self.scope.setEnabled(many or (current is not None and len(current.peers) > 1))
        names = ", ".join(r.name for r in active)
        lost = many and not targets  # "selected run" chosen, but the selection is not training
        hint = "; select one of its runs in the Runs list (or act on the whole group)" if lost else ""

        a.pause.setEnabled(bool(live))
        a.pause.setChecked(paused)
        a.pause.setText(("Resume" if paused else "Pause") + suffix)
        if many and self.target() is None:
            tip = f"Hold every net of the group ({names}) before its next step; press again to resume"
        elif many:
            tip = (
                f"Hold {targets[0].name} before its next step; the other nets of its group go on, and it "
                "catches up with them once resumed"
            )
        else:
            tip = "Hold training before its next step; press again to resume"
        _tip(a.pause, tip + hint)

        a.stop.setEnabled(self.session.busy if not many or self.target() is None else bool(targets))
        a.stop.setText("Stop" + suffix)
        if many and self.target() is None:
            tip = f"Stop every net of the group ({names}) after this step, each saving a checkpoint; drop queued runs"
        elif many:
            tip = f"Stop {targets[0].name} after this step and save its checkpoint; the other nets of its group go on"
        else:
            tip = "Stop the run after this step and save a checkpoint; drop queued runs"
        _tip(a.stop, tip + hint)

        self._shortcut_states = [r.shortcuts_on for r in live]
        # Words from the nets' states even before they step (starting: the button is off, but true)
        text, tip = self._shortcuts_words(live or targets, names if many and self.target() is None else "")
        for action in (a.shortcuts, a.shortcuts_all_on, a.shortcuts_all_off, a.shortcuts_swap):
            action.setEnabled(bool(live))
        a.shortcuts.setText(text + (f" ·{suffix}" if suffix else ""))
        _tip(a.shortcuts, tip + hint)

        peers = self._continuable_peers()
        a.continue_run.setEnabled(
            self.session.engine.is_ready and current is not None and self.session.can_continue(current)
        )
        a.continue_run.setText("Continue group" if len(peers) > 1 else "Continue selected run")
        a.continue_run.setToolTip(
            f"Resume {', '.join(r.name for r in peers)} from their last checkpoints, together in lockstep"
            if len(peers) > 1
            else "Resume the selected stopped run from its last checkpoint"
        )

    @staticmethod
    def _shortcuts_words(live: list[Run], group: str) -> tuple[str, str]:
        """The Shortcuts button's text and tooltip: the state a press produces (issue #19).

        A press toggles each net's own shortcuts: on a plain + residual group the plain net
        gains them and the residual one loses them (the degradation experiment, swapped);
        on a group that agrees, every net switches together. The button's menu has the
        explicit "every net on / off" too.
        """
        on = [r for r in live if r.shortcuts_on]
        off = [r for r in live if not r.shortcuts_on]
        marked = " (marked on the curves; shortcuts on make a plain net residual)"
        if on and off:
            gains, loses = ", ".join(r.name for r in off), ", ".join(r.name for r in on)
            return "Swap shortcuts", (
                f"Each net swaps its own shortcuts before its next step: {gains} gains shortcuts, {loses} loses "
                f"them{marked}. The button's menu switches every net on or off instead"
            )
        whose = f"every net of the group ({group})" if group else "the training net"
        state = "off" if on or not live else "on"
        return f"Turn shortcuts {state}", f"Switch every shortcut of {whose} {state} before its next step{marked}"

    def shortcuts_stale(self) -> bool:
        """The Shortcuts action no longer names what a press does (a switch happened)."""
        live = [r for r in self.targets() if r.status in _STEERABLE]
        return bool(live) and self._shortcut_states != [r.shortcuts_on for r in live]

    def _continuable_peers(self) -> list[Run]:
        current = self.runs.current
        if current is None or not self.whole_group or not self.session.can_continue(current):
            return []
        return [r for r in current.peers if self.session.can_continue(r)]

    # -- carrying them out -------------------------------------------------------------

    def pause(self, checked: bool) -> None:
        target = self.target()
        self.session.pause(target) if checked else self.session.resume(target)

    def stop(self) -> None:
        self.session.stop(self.target())

    def switch_shortcuts(self, how: str) -> str:
        """Switch the targets' shortcuts: ``swap`` (each net toggles its own: Ctrl+K),
        ``on`` or ``off`` (every net the same); say what will happen (for the status bar)."""
        target = self.target()
        live = [r for r in self.targets() if r.status in _STEERABLE]
        if not live:
            return "nothing is training: shortcuts switch while a run trains"
        mixed = how == "swap" and len({r.shortcuts_on for r in live}) > 1
        if mixed:
            for run in live:  # each its own way; the group's control would switch all the same
                self.session.set_shortcuts(not run.shortcuts_on, run)
            news = ", ".join(f"{r.name} {'off' if r.shortcuts_on else 'on'}" for r in live)
            return f"switching shortcuts before the next step: {news}"
        on = (not live[0].shortcuts_on) if how == "swap" else how == "on"
        self.session.set_shortcuts(on, target)
        whose = f"of {target.name} " if target else "of every net " if len(self.session.active_runs) > 1 else ""
        return f"switching shortcuts {whose}{'on' if on else 'off'} before the next step"

    def continue_selected(self) -> None:
        """Continue the selected run, with its stopped peers when acting on the whole group."""
        run = self.runs.current
        if run is not None:
            self.session.continue_run(run, group=len(self._continuable_peers()) > 1)


def _tip(action: QtGui.QAction, text: str) -> None:
    key = action.shortcut().toString(QtGui.QKeySequence.SequenceFormat.NativeText)
    action.setToolTip(f"{text} ({key})" if key else text)
    action.setStatusTip(text)
