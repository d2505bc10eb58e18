"""A bare state dict is evaluated at the size its data set says (issue #17, "also seen").

Before, a digits net saved as a bare state dict was evaluated at 32 x 32 (digits upsampled
from the 16 x 16 it learned on): "input: 32x32" and a test error far above the checkpoint's.
"""

from __future__ import annotations

import torch

from resviz.core.inspect import load_model
from resviz.core.inspect.datasets import data_size_for, load_data_for
from resviz.core.models import build_model


def test_a_bare_digits_state_dict_takes_the_digits_size(tmp_path):
    path = tmp_path / "bare.pt"
    torch.save(build_model("resnet8").state_dict(), path)
    loaded = load_model(str(path))
    assert loaded.needs_data_mean
    assert data_size_for(loaded, "digits") is None  # the data set's own size
    loaded, data = load_data_for(loaded, "digits")
    assert tuple(data.test.images.shape[1:]) == (3, 16, 16)
    assert loaded.preprocess.size == 16
    assert "input: 16x16" in loaded.describe()
