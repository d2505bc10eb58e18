"""Nets from the runs list: a dropped run folder, the runs menu, the checkpoint combo."""

from __future__ import annotations

import pytest
from conftest import drop_paths

from resviz.core.runs import RunReader


@pytest.mark.parametrize("where", ["train", "inspect"])
def test_a_run_folder_dropped_on_the_inspect_tab_loads_it(window, qtbot, tiny_run, where):
    tab = window.files_tab()
    if where == "inspect":
        window.tabs.setCurrentWidget(tab)
    drop_paths(window, [tiny_run])
    run = window.runs.find(tiny_run)
    assert run is not None  # followed in the runs list either way
    if where == "train":  # on the Train tab a folder is a run to follow, as before
        assert window.tabs.currentIndex() == 0 and tab.session.loaded is None
        return
    qtbot.waitUntil(lambda: tab.session.loaded is not None, timeout=30_000)
    assert tab.session.loaded.source == str(RunReader(tiny_run).checkpoints()[-1])
    assert tab.model_box.run.currentData() is run and tab.model_box.checkpoint.count() == 2


def test_the_runs_list_menu_inspects_a_run(window, qtbot, tiny_run):
    run = window.open_run_folder(tiny_run)
    tab = window.files_tab()
    assert tab.model_box.run.currentData() is run and tab.model_box.checkpoint.itemText(0) == "step 40 (latest)"
    window._inspect_run(run)  # the runs list's "Inspect its latest checkpoint"
    assert window.tabs.currentWidget() is tab
    qtbot.waitUntil(lambda: tab.session.loaded is not None, timeout=30_000)
    assert tab.session.loaded.source.endswith("step_0000040.pt") and tab.session.data.name == "digits"
    # an earlier checkpoint from the combo
    tab.model_box.checkpoint.setCurrentIndex(1)
    before = tab.session.loaded
    tab.model_box.load_run.click()
    qtbot.waitUntil(lambda: tab.session.loaded is not before, timeout=30_000)
    assert tab.session.loaded.source.endswith("step_0000020.pt")
