"""The window itself: opens before torch, tabs, per-run visibility, continuing a stopped run."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import curve_len, set_tiny


def test_the_window_opens_without_importing_torch(tmp_path):
    """The first paint must not wait for torch (issue 4): nothing on the start path imports it."""
    code = (
        "import sys\n"
        "from resviz.gui import settings\n"
        f"settings.use_private_settings({str(tmp_path)!r})\n"
        "from resviz.gui.app import make_app, create_window\n"
        "app = make_app(); w = create_window(); w.show(); app.processEvents()\n"
        "print(sorted(m for m in ('torch', 'torchvision', 'captum') if m in sys.modules))\n"
        "print(w.actions.start.isEnabled(), w.status.engine_label.text())\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr
    imported, state = res.stdout.splitlines()
    assert imported == "[]"
    assert state.startswith("False Loading torch")  # Start waits for the engine, and says why


def test_tabs_and_a_hidden_run_leaves_the_plots(window, qtbot):
    assert window.tabs.tabText(0) == "Train"
    before = window.tabs.count()
    from PySide6 import QtWidgets

    assert window.add_tab(QtWidgets.QLabel("inspect"), "Inspect") == before  # one call adds a tab
    controls = window.train_tab.controls
    set_tiny(controls, iters=6)
    window.actions.start.trigger()
    plain, residual = window.runs.runs
    qtbot.waitUntil(lambda: residual.status == "finished", timeout=60_000)
    items = window.train_tab.curves._items
    qtbot.waitUntil(lambda: curve_len(items[plain].train) > 0, timeout=30_000)
    table = window.runs_view.table
    from PySide6 import QtCore

    table.setData(table.index(0, 0), QtCore.Qt.CheckState.Unchecked, QtCore.Qt.ItemDataRole.CheckStateRole)
    assert not plain.visible and not items[plain].train.isVisible() and not items[plain].test.isVisible()
    legend_names = [label.text for _, label in window.train_tab.curves.legend.items]
    assert "plain8" not in legend_names and "resnet8" in legend_names
    table.setData(table.index(0, 0), QtCore.Qt.CheckState.Checked, QtCore.Qt.ItemDataRole.CheckStateRole)
    assert items[plain].train.isVisible()


def test_a_stopped_run_continues_from_its_checkpoint(window, qtbot):
    controls = window.train_tab.controls
    set_tiny(controls, iters=100_000)
    controls.compare.setChecked(False)
    window.actions.start.trigger()
    run = window.runs.runs[0]
    qtbot.waitUntil(lambda: len(run.history) >= 2, timeout=60_000)
    window.actions.stop.trigger()
    qtbot.waitUntil(lambda: run.status == "stopped" and window.session.active is None, timeout=30_000)
    stopped_at = run.history.last_step
    window.runs.set_current(run)
    assert window.actions.continue_run.isEnabled()
    window.actions.continue_run.trigger()
    qtbot.waitUntil(lambda: run.status == "running" and run.history.last_step > stopped_at, timeout=60_000)
    assert any(e.kind == "resume" and e.detail.get("from_checkpoint") for e in run.history.events)
    assert len(window.runs) == 1  # the same run goes on, not a new one
    window.actions.stop.trigger()
    qtbot.waitUntil(lambda: run.status == "stopped" and window.session.active is None, timeout=30_000)


def test_an_engine_that_cannot_load_says_what_to_do(qtbot, app):
    from resviz.gui.engine import EngineLoader

    loader = EngineLoader(modules=("json", "resviz_no_such_module"))
    with qtbot.waitSignal(loader.failed, timeout=10_000) as blocker:
        loader.start()
    assert "resviz_no_such_module" in blocker.args[0] and "Reinstall" in blocker.args[0]
    assert not loader.is_ready and loader.error == blocker.args[0]
