"""Training from the window: curves fill, pause/resume/stop, shortcut switches, closing."""

from __future__ import annotations

import json

from conftest import curve_len, set_tiny


def _items(window, run):
    return window.train_tab.curves._items[run]


def test_start_trains_plain_and_residual_and_the_curves_fill(window, qtbot):
    controls = window.train_tab.controls
    set_tiny(controls, iters=20)
    assert controls.compare.isChecked()  # the default: a comparison, so the first click trains both
    window.actions.start.trigger()
    runs = window.runs.runs
    assert [r.name for r in runs] == ["plain8", "resnet8"]
    qtbot.waitUntil(lambda: all(r.status == "finished" for r in runs), timeout=120_000)
    # panels redraw one per short tick (RedrawQueue): wait until the last records are drawn
    qtbot.waitUntil(
        lambda: all(curve_len(_items(window, r).train) == len(r.history.scalar("train_error")[0]) for r in runs),
        timeout=30_000,
    )
    for run in runs:
        x, y = _items(window, run).train.getData()
        assert x is not None and len(x) == len(run.history.scalar("train_error")[0]) >= 5
        tx, _ = _items(window, run).test.getData()
        assert len(tx) >= 2  # evaluated at steps 10 and 20
        assert run.history.latest_vector("residual_ratio").shape == (3,)  # resnet8: 3 blocks
        assert len(run.layout["grad_norm"]) == len(run.history.latest_vector("grad_norm"))
        assert (run.run_dir / "status.json").is_file()
    assert runs[0].plain and not runs[1].plain
    # bars and heatmaps show the current run (the last one started)
    assert window.runs.current is runs[1]
    qtbot.waitUntil(lambda: len(window.train_tab.residuals.bars.opts["height"]) == 3, timeout=30_000)
    assert window.train_tab.gradients.heatmap.image.image is not None


def test_pause_resume_shortcuts_and_stop(window, qtbot):
    controls = window.train_tab.controls
    set_tiny(controls, iters=100_000)
    controls.compare.setChecked(False)
    controls.shortcuts.setChecked(True)
    window.actions.start.trigger()
    run = window.runs.runs[-1]
    qtbot.waitUntil(lambda: len(run.history) >= 2, timeout=60_000)

    window.actions.pause.trigger()
    qtbot.waitUntil(lambda: run.status == "paused", timeout=20_000)
    assert window.actions.pause.isChecked() and window.actions.pause.text() == "Resume"
    seen = len(run.history)
    qtbot.wait(500)
    assert len(run.history) == seen  # nothing trains while paused

    window.actions.pause.trigger()
    qtbot.waitUntil(lambda: run.status == "running" and len(run.history) > seen, timeout=20_000)

    assert window.actions.shortcuts.isEnabled() and window.actions.shortcuts.text() == "Turn shortcuts off"
    window.actions.shortcuts.trigger()  # switch every shortcut off mid-run
    qtbot.waitUntil(lambda: run.shortcuts is not None and not any(run.shortcuts), timeout=20_000)
    qtbot.waitUntil(lambda: window.actions.shortcuts.text() == "Turn shortcuts on", timeout=10_000)
    kinds = [e.kind for e in run.history.events]
    assert "pause" in kinds and "shortcuts" in kinds

    def labels():  # the marker labels on the error plot's top axis (merged per step with " · ")
        return [part for _, text in window.train_tab.curves.marker_labels for part in text.split(" · ")]

    qtbot.waitUntil(lambda: {"paused", "shortcuts off"} <= set(labels()), timeout=30_000)

    window.actions.stop.trigger()
    # the status arrives first, then the thread ends and the session lets the run go
    qtbot.waitUntil(lambda: run.status == "stopped" and window.session.active is None, timeout=30_000)
    status = json.loads((run.run_dir / "status.json").read_text())
    assert status["status"] == "stopped"
    assert list((run.run_dir / "checkpoints").glob("*.pt"))  # the engine saves one on stop


def test_closing_during_training_stops_and_checkpoints(app, qtbot):
    """Closing stops the whole group and waits for every net's final checkpoint."""
    from resviz.gui.app import create_window

    win = create_window()
    qtbot.addWidget(win)
    win.show()
    win.engine.start()
    qtbot.waitUntil(lambda: win.engine.is_ready, timeout=90_000)
    set_tiny(win.train_tab.controls, iters=100_000)
    win.actions.start.trigger()  # a comparison: plain8 and resnet8 train together
    runs = win.runs.runs
    qtbot.waitUntil(lambda: all(len(r.history) >= 1 for r in runs), timeout=60_000)
    win.close()
    assert [r.status for r in runs] == ["stopped", "stopped"]
    steps = set()
    for run in runs:
        status = json.loads((run.run_dir / "status.json").read_text())
        assert status["status"] == "stopped" and status["step"] >= 2
        steps.add(status["step"])
        ckpts = list((run.run_dir / "checkpoints").glob("*.pt"))
        assert ckpts and not list((run.run_dir / "checkpoints").glob("*.tmp*"))
    assert len(steps) == 1  # a group stop: both at the same step
