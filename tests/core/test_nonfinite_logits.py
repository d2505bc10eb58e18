"""Finite weights that compute NaN or inf (issue #17 item 5): refused, the first bad layer named.

An fc weight of 3e38 overflows float32 in the first dot product; a negative BN running
variance takes the square root of a negative number. Both were "test error 90 %" before.
"""

from __future__ import annotations

import pytest
import torch

from resviz.core.checkpoint import checkpoint_dict
from resviz.core.errors import CheckpointError
from resviz.core.inspect import evaluate, lesion_study, load_model
from resviz.core.inspect.finite import count_wrong, first_nonfinite_layer
from resviz.core.inspect.predict import look
from resviz.core.inspect.preprocess import Preprocess
from resviz.core.models import build_model

LIMIT = 40


@pytest.fixture
def huge_fc():
    torch.manual_seed(0)
    model = build_model("resnet8").eval()
    with torch.no_grad():
        model.fc.weight.fill_(3e38)
    return model


@pytest.fixture
def preprocess(digits):
    return Preprocess.per_pixel_mean(digits.mean)


def test_evaluate_refuses_overflowing_logits_and_names_the_layer(huge_fc, digits, preprocess):
    with pytest.raises(CheckpointError, match=r"NaN or infinite values from layer fc on") as info:
        evaluate(huge_fc, digits.test, preprocess, limit=LIMIT)
    assert "\n" not in str(info.value)


def test_lesion_refuses_overflowing_logits(huge_fc, digits, preprocess):
    with pytest.raises(CheckpointError, match=r"from layer fc on"):
        lesion_study(huge_fc, digits.test, preprocess, limit=LIMIT)


def test_one_image_look_refuses_overflowing_logits(huge_fc):
    with pytest.raises(CheckpointError, match=r"from layer fc on"):
        look(huge_fc, torch.randn(1, 3, 16, 16), [str(i) for i in range(10)])


def test_the_first_nonfinite_layer_is_the_one_that_overflows():
    """A NaN planted in one BN's variance surfaces first in that BN, not in the layers after it."""
    model = build_model("resnet8").eval()
    with torch.no_grad():
        model.layer2[0].bn1.running_var[3] = -1.0  # sqrt(-1 + eps) = NaN
    assert first_nonfinite_layer(model, torch.randn(2, 3, 16, 16)) == "layer2.0.bn1"
    assert first_nonfinite_layer(build_model("resnet8").eval(), torch.randn(2, 3, 16, 16)) is None


def test_counts_are_unchanged_for_finite_logits():
    """3 of 4 wrong top-1 (hand-counted), the top-5 over 6 classes: only the label 5 row misses."""
    logits = torch.tensor(
        [
            [9.0, 1, 2, 3, 4, 5],  # predicts 0, label 0: right
            [9.0, 5, 4, 3, 2, 1],  # predicts 0, label 1: wrong, 1 second in the top 5
            [1.0, 9, 2, 3, 4, 5],  # predicts 1, label 2: wrong, 2 fifth in the top 5
            [5.0, 4, 9, 3, 2, 1],  # predicts 2, label 5: wrong, and 5 is last: a top-5 miss
        ]
    )
    labels = torch.tensor([0, 1, 2, 5])
    assert count_wrong(logits, labels, lambda: None, top5=True) == (3, 1)
    with pytest.raises(CheckpointError, match="in its output"):
        count_wrong(logits.index_fill(1, torch.tensor([3]), float("nan")), labels, lambda: None)


def test_a_negative_running_variance_is_refused_on_load(tmp_path, digits):
    model = build_model("resnet8")
    with torch.no_grad():
        model.layer1[0].bn2.running_var[0] = -5.0
    path = tmp_path / "negvar.pt"
    torch.save(checkpoint_dict(model, classes=digits.classes, mean=digits.mean, dataset="digits", step=10), path)
    with pytest.raises(CheckpointError, match=r"negative running variance in layer1\.0\.bn2 \(-5\)") as info:
        load_model(str(path))
    assert "\n" not in str(info.value)
