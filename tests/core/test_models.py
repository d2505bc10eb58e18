"""The paper's networks: parameter counts, shapes, shortcut switches, torchvision weights."""

from __future__ import annotations

import pytest
import torch
import torchvision

from resviz.core.errors import ConfigError
from resviz.core.models import (
    ARCHITECTURES,
    Probe,
    architecture_table,
    build_model,
    cifar_resnet,
    count_parameters,
    imagenet_resnet,
    level_module,
    level_of_block,
    parse_arch,
)

# Table 6 of the paper (CIFAR-10) and torchvision's counts (ImageNet).
EXPECTED_PARAMS = {
    "resnet20": 269_722,
    "resnet56": 853_018,
    "resnet110": 1_727_962,
    "resnet1202": 19_421_274,
    "resnet18": 11_689_512,
    "resnet50": 25_557_032,
}


def _meta_params(name: str, **kw) -> int:
    with torch.device("meta"):
        return count_parameters(build_model(name, **kw))


@pytest.mark.parametrize("name,expected", sorted(EXPECTED_PARAMS.items()))
def test_parameter_counts_match_the_paper(name, expected):
    assert _meta_params(name) == expected


@pytest.mark.parametrize("depth,millions", [(32, 0.46), (44, 0.66)])
def test_table6_rounded_counts(depth, millions):
    assert round(_meta_params(f"resnet{depth}") / 1e6, 2) == millions


@pytest.mark.parametrize("depth", [20, 32, 44, 56, 110])
def test_plain_has_exactly_the_parameters_of_resnet_option_a(depth):
    with torch.device("meta"):
        plain, res = build_model(f"plain{depth}"), build_model(f"resnet{depth}")
    assert [(n, p.shape) for n, p in plain.named_parameters()] == [(n, p.shape) for n, p in res.named_parameters()]
    assert plain.is_plain and not any(plain.shortcuts()) and all(res.shortcuts())


def test_current_arch_names_what_the_net_computes_as_its_shortcuts_are_switched():
    res = build_model("resnet8")
    assert res.current_arch == "resnet8"
    res.set_shortcuts([False] + [True] * (len(res.shortcuts()) - 1))
    assert res.current_arch == "resnet8"  # one shortcut off is still a residual net
    res.set_shortcuts(False)
    assert res.current_arch == "plain8" and res.arch_name == "resnet8"
    assert build_model("plain14").current_arch == "plain14"


def test_plain_loads_the_resnet_weights_file():
    res = build_model("resnet8")
    plain = build_model("plain8")
    plain.load_state_dict(res.state_dict(), strict=True)


def test_shortcut_options_b_and_c_add_projections():
    a, b, c = (_meta_params("resnet20", shortcut=o) for o in "ABC")
    assert a < b < c
    # B projects only where dimensions change: two 1x1 convs + BN (16->32, 32->64).
    assert b - a == (16 * 32 + 2 * 32) + (32 * 64 + 2 * 64)


@pytest.mark.parametrize("depth,size", [(8, 16), (20, 32)])
def test_cifar_forward_shapes(depth, size):
    model = build_model(f"resnet{depth}", num_classes=7)
    out = model(torch.randn(2, 3, size, size))
    assert out.shape == (2, 7)
    shapes = [t.shape for _, t in model.features(torch.randn(2, 3, size, size))]
    assert shapes == [
        (2, 16, size, size),
        (2, 16, size, size),
        (2, 32, size // 2, size // 2),
        (2, 64, size // 4, size // 4),
    ]


def test_imagenet_forward_shape():
    model = build_model("resnet18").eval()
    assert model(torch.randn(1, 3, 64, 64)).shape == (1, 1000)


def test_any_6n_plus_2_depth_and_clear_errors():
    assert parse_arch("resnet8").blocks == 3
    assert parse_arch("plain14").plain
    assert parse_arch("resnet50").family == "imagenet"
    assert parse_arch("resnet50", family="cifar").blocks == 24
    for bad in ("resnet21", "resnet4", "vgg16", "resnet19"):
        with pytest.raises(ConfigError, match="architecture"):
            parse_arch(bad)


@pytest.mark.parametrize("depth", [18, 34, 50])
def test_torchvision_state_dicts_load_strictly(depth):
    theirs = getattr(torchvision.models, f"resnet{depth}")().eval()
    ours = build_model(f"resnet{depth}").eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x))


def _zero_residual(block):
    for bn in (block.bn1, block.bn2):
        torch.nn.init.zeros_(bn.weight)
        torch.nn.init.zeros_(bn.bias)


