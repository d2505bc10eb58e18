"""The journeys of issue #19 as a person meets them: train then Load, a shortcut from another
tab, Ctrl+K on a plain+residual group, a second experiment, the runs list after a restart,
and the status bar while and after training."""

from __future__ import annotations

import os
import shutil

from conftest import inspect_tab, set_tiny, tiny_config
from PySide6 import QtCore, QtWidgets

from resviz.core.runs.reader import RunReader
from resviz.core.runs.writer import lock, unlock

Key, Mod = QtCore.Qt.Key, QtCore.Qt.KeyboardModifier


# -- 1. the Inspect tab's checkpoint box follows the run ---------------------------------------


def test_load_after_a_run_finishes_in_the_app_loads_its_last_checkpoint(window, qtbot):
    controls = window.train_tab.controls
    set_tiny(controls, iters=12)
    tab = inspect_tab(window)  # the user looks at Inspect while it trains (the box fills early)
    window.actions.start.trigger()
    plain, res = window.runs.runs
    qtbot.waitUntil(lambda: res.status == "finished" and plain.status == "finished", timeout=120_000)
    box = tab.model_box
    # the box shows the residual net (the current run) and its only checkpoint, chosen
    qtbot.waitUntil(lambda: box.checkpoint.currentIndex() == 0, timeout=10_000)
    assert box.run.currentData() is res
    assert box.checkpoint.currentText() == "step 12 (latest)"
    box.load_run.click()  # without opening the drop-down first
    qtbot.waitUntil(lambda: tab.session.loaded is not None, timeout=30_000)
    assert tab.session.loaded.source == str(res.run_dir / "checkpoints" / "step_0000012.pt")


def test_the_checkpoint_box_follows_checkpoints_as_they_are_written(window, qtbot):
    tab = inspect_tab(window)
    (run,) = window.session.enqueue([tiny_config(iters=100_000, checkpoint_every=4)])
    box = tab.model_box
    # no popup opened, no status change: the list grows with the run, the newest chosen
    qtbot.waitUntil(lambda: box.checkpoint.count() >= 3, timeout=60_000)
    assert run.status == "running"
    newest = RunReader(run.run_dir).checkpoints()[-1]
    qtbot.waitUntil(lambda: box.checkpoint.currentData() == str(RunReader(run.run_dir).checkpoints()[-1]))
    assert box.checkpoint.currentIndex() == 0 and newest.exists()
    window.actions.stop.trigger()
    qtbot.waitUntil(lambda: window.session.active is None, timeout=30_000)


def test_load_without_a_checkpoint_says_why(window, qtbot, tmp_path):
    tab = inspect_tab(window)
    box = tab.model_box
    box.load_run.click()  # no run at all
    assert "no run" in window.status.currentMessage().lower()
    assert tab.session.loaded is None


# -- 2. the inspector's shortcuts work from any tab --------------------------------------------


def test_lesion_and_feature_shortcuts_bring_their_view_and_start_from_any_tab(window, qtbot, tiny_run):
    from conftest import load_into

    tab = inspect_tab(window)
    load_into(tab, qtbot, tiny_run)
    tab.views.setCurrentWidget(tab.activations)
    window.tabs.setCurrentIndex(0)  # the Train tab
    window.activateWindow()
    qtbot.keyClick(window.tabs.tabBar(), Key.Key_L, Mod.ControlModifier | Mod.ShiftModifier)
    assert window.tabs.currentWidget() is tab and tab.views.currentWidget() is tab.lesion
    qtbot.waitUntil(lambda: tab.session.study.result is not None, timeout=60_000)

    window.tabs.setCurrentIndex(0)
    qtbot.keyClick(window.tabs.tabBar(), Key.Key_F, Mod.ControlModifier | Mod.ShiftModifier)
    assert window.tabs.currentWidget() is tab and tab.views.currentWidget() is tab.features
    qtbot.waitUntil(lambda: tab.session.features.result is not None, timeout=60_000)


def test_a_shortcut_without_a_net_says_why(window, qtbot):
    window.tabs.setCurrentIndex(0)
    qtbot.keyClick(window.tabs.tabBar(), Key.Key_L, Mod.ControlModifier | Mod.ShiftModifier)
    tab = window.files_tab()
    assert window.tabs.currentWidget() is tab and tab.views.currentWidget() is tab.lesion
    assert "load a model" in window.status.currentMessage().lower()


# -- 3. Ctrl+K on a plain + residual group ---------------------------------------------------


