"""The Landscape tab: a net's training loss around its weights, and its twin's on one scale."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from conftest import inspect_tab, load_into

from resviz.core.errors import ResvizError
from resviz.core.runs import RunReader
from resviz.gui.twin import find_twin


def _landscape_tab(window):
    tab = next(
        window.tabs.widget(i)
        for i in range(window.tabs.count())
        if window.tabs.widget(i).objectName() == "landscape_tab"
    )
    window.tabs.setCurrentWidget(tab)
    return tab


def _sweep(tab, qtbot, *, twin: bool, dims: int = 2, grid: int = 3, images: int = 20):
    tab.dims.setCurrentIndex(tab.dims.findData(dims))
    tab.grid.setValue(grid)
    tab.images.setValue(images)
    (tab.with_twin if twin else tab.sweep).click()
    qtbot.waitUntil(lambda: tab.study.result is not None and not tab.study.running, timeout=120_000)
    return tab.study.result


def _mean_loss(loaded, split, n_images: int) -> float:
    """The net's own mean cross-entropy on the sweep's images: the oracle of the centre point."""
    import torch
    import torch.nn.functional as F

    from resviz.core.inspect.subset import limit_indices

    idx = torch.from_numpy(limit_indices(split.labels, n_images))  # the sweep's fixed subset
    with torch.no_grad():
        logits = loaded.model.eval()(loaded.preprocess.batch(split.images[idx]))
        return float(F.cross_entropy(logits, split.labels[idx]))


def test_a_net_and_its_twin_on_one_colour_scale(window, qtbot, twin_runs, tmp_path):
    from resviz.core.landscape import contour_levels

    inspect = inspect_tab(window)
    load_into(inspect, qtbot, twin_runs["resnet8"])
    tab = _landscape_tab(window)
    plain_checkpoint = RunReader(twin_runs["plain8"]).checkpoints()[-1]
    assert tab.twin.checkpoint == plain_checkpoint and "in the same folder, at the same step" in tab.twin.note
    assert tab.with_twin.isEnabled() and tab.with_twin.text() == "Sweep with plain8"
    assert "resnet8 from step_0000020.pt" in tab.net.text()

    result = _sweep(tab, qtbot, twin=True)
    net, twin = result.landscapes
    assert (net.name, twin.name) == ("resnet8", "plain8") and net.loss.shape == twin.loss.shape == (3, 3)
    assert net.n_images == twin.n_images == 20 and net.seed == twin.seed == 0
    # the centre is the trained net itself: its own loss on the same 20 training images
    data = inspect.session.data
    assert net.centre()[0] == pytest.approx(_mean_loss(inspect.session.loaded, data.train, 20), rel=1e-4)

    plot = tab.plot
    assert plot.currentWidget() is plot.surface and all(m.plot.isVisible() for m in plot.maps)
    levels = contour_levels([net, twin], n=len(plot.maps[0].lines))
    both = np.concatenate([net.loss.ravel(), twin.loss.ravel()])
    np.testing.assert_allclose(levels[[0, -1]], [both.min(), both.max()], rtol=1e-12)
    np.testing.assert_allclose(plot.bar.levels(), np.log10([both.min(), both.max()]), rtol=1e-9)
    for m, r in zip(plot.maps, (net, twin), strict=True):
        np.testing.assert_allclose(m.image.image, np.log10(r.loss).T)  # alphas along x
        np.testing.assert_allclose([line.level for line in m.lines], np.log10(levels))  # the same lines in both
        assert m.image.getLevels() == pytest.approx(plot.bar.levels())
        assert f"loss {r.centre()[0]:.3g}" in m.plot.titleLabel.text
    assert "BN in eval mode on the trained running statistics" in tab.note.text()
    # the text says what this sweep measured, for both nets the same way, and the paper's claim as theirs
    from resviz.core.landscape import nonconvex_share

    for r in (net, twin):
        share = nonconvex_share(r.loss)
        assert f"{r.name} {100 * share:.0f}%" in tab.note.text()
    assert "Li et al. report that at 56 and 110 layers" in tab.caption.text()
    assert "A residual net's surface is smooth and its plain twin's rough" not in tab.caption.text()

    rows = list(csv.DictReader(tab.export_to(tmp_path / "l.csv").read_text().splitlines()))
    assert len(rows) == 18 and {r["net"] for r in rows} == {"resnet8", "plain8"}
    centre = next(r for r in rows if r["net"] == "plain8" and float(r["alpha"]) == 0 and float(r["beta"]) == 0)
    assert float(centre["loss"]) == pytest.approx(twin.centre()[0])
    assert json.loads(tab.export_to(tmp_path / "l.json").read_text())["nets"][1]["net"] == "plain8"
    for suffix in (".png", ".svg"):
        assert tab.export_to(tmp_path / f"l{suffix}").stat().st_size > 1000
    from PySide6 import QtGui

    assert QtGui.QImage(str(tmp_path / "l.png")).text("Title").endswith("(Li et al. 2018) — resnet8, plain8")
    with pytest.raises(ResvizError, match=r"\.png, \.svg, \.csv or \.json, not \.txt"):
        tab.export_to(tmp_path / "l.txt")
    assert "loss_landscape" in window.plots()

    # a 1D sweep of the net alone: curves, not maps
    one = _sweep(tab, qtbot, twin=False, dims=1, grid=5)
    assert len(one.landscapes) == 1 and plot.currentWidget() is plot.curves
    x, y = plot.loss_curves[0].getOriginalDataset()  # getData is log10 in log mode
    np.testing.assert_allclose(x, one.landscapes[0].alphas)
    np.testing.assert_allclose(y, one.landscapes[0].loss)
    assert plot.loss_curves[1].getData()[0] is None or len(plot.loss_curves[1].getData()[0]) == 0

    # surgery since: the sweep is of the net before, and says so
    inspect.strip.cells[0].shortcut.click()
    qtbot.waitUntil(lambda: tab.study.stale, timeout=30_000)
    assert "switches changed since" in tab.note.text()


def test_without_a_twin_the_tab_says_why(window, qtbot, tiny_run):
    inspect = inspect_tab(window)
    load_into(inspect, qtbot, tiny_run)
    tab = _landscape_tab(window)
    assert tab.twin.checkpoint is None and "no plain8 run found beside resnet8-run" in tab.twin.note
    assert not tab.with_twin.isEnabled() and tab.sweep.isEnabled() and tab.twin.note in tab.with_twin.toolTip()


def test_cancel_stops_the_sweep(window, qtbot, tiny_run):
    inspect = inspect_tab(window)
    load_into(inspect, qtbot, tiny_run)
    tab = _landscape_tab(window)
    tab.grid.setValue(21)  # 441 points: far longer than the cancel takes
    tab.images.setValue(200)
    seen = []
    tab.study.progress.connect(lambda done, total: seen.append((done, total)))
    tab.sweep.click()
    qtbot.waitUntil(lambda: bool(seen), timeout=60_000)
    assert tab.study.running and tab.cancel.isEnabled() and not tab.sweep.isEnabled()
    tab.cancel.click()
    qtbot.waitUntil(lambda: not tab.study.running, timeout=60_000)
    assert tab.study.result is None and seen[-1][0] < 441 and seen[-1][1] == 441
    assert tab.sweep.isEnabled() and "loss landscape cancelled" in window.status.currentMessage()


def test_find_twin_prefers_the_same_folder_and_says_why_not(twin_runs, tmp_path):
    plain = RunReader(twin_runs["plain8"]).checkpoints()[-1]
    found = find_twin(plain, [])
    assert found.checkpoint == RunReader(twin_runs["resnet8"]).checkpoints()[-1]
    assert found.note.startswith("twin: resnet8 (run resnet8 in the same folder")
    loose = tmp_path / "weights.pt"
    loose.write_bytes(plain.read_bytes())
    assert find_twin(loose, []).checkpoint is None and "not loaded from a run folder" in find_twin(loose, []).note


def test_find_twin_ranks_the_same_folder_and_seed_first(twin_runs, tmp_path):
    import shutil

    exp = tmp_path / "exp"
    shutil.copytree(twin_runs["resnet8"].parent, exp)
    other_seed = exp / "plain8-seed1"
    shutil.copytree(exp / "plain8", other_seed)
    config = json.loads((other_seed / "config.json").read_text())
    (other_seed / "config.json").write_text(json.dumps({**config, "seed": 1}))
    elsewhere = tmp_path / "elsewhere" / "plain8"
    shutil.copytree(exp / "plain8", elsewhere)
    listed = [(elsewhere, json.loads((elsewhere / "config.json").read_text()))]  # the runs list has it too
    resnet = RunReader(exp / "resnet8").checkpoints()[-1]
    assert find_twin(resnet, listed).checkpoint.parent.parent == exp / "plain8"  # same folder, same seed
    shutil.rmtree(exp / "plain8")
    found = find_twin(resnet, listed)
    assert found.checkpoint.parent.parent == other_seed and "in the same folder, another seed" in found.note
    shutil.rmtree(other_seed)
    found = find_twin(resnet, listed)
    assert found.checkpoint.parent.parent == elsewhere and "in another folder" in found.note
    shutil.rmtree(elsewhere / "checkpoints")
    assert find_twin(resnet, listed).checkpoint is None and "has no checkpoint yet" in find_twin(resnet, listed).note
