"""Issue #13's views in the Inspect tab: what a channel sees, the neuron view, before/after
surgery, and the method menu's groups."""

from __future__ import annotations

import threading

import numpy as np
from conftest import inspect_tab, load_into, wait_for_view
from PySide6 import QtCore

from resviz.core.inspect.methods import METHODS

#: resnet8's receptive fields by hand: the stem's 3x3 conv sees 3 px, each further 3x3 conv
#: adds 2 x the jump: block 1 (jump 1): 3 + 2 + 2 = 7; stage 2 (the first conv strides 2):
#: 7 + 2 = 9, then jump 2: 9 + 4 = 13; stage 3: 13 + 4 = 17, then jump 4: 17 + 8 = 25.
FIELDS = {"low": 7, "mid": 13, "high": 25}
CHANNELS = {"low": 16, "mid": 32, "high": 64}


def _run_features(tab, qtbot, images: int, channels: int):
    view = tab.features
    tab.views.setCurrentWidget(view)
    view.images.setValue(images)
    view.channels.setValue(channels)
    view.run.click()
    qtbot.waitUntil(
        lambda: tab.session.features.result is not None and not tab.session.features.running, timeout=60_000
    )
    return tab.session.features.result


def test_the_feature_grid_shows_each_levels_channels_and_opens_one(window, qtbot, tiny_run, digits):
    from resviz.core.inspect.feature_figures import channel_mosaic

    tab = inspect_tab(window)
    load_into(tab, qtbot, tiny_run)
    tab.gallery.pick(3)
    wait_for_view(tab, qtbot)
    result = _run_features(tab, qtbot, images=40, channels=4)
    view = tab.features
    assert result.n_images == 40 and result.k == 9 and [lv.level for lv in result.levels] == ["low", "mid", "high"]
    for lv in result.levels:
        assert lv.channels == CHANNELS[lv.level] and lv.field.size == FIELDS[lv.level]
        # A field larger than the 16 px digit (high: 25 px) is cut to the image (issue #19 item 10).
        side = min(FIELDS[lv.level], 16)
        assert lv.patches.shape == (CHANNELS[lv.level], 9, side, side, 3)
        shown = view.grid.shown(lv.level)
        assert shown == [int(c) for c in lv.ranked(4)] and len(shown) == 4
    cells = view.grid.cells()
    assert len(cells) == 12 and all(r.width() >= 16 for _lv, _c, r in cells)
    assert "as loaded, over 40 test images of digits" in view.state.text()
    assert view.progress.text().startswith("40 images")

    # a click on a cell opens the channel: its patches at full size, then its neuron view
    level, channel, rect = next(c for c in cells if c[0] == "mid")
    mosaic = channel_mosaic(result["mid"], channel)
    assert mosaic.shape == (3 * 13 + 2, 3 * 13 + 2, 3)  # 3 x 3 patches with 1 px gaps
    qtbot.mouseClick(view.grid, QtCore.Qt.MouseButton.LeftButton, pos=rect.center())
    assert view.pages.currentWidget() is view.detail and f"channel {channel}" in view.detail.title.text()
    lv = result["mid"]
    valid = np.flatnonzero(lv.valid[channel])
    patches = view.detail.patches.patches
    assert len(patches) == len(valid) > 0
    for patch, j in zip(patches, valid, strict=True):
        # Recut from the test image here, stored by the pass: the field is small enough to be
        # stored at full size, so both must be the same pixels.
        assert patch.image == int(lv.images[channel, j]) and abs(patch.value - float(lv.values[channel, j])) < 1e-6
        np.testing.assert_array_equal(patch.rgb, lv.patches[channel, j])
    qtbot.waitUntil(lambda: tab.session.neuron is not None, timeout=30_000)
    neuron = tab.session.neuron
    assert (neuron.level, neuron.channel) == (level, channel) and neuron.map.channel == channel
    assert neuron.map.method == "neuron-gradient" and neuron.map.attribution.shape == (3, 16, 16)
    assert view.detail.neuron.canvas.has_image

    # a patch's source image: a click shows it in the tab
    first = view.detail.patches.cells()[0]
    qtbot.mouseClick(view.detail.patches, QtCore.Qt.MouseButton.LeftButton, pos=first.center())
    assert tab.session.image.name.startswith(f"digits test image {patches[0].image} (labelled ")
    np.testing.assert_array_equal(tab.session.image.rgb, digits.test.images[patches[0].image].permute(1, 2, 0).numpy())
    view.detail.back_button.click()
    assert view.pages.currentIndex() == 0


