"""The one run history (core.runs.history): buffers the app appends to, and the settled-error rule."""

from __future__ import annotations

import numpy as np
import pytest

from resviz.core.records import Event, Record, StatusChange
from resviz.core.runs.history import SETTLE_TAIL, RunHistory, load_history, settled_mean
from resviz.core.runs.store import RunStore
from resviz.core.train.config import TrainConfig


def test_history_grows_and_keeps_vectors_apart_from_scalar_only_records():
    h = RunHistory()
    records = [
        Record(
            step=s,
            scalars={"loss": 1.0 / s, "train_error": 50.0, **({"test_error": 40.0} if s % 100 == 0 else {})},
            vectors={"residual_ratio": np.full(3, s, dtype=np.float32)},
        )
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
    assert h.settled("train_error") == 50.0
    assert h.latest_vector("grad_norm") is None and h.scalar("nothing")[0].size == 0


def test_a_wider_vector_pads_earlier_rows_and_buffers_keep_what_was_appended():
    h = RunHistory()
    h.extend([Record(step=1, vectors={"grad_norm": np.array([1.0, 2.0])})])
    h.extend([Record(step=2, vectors={"grad_norm": np.array([3.0, 4.0, 5.0])})])
    _, matrix = h.vector("grad_norm")
    np.testing.assert_array_equal(matrix[1], [3.0, 4.0, 5.0])
    assert matrix[0, :2].tolist() == [1.0, 2.0] and np.isnan(matrix[0, 2])
    # growing past the first capacity keeps every value where it was
    h.extend([Record(step=s, scalars={"loss": float(s)}) for s in range(3, 600)])
    steps, loss = h.scalar("loss")
    assert steps.tolist() == list(range(3, 600)) and loss.tolist() == [float(s) for s in range(3, 600)]
    assert h.add_events([Event(5, "pause"), Event(6, "resume")]) == 2 and [e.kind for e in h.events] == [
        "pause",
        "resume",
    ]


def test_settled_mean_is_the_mean_of_the_last_five_percent():
    assert SETTLE_TAIL == 0.05
    assert settled_mean([]) is None
    assert settled_mean(np.zeros(0)) is None
    assert settled_mean([7.0]) == 7.0
    # 10 values: 5 % is half a value, rounded to none: at least the last one counts
    assert settled_mean([0.0] * 9 + [4.0]) == 4.0
    # 30 values: 1.5 rounds to the last 2
    assert settled_mean([100.0] * 28 + [2.0, 4.0]) == pytest.approx(3.0)
    # 70 values: 3.5 rounds to the last 4
    assert settled_mean([100.0] * 66 + [1.0, 2.0, 3.0, 6.0]) == pytest.approx(3.0)
    # 100 values: exactly the last 5; another tail share is honoured
    values = list(range(100))
    assert settled_mean(values) == pytest.approx((95 + 96 + 97 + 98 + 99) / 5)
    assert settled_mean(values, tail=0.1) == pytest.approx(sum(range(90, 100)) / 10)


def test_final_errors_are_the_settled_training_error_and_the_last_test_error():
    h = RunHistory()
    assert h.final_errors() == {"train_error": None, "test_error": None}
    h.extend(
        [
            Record(step=s, scalars={"train_error": float(s), **({"test_error": 100.0 - s} if s % 10 == 0 else {})})
            for s in range(1, 41)
        ]
    )
    # 40 values: the last 2 (39 and 40); the last test error is at step 40
    assert h.final_errors() == {"train_error": pytest.approx(39.5), "test_error": pytest.approx(60.0)}


def _write_run(path, config: TrainConfig, records, events=()):
    layout = {"residual_ratio": ["layer1.0"], "grad_norm": ["conv1", "fc"]}
    store = RunStore.create(path, config=config.to_dict(), layout=layout, versions={})
    for r in records:
        store.record(r)
    for e in events:
        store.event(e)
    store.status(StatusChange("finished"))
    store.close()
    return layout


def test_load_history_reads_a_run_folder_with_its_name_kind_and_layout(tmp_path):
    records = [
        Record(step=s, scalars={"train_error": 10.0, "loss": 1.0}, vectors={"grad_norm": np.array([1.0, 2.0])})
        for s in (5, 10)
    ]
    layout = _write_run(tmp_path / "plain8", TrainConfig(arch="resnet8", plain=True), records, [Event(10, "finished")])
    h = load_history(tmp_path / "plain8")
    assert h.label == "plain8" and h.plain  # the folder is named as the run: no repeat
    assert h.layout == layout and [e.kind for e in h.events] == ["finished"]
    assert h.steps.tolist() == [5, 10] and h.latest_vector("grad_norm").tolist() == [1.0, 2.0]
    assert h.final_errors()["train_error"] == 10.0

    _write_run(tmp_path / "20240101-x", TrainConfig(arch="resnet8", shortcut="B"), records)
    h = load_history(tmp_path / "20240101-x")
    assert h.label == "resnet8-B (20240101-x)" and not h.plain
    assert load_history(tmp_path / "20240101-x", label="mine").label == "mine"