def test_ctrl_k_on_a_mixed_group_swaps_each_nets_shortcuts(window, qtbot):
    controls = window.train_tab.controls
    set_tiny(controls, iters=100_000)
    window.actions.start.trigger()
    plain, res = window.runs.runs
    qtbot.waitUntil(lambda: all(r.status == "running" for r in (plain, res)), timeout=60_000)
    a = window.actions
    # the button names what a press produces: each net's own shortcuts swapped
    assert a.shortcuts.text() == "Swap shortcuts · group"
    assert "plain8 gains shortcuts, resnet8 loses them" in a.shortcuts.toolTip()
    window.activateWindow()
    qtbot.keyClick(window.tabs.tabBar(), Key.Key_K, Mod.ControlModifier)
    qtbot.waitUntil(lambda: plain.shortcuts_on and not res.shortcuts_on, timeout=30_000)
    assert "plain8 on, resnet8 off" in window.status.currentMessage()
    qtbot.waitUntil(lambda: a.shortcuts.text() == "Swap shortcuts · group", timeout=10_000)
    # the explicit choices of the button's menu
    a.shortcuts_all_off.trigger()
    qtbot.waitUntil(lambda: not plain.shortcuts_on and not res.shortcuts_on, timeout=30_000)
    qtbot.waitUntil(lambda: a.shortcuts.text() == "Turn shortcuts on · group", timeout=10_000)
    a.shortcuts.trigger()  # every net is off: the press switches every net on
    qtbot.waitUntil(lambda: plain.shortcuts_on and res.shortcuts_on, timeout=30_000)
    qtbot.waitUntil(lambda: a.shortcuts.text() == "Turn shortcuts off · group", timeout=10_000)
    button = next(b for b in window.train_tab.findChildren(QtWidgets.QToolButton) if b.defaultAction() is a.shortcuts)
    assert [x.text() for x in button.menu().actions()] == [
        a.shortcuts_all_on.text(),
        a.shortcuts_all_off.text(),
        a.shortcuts_swap.text(),
    ]
    window.actions.stop.trigger()
    qtbot.waitUntil(lambda: window.session.active is None, timeout=30_000)


# -- 6. a new degradation experiment ------------------------------------------------------------


def test_a_new_experiment_shows_its_own_nets_and_its_whole_verdict(window, qtbot):
    controls = window.train_tab.controls
    set_tiny(controls, iters=4)
    window.actions.start.trigger()
    earlier = window.runs.runs
    qtbot.waitUntil(lambda: window.session.active is None and not window.session.busy, timeout=60_000)
    controls.depths.setText("8, 14")
    window.actions.degradation.trigger()
    new = [r for r in window.runs.runs if r not in earlier]
    assert len(new) == 4 and len(window.runs) == 6  # the earlier runs stay in the list ...
    assert not any(r.visible for r in earlier) and all(r.visible for r in new)  # ... unticked
    curves = window.train_tab.curves._items
    assert all(not line.isVisible() for r in earlier for line, *_ in curves[r].markers)
    panel = window.degradation
    qtbot.waitUntil(lambda: "resnet14" in panel.text.text(), timeout=30_000)
    qtbot.wait(200)  # the dock's layout
    scroll = panel.findChild(QtWidgets.QScrollArea)
    assert window.degradation_dock.isVisible()
    assert scroll.verticalScrollBar().maximum() == 0, "the verdict panel opens cut off"
    window.actions.stop.trigger()
    qtbot.waitUntil(lambda: window.session.active is None, timeout=30_000)


# -- 7. the runs list after a restart ----------------------------------------------------------


def _on_disk(tmp_path, tiny_run, twin_runs):
    """The runs folder of an earlier session: an experiment (older) and a single run (newer)."""
    root = tmp_path / "runs"
    experiment = root / twin_runs["plain8"].parent.name
    shutil.copytree(twin_runs["plain8"].parent, experiment)
    single = root / "20250102-000000-resnet8"
    shutil.copytree(tiny_run, single)
    for i, folder in enumerate((experiment / "plain8", experiment / "resnet8", single)):
        os.utime(folder / "config.json", (1_700_000_000 + i, 1_700_000_000 + i))
    return experiment, single


def test_an_experiment_listed_newest_on_launch_shows_all_its_nets(tmp_path, twin_runs, app, qtbot):
    from resviz.gui.app import create_window

    root = tmp_path / "runs"
    shutil.copytree(twin_runs["plain8"].parent, root / twin_runs["plain8"].parent.name)
    win = create_window()
    qtbot.addWidget(win)
    win.show()
    table = win.runs_view.table
    qtbot.waitUntil(lambda: table.rowCount() == 2, timeout=10_000)
    runs = [table.run_at(row) for row in range(2)]
    assert runs[0].peers == runs  # the two twins of one experiment
    # both ticked (not only the first): the comparison is what the experiment is for
    assert [r.visible for r in runs] == [True, True]
    assert win.runs.current is runs[0]
    # ... and its verdicts: the Degradation panel, hidden until an experiment starts, shows
    assert runs[0].group == "degradation" and win.degradation_dock.isVisible()


