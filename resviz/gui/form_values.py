"""Reading and writing the value a form widget holds, whatever its kind: one place for the
training form's remembered settings (:mod:`.controls`) to go through."""

from __future__ import annotations

from PySide6 import QtWidgets

__all__ = ["FormInput", "read_widget", "select_data", "write_widget"]

FormInput = (
    QtWidgets.QComboBox | QtWidgets.QCheckBox | QtWidgets.QSpinBox | QtWidgets.QDoubleSpinBox | QtWidgets.QLineEdit
)


def read_widget(widget: FormInput) -> bool | int | float | str:
    """The value a widget of the form holds (a combo's item data)."""
    if isinstance(widget, QtWidgets.QComboBox):
        return widget.currentData()
    if isinstance(widget, QtWidgets.QCheckBox):
        return widget.isChecked()
    if isinstance(widget, QtWidgets.QLineEdit):
        return widget.text()
    return widget.value()


def write_widget(widget: FormInput, value: bool | int | float | str, default: bool | int | float | str) -> None:
    """Show ``value`` in a widget of the form (a combo without that item shows ``default``)."""
    if isinstance(widget, QtWidgets.QComboBox):
        select_data(widget, value, default)
    elif isinstance(widget, QtWidgets.QCheckBox):
        widget.setChecked(bool(value))
    elif isinstance(widget, QtWidgets.QLineEdit):
        widget.setText(str(value))
    else:
        widget.setValue(value)


def select_data(combo: QtWidgets.QComboBox, data: object, fallback: object) -> None:
    """Select the item whose data equals ``data`` (else ``fallback``)."""
    for wanted in (data, fallback):
        for i in range(combo.count()):
            if str(combo.itemData(i)) == str(wanted):
                combo.setCurrentIndex(i)
                return
