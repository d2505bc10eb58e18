"""Issue #13's Captum methods: each one the display's shape, each one Captum's own numbers.

Every comparison calls Captum directly on the same frozen net, inputs, target and
references, and post-processes as the display does (layer maps: summed over channels and
upsampled with LayerAttribution.interpolate). Both sides run the same float32 code, so the
tolerance is tight: rtol 1e-5, atol 1e-7.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum import attr as ca

from resviz.core.errors import ConfigError
from resviz.core.inspect import METHODS, Attribution, DecodedImage, Inspector, heatmap
from resviz.core.inspect.attribution import level_channels, noise_std, seeded, shap_baselines
from resviz.core.inspect.preprocess import Preprocess
from resviz.core.models import build_model, level_module

SIZE = 16
TOL = {"rtol": 1e-5, "atol": 1e-7}
NEW = (
    "conductance",
    "layer-ig",
    "layer-gradxact",
    "layer-deeplift",
    "layer-activation",
    "deeplift",
    "gradientshap",
    "smoothgrad",
    "smoothgrad-ig",
    "neuron-gradient",
    "neuron-ig",
)


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    model = build_model("resnet8").eval()
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.normal_(0, 0.1)
    for p in model.parameters():
        p.requires_grad_(False)  # as the inspector's frozen copy
    return model


def _x(seed=0):
    return torch.rand(1, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(seed)) - 0.5


def _layer_map(a):
    return ca.LayerAttribution.interpolate(a.sum(dim=1, keepdim=True), (SIZE, SIZE), interpolate_mode="bilinear")


def _direct(net, method, level, x, target, channel):
    """Captum called directly, with the settings the wrapper documents."""
    xi = x.detach().clone().requires_grad_(True)
    layer = level_module(net, level) if level else None
    steps = {"n_steps": 8, "internal_batch_size": 8}
    select = lambda out: out[:, channel].mean(dim=(1, 2))  # noqa: E731  the channel's mean activation
    if method == "conductance":
        return _layer_map(ca.LayerConductance(net, layer).attribute(xi, target=target, **steps))
    if method == "layer-ig":
        return _layer_map(ca.LayerIntegratedGradients(net, layer).attribute(xi, target=target, **steps))
    if method == "layer-gradxact":
        return _layer_map(ca.LayerGradientXActivation(net, layer).attribute(xi, target=target))
    if method == "layer-deeplift":
        return _layer_map(ca.LayerDeepLift(net, layer).attribute(xi, target=target))
    if method == "layer-activation":
        return _layer_map(ca.LayerActivation(net, layer).attribute(xi))
    if method == "deeplift":
        return ca.DeepLift(net).attribute(xi, target=target)
    if method == "neuron-gradient":
        return ca.NeuronGradient(net, layer).attribute(xi, neuron_selector=select)
    if method == "neuron-ig":
        return ca.NeuronIntegratedGradients(net, layer).attribute(xi, neuron_selector=select, **steps)
    with seeded(0, xi.device):
        if method == "gradientshap":
            return ca.GradientShap(net).attribute(xi, baselines=shap_baselines(xi), target=target, n_samples=16)
        nt = ca.NoiseTunnel(ca.Saliency(net) if method == "smoothgrad" else ca.IntegratedGradients(net))
        extra = {"abs": True} if method == "smoothgrad" else steps
        return nt.attribute(
            xi,
            nt_type="smoothgrad",
            nt_samples=16 if method == "smoothgrad" else 8,
            stdevs=noise_std(xi),
            target=target,
            **extra,
        )


@pytest.mark.parametrize("method", NEW)
def test_new_method_has_the_display_shape_and_matches_captum(net, method):
    import warnings

    spec = METHODS[method]
    level = "mid" if spec.uses_level else None
    x = _x(1)
    channel = Attribution(net, method, level).default_channel(x) if spec.uses_channel else None
    ours = Attribution(net, method, level, n_steps=8, channel=channel).attribute(x, target=3)
    assert ours.shape == (1, 1 if spec.layer_map else 3, SIZE, SIZE)
    assert torch.isfinite(ours).all() and ours.abs().sum() > 0 and not ours.requires_grad
    assert heatmap(ours, spec.sign).shape == (SIZE, SIZE)  # what the overlay takes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Captum's own notices about hooking the ReLUs
        direct = _direct(net, method, level, x, 3, channel)
    torch.testing.assert_close(ours, direct.detach(), **TOL)


def test_every_level_works_for_the_layer_methods(net):
    for method in ("conductance", "layer-gradxact", "layer-deeplift", "layer-activation"):
        maps = [Attribution(net, method, lvl, n_steps=4).attribute(_x(2), target=1) for lvl in ("low", "mid", "high")]
        assert [m.shape for m in maps] == [(1, 1, SIZE, SIZE)] * 3
        assert not torch.allclose(maps[0], maps[2])


def test_conductance_and_neuron_ig_are_complete(net):
    # Completeness (Sundararajan et al. 2017, prop. 1; Dhamdhere et al. 2018, eq. 3): the
    # attributions add up to f(x) - f(reference), the reference being zero.
    x, zero = _x(3), torch.zeros(1, 3, SIZE, SIZE)
    cond = ca.LayerConductance(net, level_module(net, "mid")).attribute(x, target=4, n_steps=200)
    gap = float(net(x)[0, 4] - net(zero)[0, 4])
    assert abs(float(cond.detach().sum()) - gap) < 0.02 * abs(gap) + 1e-3
    assert abs(gap) > 0.01  # a gap worth explaining
    channel = Attribution(net, "neuron-ig", "high").default_channel(x)
    ours = Attribution(net, "neuron-ig", "high", n_steps=200, channel=channel).attribute(x)
    acts = {}
    h = level_module(net, "high").register_forward_hook(lambda _m, _i, o: acts.setdefault(len(acts), o))
    net(x), net(zero)
    h.remove()
    gap = float((acts[0][0, channel].mean() - acts[1][0, channel].mean()).detach())
    assert abs(gap) > 0.01
    assert abs(float(ours.sum()) - gap) < 0.02 * abs(gap) + 1e-4


def test_neuron_methods_take_the_most_active_channel_by_default(net):
    x = _x(4)
    a = Attribution(net, "neuron-gradient", "high")
    with torch.no_grad():
        act = ca.LayerActivation(net, level_module(net, "high")).attribute(x)
    expected = int(act.mean(dim=(0, 2, 3)).argmax())
    assert a.default_channel(x) == expected
    assert torch.equal(a.attribute(x), Attribution(net, "neuron-gradient", "high", channel=expected).attribute(x))
    assert a.options == {"channel": expected}
    assert level_channels(net, "low") == 16 and level_channels(net, "high") == 64
    with pytest.raises(ConfigError, match="channels 0 to 15"):
        Attribution(net, "neuron-ig", "low", channel=16)


def test_random_methods_are_repeatable_and_leave_the_rng_alone(net):
    x = _x(5)
    torch.manual_seed(123)
    np.random.seed(123)
    before = (torch.get_rng_state(), np.random.get_state()[1].copy())
    first = Attribution(net, "gradientshap").attribute(x, target=2)
    second = Attribution(net, "gradientshap").attribute(x, target=2)
    assert torch.equal(first, second)
    assert torch.equal(torch.get_rng_state(), before[0]) and np.array_equal(np.random.get_state()[1], before[1])
    other_seed = Attribution(net, "smoothgrad", seed=1).attribute(x, target=2)
    assert not torch.equal(other_seed, Attribution(net, "smoothgrad", seed=0).attribute(x, target=2))


def test_the_inspector_caches_neuron_maps_per_channel(net):
    inspector = Inspector.from_model(net, [f"c{i}" for i in range(10)], Preprocess.unit(SIZE))
    rng = np.random.default_rng(0)
    image = inspector.prepare(DecodedImage.from_array(rng.integers(0, 255, (SIZE, SIZE, 3), dtype=np.uint8)))
    default = inspector.attribute(image, "neuron-gradient", "mid")
    assert default.channel is not None and not default.cached
    same = inspector.attribute(image, "neuron-gradient", "mid", channel=default.channel)
    assert same.cached and np.array_equal(same.attribution, default.attribution)
    other = inspector.attribute(image, "neuron-gradient", "mid", channel=(default.channel + 1) % 32)
    assert not other.cached and not np.allclose(other.attribution, default.attribution)
    # Target-free methods do not recompute for another class.
    act = inspector.attribute(image, "layer-activation", "low", target=1)
    assert inspector.attribute(image, "layer-activation", "low", target=2).cached
    assert act.attribution.shape == (1, SIZE, SIZE)
