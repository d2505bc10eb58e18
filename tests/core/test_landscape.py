"""Loss landscapes: filter normalisation, fixed directions, the centre, exact restoration."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from resviz.core.errors import ConfigError
from resviz.core.inspect import Cancelled, CancelToken
from resviz.core.inspect.preprocess import Preprocess
from resviz.core.inspect.subset import limit_indices
from resviz.core.landscape import (
    contour_levels,
    grid_axis,
    landscape_figure,
    landscapes_csv,
    landscapes_json,
    loss_landscape,
    make_directions,
    moved_parameters,
    random_direction,
)
from resviz.core.models import build_model


@pytest.fixture(scope="module")
def prep(digits):
    return Preprocess.per_pixel_mean(digits.mean)


@pytest.fixture(scope="module")
def net(trained_resnet14):
    return copy.deepcopy(trained_resnet14)


def test_each_direction_filter_has_the_weight_filters_norm(net):
    directions = make_directions(net, seed=3, dims=2)
    weights = dict(net.named_parameters())
    assert len(directions.vectors) == 2
    for vec in directions.vectors:
        for name, d in zip(directions.names, vec, strict=True):
            w = weights[name]
            assert d.shape == w.shape
            # One filter per output channel (conv) or output unit (fc), as in Li et al.'s code.
            torch.testing.assert_close(
                d.flatten(1).norm(dim=1), w.detach().flatten(1).norm(dim=1), rtol=1e-5, atol=1e-7
            )
    assert "fc.weight" in directions.names and "conv1.weight" in directions.names


def test_bn_parameters_and_biases_do_not_move(net):
    names = {n for n, _ in moved_parameters(net)}
    assert not any("bn" in n or n.endswith(".bias") for n in names)
    one_dim = {n for n, p in net.named_parameters() if p.dim() == 1}
    assert one_dim and one_dim.isdisjoint(names) and "fc.bias" in one_dim


def test_the_same_seed_gives_twins_the_same_directions():
    torch.manual_seed(1)
    residual, plain = build_model("resnet8"), build_model("plain8")  # separately initialised
    for index in (0, 1):
        for a, b in zip(random_direction(residual, 7, index), random_direction(plain, 7, index), strict=True):
            assert torch.equal(a, b)
    assert not torch.equal(random_direction(residual, 7)[0], random_direction(residual, 8)[0])
    assert not torch.equal(random_direction(residual, 7, 0)[0], random_direction(residual, 7, 1)[0])
    plain.load_state_dict(residual.state_dict())  # the same weights: the same normalised directions
    for va, vb in zip(make_directions(residual, seed=7).vectors, make_directions(plain, seed=7).vectors, strict=True):
        assert all(torch.equal(a, b) for a, b in zip(va, vb, strict=True))


def test_the_centre_is_the_nets_own_loss(net, digits, prep):
    result = loss_landscape(net, digits.train, prep, dims=2, grid=3, n_images=96, batch_size=40)
    idx = torch.from_numpy(limit_indices(digits.train.labels, 96))
    with torch.no_grad():
        logits = net.eval()(prep.batch(digits.train.images[idx]))
    labels = digits.train.labels[idx]
    loss, error = result.centre()
    assert loss == pytest.approx(float(F.cross_entropy(logits, labels)), rel=1e-5)
    assert error == pytest.approx(100.0 * float((logits.argmax(1) != labels).float().mean()))
    assert result.loss.shape == (3, 3) and result.n_images == 96
    assert (result.loss > loss).sum() >= 6  # a trained net sits in a valley: most neighbours are higher


def test_points_are_set_in_place_and_the_weights_restored_exactly(net, digits, prep):
    model = copy.deepcopy(net).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    directions = make_directions(model, seed=0, dims=2)
    alphas = grid_axis(3, 0.5)
    moved = dict(model.named_parameters())
    checked = []

    def check_point(done, total):
        b, a = divmod(done - 1, 3)  # rows along b
        for name, d1, d2 in zip(directions.names, *directions.vectors, strict=True):
            expected = before[name] + alphas[a] * d1 + alphas[b] * d2
            torch.testing.assert_close(moved[name].detach(), expected, rtol=1e-6, atol=1e-6)
        assert torch.equal(model.bn1.weight, before["bn1.weight"]) and torch.equal(model.fc.bias, before["fc.bias"])
        checked.append(done)

    loss_landscape(
        model, digits.train, prep, grid=3, span=0.5, n_images=32, directions=directions, progress=check_point
    )
    assert checked == list(range(1, 10))
    after = model.state_dict()
    assert all(torch.equal(after[k], v) for k, v in before.items())  # bit for bit, buffers included
    assert model.training  # its mode is back too


def test_cancel_stops_and_restores(net, digits, prep):
    model = copy.deepcopy(net)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    token = CancelToken()
    seen = []

    def cancel_at_three(done, total):
        seen.append(done)
        if done == 3:
            token.cancel()

    with pytest.raises(Cancelled):
        loss_landscape(model, digits.train, prep, grid=5, n_images=16, progress=cancel_at_three, token=token)
    assert seen == [1, 2, 3]
    assert all(torch.equal(model.state_dict()[k], v) for k, v in before.items())


def test_1d_is_the_middle_row_of_2d(net, digits, prep):
    one = loss_landscape(net, digits.train, prep, dims=1, grid=5, n_images=40, seed=2)
    two = loss_landscape(net, digits.train, prep, dims=2, grid=5, n_images=40, seed=2)
    assert one.loss.shape == (5,) and one.betas is None
    np.testing.assert_allclose(one.loss, two.loss[2], rtol=1e-6)  # b = 0 there, and d1 is the same
    np.testing.assert_allclose(one.error, two.error[2])


def test_grid_and_options_are_checked():
    axis = grid_axis(21, 1.0)
    assert axis[10] == 0.0 and axis[0] == -1.0 and axis[-1] == 1.0 and len(axis) == 21
    with pytest.raises(ConfigError):
        grid_axis(1, 1.0)
    with pytest.raises(ConfigError):
        grid_axis(5, 0.0)
    model = build_model("resnet8")
    with pytest.raises(ConfigError, match="1 or 2"):
        loss_landscape(model, None, None, dims=3)
    with pytest.raises(ConfigError, match="another net"):
        loss_landscape(model, None, None, dims=2, directions=make_directions(model, dims=1))


def test_exports_and_figures(net, digits, prep):
    a = loss_landscape(net, digits.train, prep, dims=2, grid=3, n_images=16, name="resnet14")
    plain = copy.deepcopy(net)
    plain.set_shortcuts(False)
    b = loss_landscape(plain, digits.train, prep, dims=2, grid=3, n_images=16, name="plain14")
    rows = landscapes_csv([a, b]).strip().splitlines()
    assert rows[0] == "net,alpha,beta,loss,error" and len(rows) == 1 + 18
    assert rows[5].startswith("resnet14,0.0,0.0,")
    data = json.loads(landscapes_json([a, b]))
    assert [n["net"] for n in data["nets"]] == ["resnet14", "plain14"] and "eval mode" in data["bn"]
    assert np.allclose(data["nets"][1]["loss"], b.loss)
    levels = contour_levels([a, b])
    assert levels[0] == pytest.approx(min(a.loss.min(), b.loss.min())) and levels[-1] == pytest.approx(
        max(a.loss.max(), b.loss.max())
    )
    fig = landscape_figure([a, b])
    assert len(fig.axes) == 3  # two panels and one shared colour bar
    assert "eval mode" in fig._suptitle.get_text()


def test_the_inspector_sweeps_its_copy_and_caches(net, digits, prep):
    from resviz.core.inspect import Inspector

    inspector = Inspector.from_model(net, digits.classes, prep)
    state = inspector.state()
    first = inspector.landscape(digits.train, dims=1, grid=3, n_images=16)
    assert inspector.state() == state  # weights back exactly: the same fingerprint
    assert inspector.landscape(digits.train, dims=1, grid=3, n_images=16) is first
    inspector.set_shortcut(0, False)
    other = inspector.landscape(digits.train, dims=1, grid=3, n_images=16)
    assert other is not first and other.name.startswith("resnet")  # one switch off: not the plain twin
