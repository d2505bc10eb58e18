"""The training form's table of fields: first-launch values, save and restore, TrainConfig."""

from __future__ import annotations

import pytest

from resviz.gui.controls import DEFAULTS, FIELDS, TrainControls
from resviz.gui.form_values import read_widget

#: A value other than the default for every field (a new field needs one here).
CHANGED = {
    "depth": 56,
    "shortcuts": False,
    "option": "B",
    "compare": False,
    "data": "cifar10",
    "data_path": "/data/cifar",
    "download": True,
    "iters": 1234,
    "batch_size": 64,
    "lr": 0.05,
    "warmup": True,
    "schedule": "scaled",
    "device": "cpu",
    "compile": False,
    "telemetry_every": 7,
    "eval_every": 33,
    "depths": "20, 32, 44",
    "seeds": 3,
    "scope": "run",
}


@pytest.fixture
def make_controls(app, qtbot):
    from PySide6 import QtWidgets

    from resviz.gui.actions import WindowActions

    windows = []  # kept alive: the form is a child of its window

    def make() -> TrainControls:
        windows.append(QtWidgets.QMainWindow())
        qtbot.addWidget(windows[-1])
        return TrainControls(WindowActions(windows[-1]), parent=windows[-1])

    return make


def _values(controls: TrainControls) -> dict:
    return {f.name: read_widget(getattr(controls, f.name)) for f in FIELDS}


def test_the_form_opens_on_the_defaults(make_controls):
    assert set(CHANGED) == set(DEFAULTS) == {f.name for f in FIELDS}
    assert all(CHANGED[name] != default for name, default in DEFAULTS.items())
    controls = make_controls()
    assert _values(controls) == DEFAULTS
    c = controls.base_config()
    assert (c.arch, c.shortcut, c.data, c.iters, c.device) == ("resnet20", None, "digits", 600, "auto")
    assert c.compile == "auto"  # the checkbox starts checked: compile where it pays (CUDA)
    assert c.schedule == "paper"  # auto: 600 iterations end before the paper's first drop (issue #18)
    assert c.milestone_steps() == [32_000, 48_000]


def test_every_field_is_saved_and_restored(make_controls):
    from resviz.gui.form_values import write_widget

    first = make_controls()
    for f in FIELDS:
        write_widget(getattr(first, f.name), CHANGED[f.name], f.default)
    assert _values(first) == CHANGED  # every changed value is one the widget can hold
    first.save()
    second = make_controls()
    assert _values(second) == CHANGED
    config = second.base_config()
    # The fields that go into a TrainConfig as they are, and those worked out from several.
    for f in FIELDS:
        if f.config is not None:
            want = f.to_config(CHANGED[f.name]) if f.to_config else CHANGED[f.name]
            assert getattr(config, f.config) == want, f.name
    assert (config.arch, config.shortcut, config.data, config.data_root) == ("plain56", None, "cifar10", "/data/cifar")
    assert config.download


def test_a_saved_value_the_form_no_longer_offers_falls_back_to_the_default(make_controls):
    from resviz.gui import settings

    settings.settings().setValue("train/device", "tpu")
    settings.settings().setValue("train/depth", 21)
    controls = make_controls()
    assert controls.device.currentData() == "auto" and controls.depth.currentData() == DEFAULTS["depth"]
