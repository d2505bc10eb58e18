"""Small pieces: event labels, stage ticks, heatmap binning, worker threads."""

from __future__ import annotations

import numpy as np

from resviz.core.records import Event
from resviz.gui.plots.base import stage_ticks
from resviz.gui.plots.curves import event_label
from resviz.gui.plots.heatmap import binned_columns, robust_levels
from resviz.gui.worker import worker_threads


def test_event_labels_name_what_changed():
    assert event_label(Event(5, "shortcuts", {"shortcuts": [False, False]})) == "shortcuts off"
    assert event_label(Event(5, "shortcuts", {"shortcuts": [True, False, True]})) == "1/3 shortcuts off"
    assert event_label(Event(5, "shortcuts", {"shortcuts": [True]})) == "shortcuts on"
    assert event_label(Event(5, "lr_drop", {"lr": 0.01})) == "lr 0.01"
    assert event_label(Event(5, "pause")) == "paused"
    assert event_label(Event(5, "checkpoint", {"path": "x"})) is None
    assert event_label(Event(5, "resume", {"from_checkpoint": True})) == "resumed"


def test_stage_ticks_sit_in_the_middle_of_each_stage():
    names = ["conv1", "layer1.0.conv1", "layer1.0.conv2", "layer2.0.conv1", "layer2.0.conv2", "fc"]
    levels = {"layer1": "low", "layer2": "mid"}
    assert stage_ticks(names, levels) == [(0.0, "conv1"), (1.5, "layer1 · low"), (3.5, "layer2 · mid"), (5.0, "fc")]
    assert stage_ticks(names, levels, short=True)[1] == (1.5, "low")


def test_heatmap_binning_and_levels():
    steps = np.arange(10, 50_010, 10)
    matrix = np.tile(np.arange(4.0), (len(steps), 1))
    matrix[:3, 1] = np.nan  # a layer not measured at first
    s, m = binned_columns(steps, matrix, 1200)
    assert len(s) <= 1200 and m.shape[1] == 4 and np.isfinite(m[:, 1]).all()
    lo, hi = robust_levels(np.array([1.0, 1.0, 1.0]))
    assert hi > lo  # a flat image still gets a usable colour range
    assert robust_levels(np.full(3, np.nan)) == (0.0, 1.0)


def test_worker_threads():
    assert worker_threads(2) == 1 and worker_threads(1) == 1 and worker_threads(8) == 7
    assert worker_threads(32) is None
