"""Small pieces: history buffers, event labels, stage ticks, ETA, worker threads."""

from __future__ import annotations

import numpy as np

from resviz.core.records import Event, Record
from resviz.gui.history import RunHistory
from resviz.gui.plots.base import stage_ticks
from resviz.gui.plots.curves import event_label
from resviz.gui.plots.heatmap import binned_columns, robust_levels
from resviz.gui.status import format_eta
from resviz.gui.worker import worker_threads


def test_history_grows_and_keeps_vectors_apart_from_scalar_only_records():
    h = RunHistory()
    records = [
        Record(step=s, scalars={"loss": 1.0 / s, "train_error": 50.0, **({"test_error": 40.0} if s % 100 == 0 else {})},
               vectors={"residual_ratio": np.full(3, s, dtype=np.float32)})
        for s in range(10, 5010, 10)
    ]
    assert h.extend(records) == 500 and len(h) == 500 and h.capacity >= 500
    h.extend([Record(step=5005, scalars={"loss": 0.5})])  # a stop between telemetry steps: no vectors
    steps, test = h.scalar("test_error")
    assert list(steps[:2]) == [100, 200] and len(test) == 50
    assert h.last_step == 5005 and h.last_scalar("loss") == 0.5
    np.testing.assert_array_equal(h.latest_vector("residual_ratio"), [5000, 5000, 5000])
    vsteps, matrix = h.vector("residual_ratio")
    assert matrix.shape == (500, 3) and vsteps[-1] == 5000
    assert h.mean_of_tail("train_error") == 50.0
    assert h.latest_vector("grad_norm") is None and h.scalar("nothing")[0].size == 0


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


def test_eta_format_and_worker_threads():
    assert format_eta(32) == "0:32" and format_eta(725) == "12:05" and format_eta(7380) == "2:03:00"
    assert format_eta(None) == "?" and format_eta(float("nan")) == "?"
    assert worker_threads(2) == 1 and worker_threads(1) == 1 and worker_threads(8) == 7
    assert worker_threads(32) is None