def test_surgery_makes_the_result_stale_and_going_back_shows_it_again(window, qtbot, tiny_run):
    tab = inspect_tab(window)
    load_into(tab, qtbot, tiny_run)
    first = _run_features(tab, qtbot, images=30, channels=2)
    study, view = tab.session.features, tab.features
    tab.strip.cells[1].residual.click()  # the mid block's residual branch deleted
    qtbot.waitUntil(lambda: study.stale, timeout=30_000)
    assert study.result is first and "run it again" in view.state.text() and view.run.text() == "Run again"
    view.run.click()
    qtbot.waitUntil(lambda: study.result is not first and not study.running, timeout=60_000)
    lesioned = study.result
    assert not study.stale and "with 1 block switched" in view.state.text()
    # with the mid block's branch gone only its shortcut (1 x 1, stride 2) is left there: the
    # mid field stays at the low level's 7 (the jump doubles to 2), the high one is 7 + 4 + 8 = 19
    assert lesioned["mid"].field.size == 7 and lesioned["high"].field.size == 19
    tab.strip.reset.click()
    qtbot.waitUntil(lambda: study.result is first, timeout=30_000)  # remembered: no new pass
    assert not study.stale and not study.running

    # the same checkpoint loaded again: the same net, shown at once
    load_into(tab, qtbot, tiny_run)
    assert study.result is first and not study.running


def test_cancel_stops_the_feature_pass(window, qtbot, tiny_run):
    tab = inspect_tab(window)
    load_into(tab, qtbot, tiny_run)
    study, view = tab.session.features, tab.features
    tab.views.setCurrentWidget(view)
    gate = threading.Event()
    study.worker.submit(lambda job: gate.wait(10), "hold")  # the pass waits in the queue
    view.run.click()
    assert study.running and view.cancel.isEnabled() and not view.run.isEnabled()
    view.cancel.click()
    gate.set()
    qtbot.waitUntil(lambda: not study.running, timeout=30_000)
    assert study.result is None and view.run.isEnabled() and not view.cancel.isEnabled()
    assert "feature pass cancelled" in window.status.currentMessage()


def test_a_dead_channel_says_so(window, qtbot, tiny_run, digits):
    """A channel that is zero everywhere has no patches: the grid and the enlarged view say so."""
    import torch

    from resviz.core.inspect import load_model
    from resviz.core.inspect.features import top_activations

    tab = inspect_tab(window)
    load_into(tab, qtbot, tiny_run)
    loaded = load_model(tiny_run).with_data(digits.classes, digits.mean)
    model = loaded.model
    with torch.no_grad():  # low-level channel 0: the stem's and the block's BN output -1 there
        for bn in (model.bn1, model.layer1[0].bn2):
            bn.weight[0], bn.bias[0] = 0.0, -1.0
    result = top_activations(model, digits.test, loaded.preprocess, levels=("low",), limit=20)
    assert result["low"].dead[0] and not result["low"].dead[1:].any()
    grid = tab.features.grid
    grid.set_result(result, 16)
    assert grid.shown("low")[-1] == 0  # dead channels last
    tab.features.detail.show_channel(result["low"], 0, result.n_images)
    assert not tab.features.detail.patches.patches and "dead ReLU" in tab.features.detail.patches.placeholder


