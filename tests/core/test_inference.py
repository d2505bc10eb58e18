"""The BN-folded inference copy (issue #11) against the eval-mode original.

Tolerance: folding reorders the float32 arithmetic of each conv+BN pair (one multiply
moved into the weights, the shift into a bias), so logits agree to float32 rounding
accumulated over the net: ``atol = 1e-4 * max|logit|``, ``rtol = 1e-4``, for every switch
setting tried. On the digits set the lesion study's wrong counts are identical.
"""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from resviz.core.inference import fold_bn, fold_model, inference_copy, to_input_format
from resviz.core.models import build_model


def _randomise_bn(model: nn.Module, seed: int = 0) -> nn.Module:
    """Non-trivial BN statistics and affine parameters (He init leaves them at 0 and 1)."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.rand(n, generator=g) - 0.5)
            m.running_var.copy_(0.5 + torch.rand(n, generator=g))
            m.weight.data.copy_(0.5 + torch.rand(n, generator=g))
            m.bias.data.copy_(0.4 * torch.rand(n, generator=g) - 0.2)
    return model.eval()


def _close(got: torch.Tensor, want: torch.Tensor) -> None:
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4 * float(want.abs().max()))


def test_fold_bn_is_the_pair_in_eval_mode():
    torch.manual_seed(0)
    conv, bn = nn.Conv2d(3, 8, 3, padding=1, bias=False), _randomise_bn(nn.BatchNorm2d(8))
    x = torch.randn(2, 3, 6, 6)
    with torch.no_grad():
        # Hand-computed oracle: gamma * (conv(x) - mean) / sqrt(var + eps) + beta.
        z = conv(x)
        want = (
            bn.weight[:, None, None]
            * (z - bn.running_mean[:, None, None])
            / torch.sqrt(bn.running_var[:, None, None] + bn.eps)
            + bn.bias[:, None, None]
        )
        _close(fold_bn(conv, bn)(x), want)


SWITCHES = [
    ("intact", lambda m: None),
    ("plain", lambda m: m.set_shortcuts(False)),
    ("first shortcut off", lambda m: m.set_shortcuts([i != 0 for i in range(len(m.blocks()))])),
    ("a downsampling block's branch deleted", lambda m: m.set_residuals([not b.downsamples for b in m.blocks()])),
    ("last branch deleted", lambda m: m.set_residuals([i != len(m.blocks()) - 1 for i in range(len(m.blocks()))])),
]


@pytest.mark.parametrize(
    "arch,size", [("resnet14", 16), ("resnet8-B", 16), ("resnet8-C", 16), ("resnet18", 64), ("resnet50", 64)]
)
@pytest.mark.parametrize("channels_last", [False, True])
def test_folded_copy_matches_the_original_for_every_switch_setting(arch, size, channels_last):
    torch.manual_seed(0)
    name, _, option = arch.partition("-")
    original = _randomise_bn(build_model(name, num_classes=10, shortcut=option or None))
    x = torch.randn(3, 3, size, size)
    for _label, switch in SWITCHES:
        model = copy.deepcopy(original)
        switch(model)
        work = inference_copy(model, channels_last=channels_last)
        assert not any(isinstance(m, nn.BatchNorm2d) for m in work.modules())
        assert work.shortcuts() == model.shortcuts() and work.residuals() == model.residuals()
        with torch.no_grad():
            want = model(x)
            got = work(to_input_format(x, work))
        _close(got, want)
        # Switching on the copy acts as switching on the original (branches stay separable).
        model.set_shortcuts(True)
        work.set_shortcuts(True)
        with torch.no_grad():
            _close(work(to_input_format(x, work)), model(x))


def test_the_original_is_untouched_and_training_models_are_refused():
    torch.manual_seed(0)
    model = build_model("resnet8", num_classes=10).train()
    before = copy.deepcopy(model.state_dict())
    work = inference_copy(model)
    assert model.training and any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])
    assert not work.training and all(not p.requires_grad for p in work.parameters())
    with pytest.raises(ValueError, match="eval mode"):
        fold_model(model)


def test_lesion_counts_are_identical_on_digits(trained_resnet14, digits):
    from resviz.core.inspect import lesion_study
    from resviz.core.inspect.evaluation import evaluate
    from resviz.core.inspect.preprocess import Preprocess

    pre = Preprocess.per_pixel_mean(digits.mean)
    model = copy.deepcopy(trained_resnet14)
    model.set_shortcuts([i != 1 for i in range(len(model.blocks()))])  # one switch off: skipped lesions too
    fast = lesion_study(model, digits.test, pre)
    reference = lesion_study(model, digits.test, pre, fold=False, reuse_prefix=False)
    assert fast.intact_wrong == reference.intact_wrong
    assert fast.residual_wrong == reference.residual_wrong
    assert fast.shortcut_wrong == reference.shortcut_wrong
    assert fast.shortcut_wrong[1] == fast.intact_wrong  # that shortcut was off already
    assert evaluate(model, digits.test, pre).wrong == evaluate(model, digits.test, pre, fold=False).wrong
    assert model.shortcuts()[1] is False and any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