def test_shortcut_off_with_zero_residual_gives_zero():
    model = build_model("resnet8").eval()
    block = model.blocks()[0]
    _zero_residual(block)
    x = torch.rand(2, 16, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(block(x), x)  # identity shortcut, F = 0: relu(x) = x
        block.shortcut_on = False
        assert torch.count_nonzero(block(x)) == 0


def test_switching_one_shortcut_changes_output_only_from_that_block_on():
    model = build_model("resnet8").eval()
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        before = dict(model.features(x))
        model.set_shortcuts([True, False, True])  # the stage-2 block loses its shortcut
        after = dict(model.features(x))
    torch.testing.assert_close(before["layer1"], after["layer1"])
    assert not torch.allclose(before["layer2"], after["layer2"])
    assert model.shortcuts() == [True, False, True]


def test_deleting_a_residual_branch_leaves_the_shortcut():
    model = build_model("resnet8").eval()
    block = model.blocks()[1]  # downsampling block: option A pads and subsamples
    x = torch.rand(2, 16, 8, 8)
    with torch.no_grad():
        block.residual_on = False
        out = block(x)
    assert out.shape == (2, 32, 4, 4)
    torch.testing.assert_close(out[:, 8:24], x[:, :, ::2, ::2])  # padded 8 each side
    assert torch.count_nonzero(out[:, :8]) == 0 and torch.count_nonzero(out[:, 24:]) == 0
    model.set_residuals(True)
    assert model.residuals() == [True, True, True]


def test_switch_lengths_are_checked():
    model = build_model("resnet8")
    with pytest.raises(ValueError):
        model.set_shortcuts([True, False])


def test_level_mapping():
    cifar, imnet = build_model("resnet8"), build_model("resnet18")
    assert [level_module(cifar, lvl) for lvl in ("low", "mid", "high")] == [
        cifar.layer1,
        cifar.layer2,
        cifar.layer3,
    ]
    assert level_module(imnet, "mid") is imnet.layer3
    assert level_module(imnet, "high") is imnet.layer4
    assert level_of_block(imnet) == ["low"] * 2 + ["mid"] * 4 + ["high"] * 2
    with pytest.raises(ConfigError):
        level_module(cifar, "top")


def test_probe_records_one_ratio_per_block_and_one_std_per_3x3_layer():
    model = build_model("resnet8")
    probe = Probe()
    model.attach_probe(probe)
    model(torch.randn(4, 3, 16, 16))
    assert len(probe.residual_ratio) == len(model.blocks()) == 3
    assert len(probe.response_std) == len(model.conv3x3_layers()) == 7
    assert all(r.dim() == 0 and r > 0 for r in probe.residual_ratio)
    model.attach_probe(None)
    model(torch.randn(4, 3, 16, 16))
    assert len(probe.residual_ratio) == 3  # detached: nothing more recorded


def test_the_net_in_pieces_stem_blocks_head_is_the_net():
    model = build_model("resnet14").eval()
    x = torch.randn(2, 3, 16, 16)
    probe = Probe()
    model.attach_probe(probe)
    with torch.no_grad():
        h = model.stem(x)
        assert len(probe.response_std) == 1  # the CIFAR stem is a 3x3 layer Fig. 7 counts
        for block in model.blocks():
            h = block(h)
        logits = model.head(h)
        model.attach_probe(None)
        torch.testing.assert_close(logits, model(x))
    assert len(probe.response_std) == len(model.conv3x3_layers())
    assert model.block_names() == ["layer1.0", "layer1.1", "layer2.0", "layer2.1", "layer3.0", "layer3.1"]
    assert build_model("resnet18").block_names()[-2:] == ["layer4.0", "layer4.1"]


def test_a_net_knows_the_name_it_was_built_as():
    assert build_model("resnet20").arch_name == "resnet20" and build_model("plain56").arch_name == "plain56"
    assert build_model("resnet20", plain=True).arch_name == "resnet20"  # switches are not the name
    assert cifar_resnet(8, plain=True).arch_name == "plain8" and imagenet_resnet(18).arch_name == "resnet18"


def test_weighted_layers_in_depth_order():
    names = [n for n, _ in build_model("resnet8", shortcut="B").weighted_layers()]
    assert names[0] == "conv1" and names[-1] == "fc"
    assert names.index("layer2.0.conv2") < names.index("layer2.0.downsample.0") < names.index("layer3.0.conv1")


def test_architecture_table_lists_every_named_net():
    rows = architecture_table()
    assert [r["name"] for r in rows] == list(ARCHITECTURES)
    assert {"name", "family", "depth", "params", "blocks", "shortcut"} <= set(rows[0])
