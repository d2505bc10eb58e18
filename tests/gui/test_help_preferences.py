"""Help › Keyboard shortcuts (read from the actions), Getting started, and Preferences (issue 19)."""

from __future__ import annotations

from PySide6 import QtGui, QtWidgets

_TEXT = QtGui.QKeySequence.SequenceFormat.NativeText


def test_the_shortcut_list_has_every_key_of_the_window(window, qtbot):
    from resviz.gui.help import ShortcutsDialog

    window.actions.shortcuts_help.trigger()
    dialog = window.findChild(ShortcutsDialog, "shortcuts_help")
    assert dialog is not None and dialog.isVisible()
    listed = {
        (dialog.table.item(r, 0).text(), dialog.table.item(r, 1).text().split(" — ")[0])
        for r in range(dialog.table.rowCount())
    }
    expected = set()
    for action in window.findChildren(QtGui.QAction):
        for keys in action.shortcuts():
            if not keys.isEmpty() and action.text():
                expected.add((keys.toString(_TEXT), action.text().replace("&", "").rstrip("…").strip()))
    for button in window.findChildren(QtWidgets.QAbstractButton):
        if not button.shortcut().isEmpty():
            expected.add((button.shortcut().toString(_TEXT), button.text().replace("&", "").rstrip("…").strip()))
    assert expected and expected <= listed
    keys = {k for k, _ in listed}
    assert {"Ctrl+R", "Ctrl+K", "Ctrl+D", "Ctrl+E", "Ctrl+Shift+L", "Ctrl+Shift+F"} <= keys
    # a shortcut added later shows up the next time: the list is read, not written down
    extra = QtGui.QAction("Extra thing", window)
    extra.setShortcut(QtGui.QKeySequence("Ctrl+Alt+J"))
    window.addAction(extra)
    again = ShortcutsDialog(window)
    qtbot.addWidget(again)
    assert "Ctrl+Alt+J" in {again.table.item(r, 0).text() for r in range(again.table.rowCount())}


def test_getting_started_walks_the_three_journeys(window):
    from resviz.gui.help import GettingStartedDialog

    assert window.actions.getting_started.shortcut().toString() == "F1"
    window.actions.getting_started.trigger()
    dialog = window.findChild(GettingStartedDialog, "getting_started")
    text = dialog.text.toPlainText()
    for step in ("Train a plain and a residual net", "Inspect what a trained net sees", "Come back to your runs"):
        assert step in text
    assert "Ctrl+K" in text and "Load" in text and "Ctrl+O" in text


def test_preferences_apply_and_remember_every_choice(window, tmp_path):
    from resviz.gui import settings
    from resviz.gui.export import ExportOptions
    from resviz.gui.preferences import PreferencesDialog
    from resviz.gui.theme import theme

    dialog = PreferencesDialog(window)
    assert dialog.theme.currentData() == "dark" and dialog.export_width.value() == 1800
    assert dialog.export_style.currentData() == "publication"
    dialog.theme.setCurrentIndex(dialog.theme.findData("light"))
    dialog.runs_root.setText(str(tmp_path / "my-runs"))
    dialog.data.setCurrentIndex(dialog.data.findData("cifar10"))
    dialog.export_width.setValue(2400)
    dialog.export_formats.setCurrentIndex(dialog.export_formats.findData("png"))
    dialog.accept()
    assert theme().name == "light" and window.actions.light.isChecked()
    assert window.train_tab.controls.data.currentData() == "cifar10"
    assert ExportOptions.remembered() == ExportOptions(2400, "publication", "png")
    assert settings.value("runs/root", "") == str(tmp_path / "my-runs")
    again = PreferencesDialog(window)
    assert (again.theme.currentData(), again.data.currentData(), again.export_width.value()) == (
        "light",
        "cifar10",
        2400,
    )
    again.theme.setCurrentIndex(again.theme.findData("dark"))
    again.reject()  # cancelled: nothing changes
    assert theme().name == "light"
    window.set_theme("dark")
