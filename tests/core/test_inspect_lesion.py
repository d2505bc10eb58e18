"""Shortcut surgery, the test error, and Veit et al.'s lesion study with prefix reuse."""

from __future__ import annotations

import csv
import io
import json

import pytest
import torch

from resviz.core.errors import ConfigError, DataError
from resviz.core.inspect import Cancelled, CancelToken, Surgery, evaluate, lesion_figure, lesion_study, save_figure
from resviz.core.inspect.preprocess import Preprocess
from resviz.core.models import build_model

LIMIT = 120


@pytest.fixture
def trained(trained_resnet14):
    return trained_resnet14


@pytest.fixture(scope="module")
def preprocess(digits):
    return Preprocess.per_pixel_mean(digits.mean)


def test_block_by_block_equals_the_whole_net(trained):
    x = torch.randn(3, 3, 16, 16)
    h = trained.stem(x)
    for block in trained.blocks():
        h = block(h)
    with torch.no_grad():
        assert torch.allclose(trained.head(h), trained(x), atol=1e-6)


def test_surgery_switches_and_reset():
    model = build_model("resnet14")
    surgery = Surgery(model)
    surgery.set_shortcut(2, False)
    surgery.set_residual(5, False)
    blocks = surgery.blocks()
    assert len(surgery) == 6 and surgery.changed
    assert [b.shortcut_on for b in blocks] == [True, True, False, True, True, True]
    assert [b.residual_on for b in blocks] == [True] * 5 + [False]
    assert [b.downsamples for b in blocks] == [False, False, True, False, True, False]
    assert [b.name for b in blocks][:3] == ["layer1.0", "layer1.1", "layer2.0"]
    assert [b.level for b in blocks] == ["low", "low", "mid", "mid", "high", "high"]
    surgery.reset()
    assert not surgery.changed and all(model.shortcuts()) and all(model.residuals())
    with pytest.raises(ConfigError, match="block 6 does not exist"):
        surgery.set_shortcut(6, False)
    with surgery.lesioned("residual", 1):
        assert model.residuals()[1] is False
    assert all(model.residuals())


def test_evaluate_counts_errors(trained, digits, preprocess):
    from resviz.core.inspect.subset import stratified_subset

    result = evaluate(trained, digits.test, preprocess, limit=LIMIT, batch_size=50)
    idx = stratified_subset(digits.test.labels, LIMIT)
    with torch.no_grad():
        logits = trained(preprocess.batch(digits.test.images[idx]))
    labels = digits.test.labels[idx]
    assert result.n_images == LIMIT
    assert result.wrong == int((logits.argmax(1) != labels).sum())
    assert result.error == pytest.approx(100.0 * result.wrong / LIMIT)
    top5 = (logits.topk(5, dim=1).indices == labels[:, None]).any(1)
    assert result.wrong5 == int((~top5).sum())
    assert result.error < 60  # trained: the lesion numbers below mean something
    with pytest.raises(DataError, match="no test images"):
        evaluate(trained, digits.test, preprocess, limit=0)


def test_prefix_reuse_gives_exactly_the_naive_errors(trained, digits, preprocess):
    kwargs = dict(limit=LIMIT, batch_size=50)  # chunks of 50, 50, 20: the partial chunk counts too
    reused = lesion_study(trained, digits.test, preprocess, reuse_prefix=True, **kwargs)
    naive = lesion_study(trained, digits.test, preprocess, reuse_prefix=False, **kwargs)
    # Exact counts compared, never percentages computed two ways.
    assert reused.residual_wrong == naive.residual_wrong
    assert reused.shortcut_wrong == naive.shortcut_wrong
    assert reused.intact_wrong == naive.intact_wrong
    assert reused.intact_wrong == evaluate(trained, digits.test, preprocess, limit=LIMIT).wrong
    assert all(trained.shortcuts()) and all(trained.residuals())  # every lesion was undone
    # The paper's point: removing a shortcut hurts more than deleting that residual branch,
    # and some single lesion must change the error at all.
    assert sum(reused.shortcut_wrong) > sum(reused.residual_wrong)
    assert any(w != reused.intact_wrong for w in reused.residual_wrong + reused.shortcut_wrong)


def test_a_single_lesion_matches_switching_it_by_hand(trained, digits, preprocess):
    study = lesion_study(trained, digits.test, preprocess, limit=LIMIT)
    trained.set_residuals([True, True, True, False, True, True])
    try:
        by_hand = evaluate(trained, digits.test, preprocess, limit=LIMIT).wrong
    finally:
        trained.set_residuals(True)
    assert study.residual_wrong[3] == by_hand


def test_progress_and_cancellation(trained, digits, preprocess):
    seen = []
    lesion_study(trained, digits.test, preprocess, limit=60, batch_size=30, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1][0] == seen[-1][1] == 2 * (1 + 2 * 6)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    token = CancelToken()

    def cancel_soon(done, total):
        if done >= 4:
            token.cancel()

    with pytest.raises(Cancelled):
        lesion_study(trained, digits.test, preprocess, limit=60, progress=cancel_soon, token=token)
    assert all(trained.shortcuts()) and all(trained.residuals())


def test_result_exports(trained, digits, preprocess, tmp_path):
    result = lesion_study(trained, digits.test, preprocess, limit=40)
    rows = list(csv.DictReader(io.StringIO(result.to_csv())))
    assert len(rows) == 6 and rows[2]["name"] == "layer2.0" and rows[2]["downsamples"] == "True"
    assert int(rows[0]["residual_deleted_wrong"]) == result.residual_wrong[0]
    assert float(rows[0]["residual_deleted_error"]) == pytest.approx(result.residual_error[0], abs=0.005)
    data = json.loads(result.to_json())
    assert data["n_images"] == 40 and len(data["blocks"]) == 6 and data["reuse_prefix"] is True
    path = save_figure(lesion_figure(result), tmp_path / "lesion.png")
    from PIL import Image

    with Image.open(path) as im:
        assert im.size[0] > 300 and im.size[1] > 200


