"""Shortcut surgery and the lesion study in the Inspect tab."""

from __future__ import annotations

import csv
import threading

import numpy as np
import pytest
from conftest import inspect_tab, load_into, wait_for_view

from resviz.core.errors import ResvizError


def _snapshot(tab):
    s = tab.session
    return s.look.logits.copy(), {k: m.attribution.copy() for k, m in s.maps.items()}


def test_switching_blocks_changes_predictions_and_attributions_and_reset_restores(window, qtbot, tiny_run):
    tab = inspect_tab(window)
    load_into(tab, qtbot, tiny_run)
    tab.gallery.pick(0)
    wait_for_view(tab, qtbot)
    logits0, maps0 = _snapshot(tab)
    strip = tab.strip
    assert [c.label.text() for c in strip.cells] == ["1.0", "2.0 ↓", "3.0 ↓"]  # depth order, downsampling marked
    assert not strip.reset.isEnabled() and strip.changed.text() == "as loaded"

    strip.cells[1].residual.click()  # delete the mid block's residual branch
    qtbot.waitUntil(lambda: not tab.session.blocks[1].residual_on, timeout=30_000)
    wait_for_view(tab, qtbot)
    logits1, maps1 = _snapshot(tab)
    assert not np.allclose(logits1, logits0)
    assert not np.allclose(maps1["low"], maps0["low"])  # the net downstream of layer1 changed
    assert not strip.cells[1].residual.isChecked() and strip.changed.text() == "1 switch changed"

    strip.cells[2].shortcut.click()  # and the high block's shortcut off
    qtbot.waitUntil(lambda: not tab.session.blocks[2].shortcut_on, timeout=30_000)
    wait_for_view(tab, qtbot)
    logits2, _ = _snapshot(tab)
    assert not np.allclose(logits2, logits1) and strip.changed.text() == "2 switches changed"

    strip.reset.click()
    qtbot.waitUntil(lambda: tab.session.switches_changed() == 0, timeout=30_000)
    wait_for_view(tab, qtbot)
    logits3, maps3 = _snapshot(tab)
    np.testing.assert_allclose(logits3, logits0, rtol=1e-6, atol=1e-6)
    for key, values in maps0.items():
        np.testing.assert_array_equal(maps3[key], values)
        assert tab.session.maps[key].cached  # the original net's maps come back from the cache
    assert all(c.shortcut.isChecked() and c.residual.isChecked() for c in strip.cells)


def test_lesion_study_shows_bars_and_exports(window, qtbot, tiny_run, tmp_path):
    tab = inspect_tab(window)
    load_into(tab, qtbot, tiny_run)
    panel = tab.lesion
    tab.views.setCurrentWidget(panel)  # its tab in front, as a person clicking Run has it
    assert panel.run.isEnabled() and not panel.export.isEnabled() and panel.limit.value() == 1000
    panel.limit.setValue(120)
    panel.run.click()
    qtbot.waitUntil(lambda: tab.session.study.result is not None and not tab.session.study.running, timeout=60_000)
    result = tab.session.study.result
    assert result.n_images == 120 and len(result.blocks) == 3
    chart = panel.chart
    np.testing.assert_allclose(chart.residual_bars.opts["height"], result.residual_error)
    np.testing.assert_allclose(chart.shortcut_bars.opts["height"], result.shortcut_error)
    assert chart.intact.isVisible() and chart.intact.value() == result.intact_error
    assert "resnet8 with one block lesioned, 120 test images" in chart.plot.titleLabel.text
    assert panel.export.isEnabled() and panel.progress.value() == panel.progress.maximum()

    rows = list(csv.DictReader(panel.export_to(tmp_path / "lesion.csv").read_text().splitlines()))
    assert [r["name"] for r in rows] == ["layer1.0", "layer2.0", "layer3.0"]
    assert [int(r["residual_deleted_wrong"]) for r in rows] == result.residual_wrong
    assert "120 test images (12 per class)" in chart.plot.titleLabel.text  # 120 digits, stratified
    for suffix in (".png", ".svg"):
        written = panel.export_to(tmp_path / f"lesion{suffix}")
        assert written.stat().st_size > 1000
    with pytest.raises(ResvizError, match=r"as \.csv, \.png or \.svg, not \.txt"):
        panel.export_to(tmp_path / "lesion.txt")
    assert "lesion_study" in window.plots()  # File > Export plots takes the chart too

    # a switch changed since: the chart says the result is of the net before
    tab.strip.cells[0].shortcut.click()
    qtbot.waitUntil(lambda: tab.session.study.stale, timeout=30_000)
    assert "run it again" in chart.plot.titleLabel.text


def test_a_cancelled_lesion_study_leaves_the_panel_ready(window, qtbot, tiny_run):
    tab = inspect_tab(window)
    load_into(tab, qtbot, tiny_run)
    gate = threading.Event()
    # Hold the lesion thread so the study is still queued when Cancel is pressed.
    tab.session.study.worker.submit(lambda job: gate.wait(10), "hold")
    tab.lesion.run.click()
    assert tab.session.study.running and tab.lesion.cancel.isEnabled() and not tab.lesion.run.isEnabled()
    tab.lesion.cancel.click()
    gate.set()
    qtbot.waitUntil(lambda: not tab.session.study.running, timeout=30_000)
    assert tab.session.study.result is None and tab.lesion.run.isEnabled() and not tab.lesion.cancel.isEnabled()
    assert "cancelled" in window.status.currentMessage()
