"""Captum attributions through our wrapper, display helpers, the session's cache and switches."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from resviz.core.errors import ConfigError
from resviz.core.inspect import (
    METHODS,
    Attribution,
    AttributionCache,
    Cancelled,
    CancelToken,
    DecodedImage,
    Inspector,
    heatmap,
    normalize_attr,
    overlay,
)
from resviz.core.inspect.attribution import ig_batch_size
from resviz.core.inspect.preprocess import Preprocess
from resviz.core.models import build_model, level_module

SIZE = 16


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    model = build_model("resnet14").eval()
    for m in model.modules():  # BN with non-trivial statistics: gradients differ per block
        if isinstance(m, torch.nn.BatchNorm2d):
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.normal_(0, 0.1)
    return model


@pytest.fixture
def inspector(net):
    return Inspector.from_model(net, [f"c{i}" for i in range(10)], Preprocess.unit(SIZE))


@pytest.fixture(scope="module")
def image():
    rng = np.random.default_rng(0)
    return DecodedImage.from_array(rng.integers(0, 255, (SIZE, SIZE, 3), dtype=np.uint8), name="noise")


def _x(seed=0):
    return torch.rand(1, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_gives_input_sized_attributions(net, method):
    spec = METHODS[method]
    levels = ["low", "mid", "high"] if spec.uses_level else [None]
    for level in levels:
        out = Attribution(net, method, level, n_steps=8).attribute(_x(), target=3)
        channels = 1 if spec.layer_map else 3
        assert out.shape == (1, channels, SIZE, SIZE), (method, level, out.shape)
        assert torch.isfinite(out).all() and out.abs().sum() > 0
        assert not out.requires_grad


def test_layer_methods_need_a_level_and_others_ignore_it(net):
    with pytest.raises(ConfigError, match="choose low, mid or high"):
        Attribution(net, "gradcam")
    assert Attribution(net, "saliency", "mid").level is None
    with pytest.raises(ConfigError, match="unknown attribution method"):
        Attribution(net, "deeplift-ish")


def test_wrapper_matches_captum_called_directly(net):
    from captum.attr import IntegratedGradients, LayerAttribution, LayerGradCam

    x = _x(1).requires_grad_()
    ours = Attribution(net, "gradcam", "mid").attribute(x, target=2)
    cam = LayerGradCam(net, level_module(net, "mid")).attribute(x, target=2, relu_attributions=True)
    assert torch.allclose(ours, LayerAttribution.interpolate(cam, (SIZE, SIZE), "bilinear"))
    ours = Attribution(net, "ig", n_steps=20).attribute(x, target=2)
    direct = IntegratedGradients(net).attribute(x, target=2, n_steps=20)
    assert torch.allclose(ours, direct, atol=1e-6)


def test_ig_memory_is_bounded_by_internal_batches(net):
    assert ig_batch_size(50, 32, 32) == 50
    assert ig_batch_size(50, 224, 224) == 8
    assert ig_batch_size(50, 4000, 4000) == 1
    x = _x(2)
    chunked = Attribution(net, "ig", n_steps=12, internal_batch_size=5).attribute(x, target=1)
    whole = Attribution(net, "ig", n_steps=12, internal_batch_size=12).attribute(x, target=1)
    assert torch.allclose(chunked, whole, atol=1e-5)


def test_ig_steps_are_bounded(net):
    # 10**8 steps asked Captum's Gauss-Legendre rule for a 10**8 x 10**8 matrix (71 PiB).
    from resviz.core.limits import MAX_IG_STEPS

    for bad in (0, MAX_IG_STEPS + 1, 10**8):
        with pytest.raises(ConfigError, match="Integrated Gradients steps must be a whole number from 1 to 1,000"):
            Attribution(net, "ig", n_steps=bad)
    assert Attribution(net, "ig", n_steps=MAX_IG_STEPS).n_steps == MAX_IG_STEPS


def test_default_target_is_the_top1_class(net):
    x = _x(3)
    top = int(net(x).argmax())
    a = Attribution(net, "saliency")
    assert torch.equal(a.attribute(x), a.attribute(x, target=top))


@pytest.mark.parametrize(
    "method,level", [("saliency", None), ("gradcam", "low"), ("guided-gradcam", "mid"), ("occlusion", None)]
)
def test_a_block_switch_changes_the_attribution(inspector, image, method, level):
    prepared = inspector.prepare(image)
    before = inspector.attribute(prepared, method, level, target=4).attribution
    inspector.set_shortcut(4, False)  # a block of the high level: gradients to every level change
    after = inspector.attribute(prepared, method, level, target=4).attribution
    assert not np.allclose(before, after)
    inspector.reset()
    inspector.set_residual(4, False)
    deleted = inspector.attribute(prepared, method, level, target=4).attribution
    assert not np.allclose(before, deleted)
    inspector.reset()
    assert np.array_equal(inspector.attribute(prepared, method, level, target=4).attribution, before)


def test_cache_hits_and_misses_after_a_switch_or_new_weights(inspector, image):
    prepared = inspector.prepare(image)
    first = inspector.attribute(prepared, "gradcam", "high", target=1)
    assert not first.cached
    again = inspector.attribute(prepared, "gradcam", "high", target=1)
    assert again.cached and np.array_equal(again.attribution, first.attribution)
    assert not inspector.attribute(prepared, "gradcam", "mid", target=1).cached  # other level
    assert not inspector.attribute(prepared, "gradcam", "high", target=2).cached  # other target
    state = inspector.state()
    inspector.set_shortcut(0, False)
    assert inspector.state() != state
    assert not inspector.attribute(prepared, "gradcam", "high", target=1).cached
    inspector.reset()
    assert inspector.state() == state
    assert inspector.attribute(prepared, "gradcam", "high", target=1).cached
    # New weights (a training run moved on) make new keys too.
    weights = {k: v.clone() for k, v in inspector.model.state_dict().items()}
    weights["fc.bias"] += 1.0
    inspector.update_weights(weights)
    assert inspector.state() != state
    assert not inspector.attribute(prepared, "gradcam", "high", target=1).cached
    # ... and so does an in-place change of a parameter.
    state = inspector.state()
    with torch.no_grad():
        inspector.model.conv1.weight.mul_(1.5)
    assert inspector.state() != state


def test_cache_is_bounded_in_bytes():
    cache = AttributionCache(max_bytes=1000)
    for i in range(5):
        cache.put(i, np.zeros(100, dtype=np.float32))  # 400 bytes each
    assert len(cache) == 2 and cache.get(0) is None and cache.get(4) is not None


def test_the_inspector_works_on_a_copy(net, image):
    inspector = Inspector.from_model(net, [str(i) for i in range(10)], Preprocess.unit(SIZE))
    inspector.set_shortcut(2, False)
    assert all(net.shortcuts())  # the training model's switches are untouched
    assert all(p.requires_grad for p in net.parameters())
    assert not any(p.requires_grad for p in inspector.model.parameters())
    prepared = inspector.prepare(image)
    before = inspector.look(prepared).logits
    with torch.no_grad():
        net.fc.bias.add_(5.0)  # the optimizer steps on the original
    try:
        assert np.array_equal(inspector.look(prepared).logits, before)
    finally:
        with torch.no_grad():
            net.fc.bias.sub_(5.0)


def test_cancel_between_levels(inspector, image, monkeypatch):
    prepared = inspector.prepare(image)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        inspector.attribute(prepared, "saliency", token=token)
    calls = []
    token = CancelToken()
    original = Attribution.attribute

    def attribute_then_cancel(self, inputs, target=None):
        calls.append(self.level)
        token.cancel()  # the user dropped another image while the first level ran
        return original(self, inputs, target)

    monkeypatch.setattr(Attribution, "attribute", attribute_then_cancel)
    with pytest.raises(Cancelled):
        inspector.attribute_levels(prepared, "gradcam", token=token)
    assert calls == ["low"]


def test_look_ranks_channels_and_predicts(inspector, image):
    look = inspector.look(inspector.prepare(image), k=5, top_channels=6)
    probs = [p.probability for p in look.predictions]
    assert len(probs) == 5 and probs == sorted(probs, reverse=True) and sum(probs) <= 1.0 + 1e-9
    assert look.predictions[0].index == int(np.argmax(look.logits))
    assert look.predictions[0].name == f"c{look.predictions[0].index}"
    shapes = {lvl: a.maps.shape for lvl, a in look.activations.items()}
    assert shapes == {"low": (6, 16, 16), "mid": (6, 8, 8), "high": (6, 4, 4)}
    for act in look.activations.values():
        assert list(act.means) == sorted(act.means, reverse=True)
        assert np.allclose(act.maps.mean(axis=(1, 2)), act.means, atol=1e-6)
    assert look.activations["high"].total_channels == 64


def test_targets_by_name_and_out_of_range(inspector, image):
    prepared = inspector.prepare(image)
    assert inspector.resolve_target(prepared, "c7") == 7 and inspector.resolve_target(prepared, "3") == 3
    with pytest.raises(ConfigError, match="out of range"):
        inspector.resolve_target(prepared, 10)
    with pytest.raises(ConfigError, match="unknown target class"):
        inspector.resolve_target(prepared, "zebra")


def test_normalize_attr_matches_captums_visualisation():
    from captum.attr._utils.visualization import _normalize_attr

    a = np.random.default_rng(1).normal(size=(9, 7))
    for sign in ("all", "positive", "negative", "absolute_value"):
        assert np.allclose(normalize_attr(a, sign, 2), _normalize_attr(a, sign, 2))
    assert np.array_equal(normalize_attr(np.zeros((3, 3))), np.zeros((3, 3)))
    h = heatmap(torch.ones(1, 3, 4, 5))
    assert h.shape == (4, 5) and np.allclose(h, 1.0)


def test_overlay_blends_by_opacity():
    image = np.full((4, 4, 3), 100, dtype=np.uint8)
    heat = np.linspace(0, 1, 16).reshape(4, 4)
    assert np.array_equal(overlay(image, heat, alpha=0.0), image)
    full = overlay(image, heat, alpha=1.0, cmap="gray")
    assert full[0, 0].tolist() == [0, 0, 0] and full[3, 3].tolist() == [255, 255, 255]
    half = overlay(image, heat, alpha=0.5, cmap="gray")
    assert half.dtype == np.uint8 and half[3, 3].tolist() == [178, 178, 178]
    with pytest.raises(ConfigError, match="opacity"):
        overlay(image, heat, alpha=1.5)
    with pytest.raises(ConfigError, match="colour map"):
        overlay(image, heat, cmap="no-such-map")
