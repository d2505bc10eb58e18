"""Preferences: the training threads, remembered, and the one rule behind "auto"."""

from __future__ import annotations

from resviz.gui.worker import worker_threads


def test_worker_threads_rule_and_preference():
    assert worker_threads(2) == 1 and worker_threads(4) == 3 and worker_threads(16) is None
    assert worker_threads(2, preference=2) == 2 and worker_threads(16, preference=3) == 3
    assert worker_threads(2, preference=0) == worker_threads(2)  # 0 is "auto"


def test_dialog_remembers_the_choice_and_runs_get_it(app, qtbot):
    from resviz.gui.preferences import PreferencesDialog, training_threads

    dialog = PreferencesDialog()
    qtbot.addWidget(dialog)
    assert dialog.threads.value() == 0 and dialog.threads.text().startswith("auto")
    assert training_threads(cpus=2) == 1
    dialog.threads.setValue(2)
    dialog.accept()
    assert training_threads(cpus=2) == 2
    again = PreferencesDialog()
    qtbot.addWidget(again)
    assert again.threads.value() == 2
    again.threads.setValue(0)
    again.reject()  # cancelled: the choice stays
    assert training_threads(cpus=2) == 2


def test_window_has_a_preferences_action_and_queued_runs_take_the_threads(window, qtbot):
    from resviz.gui import settings
    from resviz.gui.preferences import THREADS_KEY

    assert window.actions.preferences in window.menuBar().actions()[0].menu().actions()
    settings.settings().setValue(THREADS_KEY, 2)
    (run,) = window.session.enqueue([window.train_tab.controls.base_config(arch="resnet8")])
    assert run.config["threads"] == 2
    window.session.stop()


def test_the_auto_label_follows_the_rule_the_worker_applies(monkeypatch):
    """The dialog once showed "auto (1)" on a 2-core machine where OMP_NUM_THREADS=3 made the
    worker leave torch at 3 threads: the label now asks the worker's own rule."""
    from resviz.core import cores
    from resviz.gui.preferences import auto_threads_text

    monkeypatch.setattr(cores, "usable_cores", lambda: 4)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert auto_threads_text(4) == "3"  # a core left to the window
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert auto_threads_text(4) == "3, from OMP_NUM_THREADS"
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert auto_threads_text(4) == "1, from OMP_NUM_THREADS"
    monkeypatch.delenv("OMP_NUM_THREADS")
    monkeypatch.setattr(cores, "usable_cores", lambda: 16)
    assert auto_threads_text(16) == "torch's default on 16 cores"