# -- issue #9: one percentage formula, exact counts, a stratified --limit -------------------


def _labelled_by_the_net(model, data, preprocess, n, wrong):
    """``n`` test images the net is sure about, labelled with its own top-1 prediction except
    ``wrong`` of them, which get its least likely class: exactly ``wrong`` errors, whatever
    the machine's float rounding (no image is near a tie)."""
    from resviz.core.data import ImageSet

    with torch.no_grad():
        logits = model(preprocess.batch(data.images))
    top2 = logits.topk(2, dim=1).values
    sure = torch.nonzero(top2[:, 0] - top2[:, 1] > 1e-2).flatten()[:n]
    assert len(sure) == n
    labels = logits[sure].argmax(1)
    labels[:wrong] = logits[sure[:wrong]].argmin(1)
    return ImageSet(data.images[sure].clone(), labels)


def test_lesion_and_eval_give_the_same_count_and_the_same_percentage(trained, digits, preprocess):
    # 50 of 120: wrong * (100 / n) is 41.66666666666667, 100 * wrong / n 41.666666666666664.
    data = _labelled_by_the_net(trained, digits.test, preprocess, 120, 50)
    study = lesion_study(trained, data, preprocess, batch_size=50)
    result = evaluate(trained, data, preprocess)
    assert study.intact_error == result.error  # both from metrics.error_percent
    assert study.intact_wrong == result.wrong == 50 and study.n_images == result.n_images == 120
    assert result.error == pytest.approx(100 * 50 / 120)


def test_error_percent_is_the_one_formula():
    from resviz.core.metrics import display_percent, error_percent

    assert error_percent(50, 120) == 100 * 50 / 120
    assert error_percent(0, 0) == 0.0 and error_percent(3, 3) == 100.0
    import numpy as np

    grid = error_percent(np.array([[50, 0], [120, 7]]), 120)  # a loss landscape's counts
    assert grid.dtype == np.float64 and grid.shape == (2, 2)
    assert [float(v) for v in grid.ravel()] == [error_percent(w, 120) for w in (50, 0, 120, 7)]
    assert display_percent(249 * (100 / 1000)) == 24.9  # 24.900000000000002 on screen before
    assert display_percent(None) is None


def test_lesion_exports_exact_counts_and_rounded_percentages(trained, digits, preprocess):
    data = _labelled_by_the_net(trained, digits.test, preprocess, 120, 50)
    result = lesion_study(trained, data, preprocess)
    d = json.loads(result.to_json())
    assert d["intact_wrong"] == 50 and d["intact_error"] == 41.67 and d["n_images"] == 120
    assert d["residual_wrong"] == result.residual_wrong and len(d["residual_wrong"]) == 6
    for count, shown in zip(d["shortcut_wrong"], d["shortcut_error"], strict=True):
        assert shown == round(100 * count / 120, 2) and len(repr(shown).split(".")[-1]) <= 2
    rows = list(csv.DictReader(io.StringIO(result.to_csv())))
    assert [int(r["residual_deleted_wrong"]) for r in rows] == result.residual_wrong
    for r in rows:
        assert len(r["shortcut_removed_error"].split(".")[-1]) <= 2
        assert float(r["shortcut_removed_error"]) == round(100 * int(r["shortcut_removed_wrong"]) / 120, 2)


def test_limit_is_a_fixed_class_stratified_subset():
    from resviz.core.data import ImageSet
    from resviz.core.inspect.subset import class_counts, stratified_subset

    # 1,000 images in class order, as a folder of CIFAR-10 lists them: 100 per class.
    labels = torch.arange(10).repeat_interleave(100)
    idx = stratified_subset(labels, 100)
    assert torch.bincount(labels[idx], minlength=10).tolist() == [10] * 10  # not 100 airplanes
    assert torch.equal(idx, stratified_subset(labels, 100))  # fixed: the same images every time
    assert len(set(idx.tolist())) == 100 and idx.tolist() == sorted(idx.tolist())
    assert idx.tolist() != list(range(0, 1000, 10))  # seeded, not every tenth image
    # Unequal classes: shares by largest remainder, the counts add up to the limit.
    labels = torch.tensor([0] * 50 + [1] * 30 + [2] * 20)
    counts = torch.bincount(labels[stratified_subset(labels, 7)], minlength=3).tolist()
    assert counts == [4, 2, 1] and sum(counts) == 7  # 3.5, 2.1, 1.4 -> 3+1, 2, 1
    assert stratified_subset(labels, 100) is None and stratified_subset(labels, None) is None
    assert class_counts(labels, ["a", "b", "c"]) == {"a": 50, "b": 30, "c": 20}
    # The evaluation of a limit uses that subset and reports it.
    model = build_model("resnet8")
    data = ImageSet(torch.zeros(1000, 3, 8, 8, dtype=torch.uint8), torch.arange(10).repeat_interleave(100))
    result = evaluate(model, data, Preprocess.unit(8), limit=100, classes=[f"c{i}" for i in range(10)])
    assert result.n_images == 100 and result.class_counts == {f"c{i}": 10 for i in range(10)}
    study = lesion_study(model, data, Preprocess.unit(8), limit=30)
    assert study.class_counts == {str(i): 3 for i in range(10)}