def test_the_neuron_view_attributes_the_clicked_channel(window, qtbot, tiny_run):
    tab = inspect_tab(window)
    load_into(tab, qtbot, tiny_run)
    tab.gallery.pick(2)
    wait_for_view(tab, qtbot)
    tab.views.setCurrentWidget(tab.activations)
    grid = tab.activations.grids["high"]
    cols, _rows, side, area = grid._grid()
    x0 = area.x() + (area.width() - cols * side) // 2
    pos = QtCore.QPoint(x0 + side + side // 2, area.y() + side // 2)  # row 0, column 1: rank 2
    assert grid.cell_at(QtCore.QPointF(pos)) == 1
    qtbot.mouseClick(grid, QtCore.Qt.MouseButton.LeftButton, pos=pos)
    clicked = int(grid.activations.channels[1])
    assert tab.session.channel == ("high", clicked)
    qtbot.waitUntil(lambda: tab.session.neuron is not None, timeout=30_000)
    m = tab.session.neuron.map
    assert m.channel == clicked and m.level == "high" and m.method == "neuron-gradient"
    assert tab.activations.neuron.canvas.has_image and f"high ch. {clicked}" in tab.activations.neuron.canvas.caption()
    assert tab.activations.enlarged.has_image and f"ch. {clicked}" in tab.activations.enlarged.caption()

    # Neuron IG for the same channel; "What it sees" takes it to the feature grid
    tab.activations.neuron.method.setCurrentIndex(tab.activations.neuron.method.findData("neuron-ig"))
    qtbot.waitUntil(
        lambda: tab.session.neuron is not None and tab.session.neuron.map.method == "neuron-ig", timeout=30_000
    )
    assert tab.session.neuron.map.channel == clicked
    tab.activations.what_it_sees.click()
    assert tab.views.currentWidget() is tab.features and "Run the pass" in tab.features.state.text()


def test_before_and_after_surgery_the_intact_maps_come_from_the_cache(window, qtbot, tiny_run, monkeypatch):
    from resviz.core.inspect.attribution import Attribution

    calls = []
    captum = Attribution.attribute

    def counted(self, *args, **kwargs):
        calls.append(args)
        return captum(self, *args, **kwargs)

    monkeypatch.setattr(Attribution, "attribute", counted)
    tab = inspect_tab(window)
    load_into(tab, qtbot, tiny_run)
    tab.gallery.pick(4)
    wait_for_view(tab, qtbot)
    view, s = tab.attributions, tab.session
    before = {k: m.attribution.copy() for k, m in s.maps.items()}
    assert len(calls) == 3 and not any(p.isVisible() for p in view.intact_panels.values())
    assert not view.intact_header.isVisible()

    tab.strip.cells[2].shortcut.click()  # the high block's shortcut off
    qtbot.waitUntil(lambda: s.switches_changed() == 1 and len(s.intact_maps) == 3 and not s.busy, timeout=30_000)
    wait_for_view(tab, qtbot)
    assert len(calls) == 6  # the altered net's three maps only: the intact ones cost nothing
    for key, m in s.intact_maps.items():
        assert m.cached and np.array_equal(m.attribution, before[key])
        assert not np.allclose(s.maps[key].attribution, before[key])  # the surgery changed what it sees
        assert view.intact_panels[key].isVisible() and view.intact_panels[key].has_image
        assert view.intact_panels[key].caption().startswith("intact · ")
        assert view.panels[key].caption().startswith("after surgery · ")
    assert view.intact_header.isVisible() and "as loaded" in view.intact_header.text()
    assert "After surgery" in view.altered_header.text() and "1 switch changed" in view.altered_header.text()
    assert [cell.info.shortcut_on for cell in tab.strip.cells] == [True, True, False]  # and the net stays cut

    tab.strip.reset.click()
    qtbot.waitUntil(lambda: s.switches_changed() == 0 and not s.busy, timeout=30_000)
    assert not view.intact_header.isVisible() and not any(p.isVisible() for p in view.intact_panels.values())
    assert view.panels["low"].caption().startswith("low level")


def test_the_method_menu_groups_level_input_and_neuron_methods(window):
    tab = inspect_tab(window)
    combo = tab.attributions.method
    model = combo.model()
    rows = [
        (combo.itemText(i), combo.itemData(i), bool(model.item(i).flags() & QtCore.Qt.ItemFlag.ItemIsSelectable))
        for i in range(combo.count())
    ]
    headers = [text for text, data, selectable in rows if data is None and text and not selectable]
    assert headers == [
        "Level methods: low · mid · high side by side",
        "Input methods: one map of the pixels",
        "Neuron methods: each level's most active channel",
    ]
    names = [data for _text, data, selectable in rows if data is not None and selectable]
    assert sorted(names) == sorted(METHODS) and len(names) == len(METHODS)
    group = None
    for text, data, _sel in rows:
        if data is None and text:
            group = text
        elif data is not None:
            spec = METHODS[data]
            expected = headers[2] if spec.uses_channel else headers[0] if spec.uses_level else headers[1]
            assert group == expected, data