def test_the_runs_folder_is_listed_on_launch_newest_first_and_loads_when_shown(
    tmp_path, tiny_run, twin_runs, app, qtbot
):
    from resviz.gui.app import create_window

    experiment, single = _on_disk(tmp_path, tiny_run, twin_runs)
    win = create_window()
    qtbot.addWidget(win)
    win.show()
    table = win.runs_view.table
    qtbot.waitUntil(lambda: table.rowCount() == 3, timeout=10_000)
    runs = [table.run_at(row) for row in range(3)]  # as the list shows them
    assert [r.run_dir for r in runs] == [single, experiment / "plain8", experiment / "resnet8"]
    assert [r.status for r in runs] == ["finished"] * 3
    assert runs[1].peers == [runs[1], runs[2]] and runs[2].peers is runs[1].peers  # one group
    assert runs[1].group == "degradation" and runs[1].experiment == experiment.name
    # listed runs start unticked but the newest: selected and ticked, so the bars, heatmaps
    # and the error/loss plots all show it; the others have no metrics read, no plot items
    assert [r.visible for r in runs] == [True, False, False]
    assert win.runs.current is runs[0] and runs[0].history.last_step == 40
    drawn = win.train_tab.curves._items[runs[0]].train
    qtbot.waitUntil(lambda: drawn.getData()[0] is not None and len(drawn.getData()[0]) > 0, timeout=10_000)
    assert drawn.isVisible()  # drawn and shown, not only made
    assert win.runs.listed == runs[1:] and all(len(r.history) == 0 for r in runs[1:])
    curves = win.train_tab.curves._items
    assert runs[0] in curves and runs[1] not in curves and runs[2] not in curves
    table.setData(table.index(1, 0), QtCore.Qt.CheckState.Checked.value, QtCore.Qt.ItemDataRole.CheckStateRole)
    assert runs[1].visible and runs[1].history.last_step == 20 and runs[1] in curves
    assert len(runs[2].history) == 0 and runs[2] not in curves  # still unread
    win.runs_view.selectRow(2)  # selecting shows it too
    assert win.runs.current is runs[2] and runs[2].history.last_step == 20
    runs[0].set_visible(False)
    assert win.open_run_folder(single) is runs[0] and runs[0].visible  # File > Open: shown once, ticked
    assert table.rowCount() == 3 and len(win.runs) == 3
    win.close()


def test_remove_and_delete_from_the_runs_list(tmp_path, tiny_run, twin_runs, app, qtbot):
    from resviz.gui.app import create_window

    experiment, single = _on_disk(tmp_path, tiny_run, twin_runs)
    win = create_window()
    qtbot.addWidget(win)
    win.show()
    table = win.runs_view.table
    qtbot.waitUntil(lambda: table.rowCount() == 3, timeout=10_000)
    first, plain8, res8 = (table.run_at(row) for row in range(3))
    win.remove_run(plain8)
    assert table.rowCount() == 2 and plain8 not in win.runs.listed
    assert (experiment / "plain8").is_dir()  # only off the list
    # a process writes the run: Delete is refused, the folder stays
    fd = lock(single)
    try:
        win.delete_run(first)
        box = win.confirm_box
        box.button(QtWidgets.QMessageBox.StandardButton.Yes).click()
        assert single.is_dir() and first in win.runs.runs
        assert "writing it" in win.last_error
    finally:
        unlock(fd)
    # asked first; No keeps everything
    win.delete_run(first)
    win.confirm_box.button(QtWidgets.QMessageBox.StandardButton.No).click()
    assert single.is_dir() and first in win.runs.runs
    win.delete_run(first)
    assert str(single) in win.confirm_box.text()
    win.confirm_box.button(QtWidgets.QMessageBox.StandardButton.Yes).click()
    assert not single.exists() and first not in win.runs.runs
    assert table.rowCount() == 1 and (experiment / "resnet8").is_dir()
    # a listed run never shown goes the same way
    win.delete_run(res8)
    win.confirm_box.button(QtWidgets.QMessageBox.StandardButton.Yes).click()
    assert not (experiment / "resnet8").exists() and table.rowCount() == 0
    win.close()


# -- 8. the status bar -------------------------------------------------------------------------


def test_the_status_bar_keeps_message_and_progress_apart_and_clears_when_done(window, qtbot):
    controls = window.train_tab.controls
    set_tiny(controls, iters=40)
    controls.compare.setChecked(False)
    window.actions.start.trigger()
    (run,) = window.runs.runs
    status = window.status
    qtbot.waitUntil(lambda: "iteration" in status.progress_label.text(), timeout=60_000)
    assert not (status.engine_label.isVisible() and "Ready" in status.engine_label.text())  # training, not ready
    status.showMessage("a long message about what just happened " * 8, 5000)
    qtbot.wait(50)
    shown = status.shown_message()
    assert status.currentMessage() == "a long message about what just happened " * 8  # the whole, for code
    room = status.progress_label.x() - 6
    assert status.fontMetrics().horizontalAdvance(shown) <= room, "the message runs into the progress line"
    assert shown.endswith("…")
    qtbot.waitUntil(lambda: window.session.active is None, timeout=120_000)
    assert status.progress_label.text() == "" and not status.progress_bar.isVisible()
    assert status.engine_label.isVisible() and status.engine_label.text().startswith("Ready")
