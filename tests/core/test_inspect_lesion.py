"""Shortcut surgery, the test error, and Veit et al.'s lesion study with prefix reuse."""

from __future__ import annotations

import csv
import io
import json

import pytest
import torch

from resviz.core.errors import ConfigError, DataError
from resviz.core.inspect import CancelToken, Cancelled, Surgery, evaluate, lesion_figure, lesion_study, save_figure
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
    result = evaluate(trained, digits.test, preprocess, limit=LIMIT, batch_size=50)
    with torch.no_grad():
        logits = trained(preprocess.batch(digits.test.images[:LIMIT]))
    labels = digits.test.labels[:LIMIT]
    assert result.n_images == LIMIT
    assert result.error == pytest.approx(100.0 * float((logits.argmax(1) != labels).float().mean()))
    top5 = (logits.topk(5, dim=1).indices == labels[:, None]).any(1)
    assert result.top5_error == pytest.approx(100.0 * float((~top5).float().mean()))
    assert result.error < 60  # trained: the lesion numbers below mean something
    with pytest.raises(DataError, match="no test images"):
        evaluate(trained, digits.test, preprocess, limit=0)


def test_prefix_reuse_gives_exactly_the_naive_errors(trained, digits, preprocess):
    kwargs = dict(limit=LIMIT, batch_size=50)  # chunks of 50, 50, 20: the partial chunk counts too
    reused = lesion_study(trained, digits.test, preprocess, reuse_prefix=True, **kwargs)
    naive = lesion_study(trained, digits.test, preprocess, reuse_prefix=False, **kwargs)
    assert reused.residual_error == naive.residual_error
    assert reused.shortcut_error == naive.shortcut_error
    assert reused.intact_error == naive.intact_error
    assert reused.intact_error == evaluate(trained, digits.test, preprocess, limit=LIMIT).error
    assert all(trained.shortcuts()) and all(trained.residuals())  # every lesion was undone
    # The paper's point: removing a shortcut hurts more than deleting that residual branch,
    # and some single lesion must change the error at all.
    assert sum(reused.shortcut_error) > sum(reused.residual_error)
    assert any(e != reused.intact_error for e in reused.residual_error + reused.shortcut_error)


def test_a_single_lesion_matches_switching_it_by_hand(trained, digits, preprocess):
    study = lesion_study(trained, digits.test, preprocess, limit=LIMIT)
    trained.set_residuals([True, True, True, False, True, True])
    try:
        by_hand = evaluate(trained, digits.test, preprocess, limit=LIMIT).error
    finally:
        trained.set_residuals(True)
    assert study.residual_error[3] == pytest.approx(by_hand)


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
    assert float(rows[0]["residual_deleted_error"]) == pytest.approx(result.residual_error[0])
    data = json.loads(result.to_json())
    assert data["n_images"] == 40 and len(data["blocks"]) == 6 and data["reuse_prefix"] is True
    path = save_figure(lesion_figure(result), tmp_path / "lesion.png")
    from PIL import Image

    with Image.open(path) as im:
        assert im.size[0] > 300 and im.size[1] > 200
