"""A comparison trains as one lockstep group (issue #11): curves grow together, and the
buttons act on the selected run or the whole group, saying which."""

from __future__ import annotations

import json

from conftest import curve_len, set_tiny


def _items(window, run):
    return window.train_tab.curves._items[run]


def _scope(window, which: str) -> None:
    scope = window.train_tab.controls.scope
    scope.setCurrentIndex(scope.findData(which))


def test_both_curves_grow_together_before_either_finishes(window, qtbot):
    controls = window.train_tab.controls
    set_tiny(controls, iters=100_000)  # neither can finish while we look
    window.actions.start.trigger()
    runs = window.runs.runs
    assert [r.name for r in runs] == ["plain8", "resnet8"]
    assert window.session.active_runs == runs  # one job, one thread, both nets
    # one folder for the group, a run folder per net inside it
    assert runs[0].run_dir.parent == runs[1].run_dir.parent and runs[0].run_dir.name == "plain8"
    assert runs[0].run_dir.parent.name.endswith("-plain8-resnet8")
    qtbot.waitUntil(lambda: all(curve_len(_items(window, r).train) >= 3 for r in runs), timeout=60_000)
    assert all(r.status == "running" for r in runs)  # both have points, neither has ended
    for _ in range(5):  # at every tick the two are within a record or two of each other
        a, b = (r.history.last_step for r in runs)
        assert abs(a - b) <= 4, (a, b)
        qtbot.wait(100)
    line = window.status.progress_line()
    assert "2 nets in lockstep" in line
    shown = window.status.progress_label.text()  # cut to its share of the bar, whole in the tooltip
    assert shown == line or (
        shown.endswith("…") and line.startswith(shown[:-1]) and window.status.progress_label.toolTip() == line
    )
    window.actions.stop.trigger()
    qtbot.waitUntil(lambda: window.session.active is None, timeout=30_000)
    assert [r.status for r in runs] == ["stopped", "stopped"]


def test_stop_one_net_the_other_goes_on_then_continue_the_group(window, qtbot):
    controls = window.train_tab.controls
    set_tiny(controls, iters=100_000)
    window.actions.start.trigger()
    plain, res = window.runs.runs
    qtbot.waitUntil(lambda: all(len(r.history) >= 2 for r in (plain, res)), timeout=60_000)
    a = window.actions
    # the whole group (the default): the buttons say so
    assert controls.scope.isEnabled() and controls.scope.currentData() == "group"
    assert (a.pause.text(), a.stop.text()) == ("Pause group", "Stop group")
    assert a.shortcuts.text() == "Swap shortcuts · group"  # plain8 has none on, resnet8 all: a press swaps
    assert "plain8, resnet8" in a.stop.toolTip()

    _scope(window, "run")
    window.runs.set_current(plain)
    assert (a.pause.text(), a.stop.text(), a.shortcuts.text()) == (
        "Pause plain8",
        "Stop plain8",
        "Turn shortcuts on · plain8",  # what a press does
    )
    assert "the other nets of its group go on" in a.stop.toolTip()
    a.stop.trigger()
    qtbot.waitUntil(lambda: plain.status == "stopped", timeout=30_000)
    stopped_at = plain.history.last_step
    seen = res.history.last_step
    qtbot.waitUntil(lambda: res.history.last_step > seen + 10, timeout=30_000)  # resnet8 trains on alone
    assert res.status == "running" and plain.history.last_step == stopped_at
    assert not a.pause.isEnabled()  # the selected run is not training any more

    window.runs.set_current(res)
    assert a.pause.isEnabled() and a.pause.text() == "Pause resnet8"
    a.pause.trigger()
    qtbot.waitUntil(lambda: res.status == "paused", timeout=30_000)
    assert a.pause.text() == "Resume resnet8" and a.pause.isChecked()

    _scope(window, "group")
    assert a.stop.text() == "Stop group"
    a.stop.trigger()
    qtbot.waitUntil(lambda: window.session.active is None, timeout=30_000)
    assert res.status == "stopped"
    res_at = json.loads((res.run_dir / "status.json").read_text())["step"]
    assert res_at > stopped_at

    # Continue with the whole group: both nets, together again; plain8 catches up first
    window.runs.set_current(plain)
    assert a.continue_run.isEnabled() and a.continue_run.text() == "Continue group"
    a.continue_run.trigger()
    assert window.session.active_runs == [plain, res]
    qtbot.waitUntil(
        lambda: plain.history.last_step >= res_at + 4 and res.history.last_step >= res_at + 4, timeout=60_000
    )
    kinds = [e.kind for e in plain.history.events]
    assert kinds.count("resume") >= 1 and "stop" in kinds
    window.actions.stop.trigger()
    qtbot.waitUntil(lambda: window.session.active is None, timeout=30_000)
    assert abs(plain.history.last_step - res.history.last_step) <= 1  # in lockstep again
