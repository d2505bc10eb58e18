"""Export (plots as PNG/SVG, metrics as CSV), remembered settings, bad settings, themes."""

from __future__ import annotations

import csv

from conftest import set_tiny
from PySide6 import QtGui


def _train_one(window, qtbot, iters=12):
    controls = window.train_tab.controls
    set_tiny(controls, iters=iters)
    controls.compare.setChecked(False)
    window.actions.start.trigger()
    run = window.runs.runs[-1]
    qtbot.waitUntil(lambda: run.status == "finished", timeout=90_000)
    return run


def test_export_every_plot_and_the_metrics(window, qtbot, tmp_path):
    run = _train_one(window, qtbot)
    written = window.export_plots_to(tmp_path / "plots")
    names = {p.name for p in written}
    for plot in (
        "error",
        "loss",
        "residual_ratio",
        "residual_ratio_history",
        "response_std",
        "response_std_sorted",
        "grad_norm",
        "grad_norm_history",
    ):
        assert f"{plot}.png" in names and f"{plot}.svg" in names
    image = QtGui.QImage(str(tmp_path / "plots" / "error.png"))
    assert image.width() >= 400 and image.height() >= 200
    assert "<svg" in (tmp_path / "plots" / "grad_norm.svg").read_text()

    rows = window.export_metrics_to(run, tmp_path / "m.csv")
    with open(tmp_path / "m.csv") as f:
        table = list(csv.DictReader(f))
    assert rows == len(table) > 0
    assert list(table[0]) == ["step", "metric", "index", "value"]
    metrics = {r["metric"] for r in table}
    assert {"loss", "train_error", "test_error", "residual_ratio", "response_std", "grad_norm"} <= metrics
    assert all(r["index"] == "" for r in table if r["metric"] == "loss")
    assert {r["index"] for r in table if r["metric"] == "residual_ratio"} == {"0", "1", "2"}


def test_bad_settings_are_explained_and_start_nothing(window):
    controls = window.train_tab.controls
    controls.data.setCurrentIndex(controls.data.findData("folder"))
    controls.data_path.setText("")
    window.actions.start.trigger()
    assert len(window.runs) == 0
    assert "choose the image folder" in controls.problem.text()
    controls.data.setCurrentIndex(controls.data.findData("digits"))
    controls.depths.setText("20")
    window.actions.degradation.trigger()
    assert len(window.runs) == 0 and "two depths" in controls.problem.text()
    controls.depths.setText("20, 21")
    window.actions.degradation.trigger()
    assert len(window.runs) == 0 and "6n+2" in controls.problem.text()


def test_a_missing_data_folder_fails_the_run_not_the_app(window, qtbot, tmp_path):
    controls = window.train_tab.controls
    set_tiny(controls)
    controls.compare.setChecked(False)
    controls.data.setCurrentIndex(controls.data.findData("folder"))
    controls.data_path.setText(str(tmp_path / "no-such-images"))
    window.actions.start.trigger()
    run = window.runs.runs[-1]
    qtbot.waitUntil(lambda: run.status == "failed", timeout=60_000)
    assert run.reason and str(tmp_path / "no-such-images") in run.reason
    assert window.last_error == run.reason
    assert window.session.active is None and window.actions.start.isEnabled()  # the app goes on


def test_choices_geometry_and_theme_are_remembered(app, qtbot):
    from resviz.gui.app import create_window
    from resviz.gui.theme import theme

    first = create_window()
    qtbot.addWidget(first)
    first.show()
    first.resize(1300, 800)
    first.train_tab.controls.iters.setValue(4321)
    first.train_tab.controls.compare.setChecked(False)
    first.set_theme("light")
    first.actions.log_scale.setChecked(True)
    first.close()

    second = create_window()
    qtbot.addWidget(second)
    assert (second.width(), second.height()) == (1300, 800)
    assert second.train_tab.controls.iters.value() == 4321
    assert not second.train_tab.controls.compare.isChecked()
    assert theme().name == "light" and second.actions.light.isChecked()
    assert second.actions.log_scale.isChecked() and second.train_tab.curves.error.ctrl.logYCheck.isChecked()
    app.processEvents()
    bg = second.palette().color(QtGui.QPalette.ColorRole.Window)
    assert bg.lightness() > 200  # a light palette, readable dark text
    second.set_theme("dark")
    app.processEvents()  # widgets take a new application palette through the event loop
    assert second.palette().color(QtGui.QPalette.ColorRole.Window).lightness() < 80
    second.close()


def test_every_control_has_a_tooltip(window):
    from PySide6 import QtWidgets

    controls = window.train_tab.controls
    kinds = (
        QtWidgets.QComboBox,
        QtWidgets.QSpinBox,
        QtWidgets.QDoubleSpinBox,
        QtWidgets.QCheckBox,
        QtWidgets.QLineEdit,
        QtWidgets.QToolButton,
    )
    missing = [
        w.objectName() or type(w).__name__
        for w in controls.findChildren(QtWidgets.QWidget)
        if isinstance(w, kinds)
        and not isinstance(w.parent(), (QtWidgets.QComboBox, QtWidgets.QAbstractSpinBox))
        and not w.toolTip()
        and not (isinstance(w, QtWidgets.QToolButton) and w.defaultAction())
    ]
    assert not missing
    for action in window.findChildren(QtGui.QAction):
        if action.text() and not action.isSeparator() and action.menu() is None:
            assert action.toolTip(), action.text()
