"""The report's four panels (core.report), drawn from histories built by hand."""

from __future__ import annotations

import numpy as np

from resviz.core.records import Event, Record
from resviz.core.report import draw_report, save_report
from resviz.core.runs.history import RunHistory


def _history(label: str, plain: bool, *, vectors: bool = True) -> RunHistory:
    h = RunHistory(label, plain=plain)
    for s in range(10, 110, 10):
        vec = (
            {
                "residual_ratio": np.array([0.5, 0.25, 0.125]),
                "response_std": np.array([3.0, 1.0, 2.0]),
                "grad_norm": np.array([1e-3, 0.0, 1.0]),
            }
            if vectors
            else {}
        )
        h.extend(
            [
                Record(
                    step=s,
                    scalars={"train_error": 100.0 - s / 2, **({"test_error": 60.0} if s % 50 == 0 else {})},
                    vectors=vec,
                )
            ]
        )
    h.add_events([Event(50, "lr_drop", {"lr": 0.01}), Event(60, "pause")])
    return h


def test_each_panel_draws_each_run_from_its_history():
    res, plain = _history("resnet8", False), _history("plain8", True)
    fig = draw_report([res, plain], title="two nets")
    errors, stds, ratios, grads = fig.axes
    assert fig._suptitle.get_text() == "two nets"
    # errors: a thin training curve and a bold test curve per run, plain ones dashed
    train, test = errors.lines[0], errors.lines[1]
    np.testing.assert_array_equal(train.get_xdata(), np.arange(10, 110, 10))
    np.testing.assert_array_equal(train.get_ydata(), 100.0 - np.arange(10, 110, 10) / 2)
    np.testing.assert_array_equal(test.get_xdata(), [50, 100])
    assert test.get_linewidth() > train.get_linewidth() and train.get_linestyle() == "-"
    plain_lines = [ln for ln in errors.lines if ln.get_linestyle() == "--"]
    assert len(plain_lines) == 2  # the plain net's two curves
    # the lr drop is marked once per run; the pause is not
    assert [ln.get_xdata()[0] for ln in errors.lines if ln.get_linestyle() == ":"] == [50, 50]
    assert [t.get_text() for t in errors.get_legend().get_texts()] == ["resnet8", "plain8"]
    # Fig. 7: the stds in layer order, and sorted from the largest down
    np.testing.assert_array_equal(stds.lines[0].get_ydata(), [3.0, 1.0, 2.0])
    np.testing.assert_array_equal(stds.lines[1].get_ydata(), [3.0, 2.0, 1.0])
    assert stds.get_yscale() == "log"
    np.testing.assert_array_equal(ratios.lines[0].get_ydata(), [0.5, 0.25, 0.125])
    # gradient norms on a log axis: a zero is drawn at 1e-12 rather than lost
    np.testing.assert_array_equal(grads.lines[0].get_ydata(), [1e-3, 1e-12, 1.0])
    assert grads.get_yscale() == "log"


def test_runs_without_vector_metrics_leave_those_panels_empty(tmp_path):
    fig = draw_report([_history("resnet8", False, vectors=False)])
    assert len(fig.axes[0].lines) >= 2 and all(len(ax.lines) == 0 for ax in fig.axes[1:])
    out = save_report([_history("resnet8", False)], tmp_path / "sub" / "report.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_fig7_draws_the_test_batch_measurement_and_names_a_fallback():
    new, old = _history("resnet8", False), _history("plain8 (old run)", True)
    new.extend([Record(step=110, scalars={}, vectors={"test_response_std": np.array([0.5, 0.75, 0.25])})])
    fig = draw_report([new, old])
    stds = fig.axes[1]
    np.testing.assert_array_equal(stds.lines[0].get_ydata(), [0.5, 0.75, 0.25])  # not the training batch's 3, 1, 2
    np.testing.assert_array_equal(stds.lines[2].get_ydata(), [3.0, 1.0, 2.0])  # the old run falls back
    labels = [t.get_text() for t in stds.get_legend().get_texts()]
    assert labels[0] == "resnet8, layer order" and labels[2] == "plain8 (old run) (training batch), layer order"
    assert "test images, BN eval" in stds.get_title() and "training batch" in stds.get_title()
    only_new = draw_report([new]).axes[1].get_title()
    assert only_new.endswith("test images, BN eval")
