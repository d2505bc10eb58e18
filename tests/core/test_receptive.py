"""Receptive fields from the net's own layers, against hand counts and against gradients."""

from __future__ import annotations

import pytest
import torch

from resviz.core.errors import ConfigError
from resviz.core.inspect.receptive import geometry, level_field, level_geometry, receptive_fields, unit_box
from resviz.core.models import build_model, level_module

# Hand count, resnet8 (n = 1, CIFAR; every conv 3x3 with padding 1). Size r, jump j:
#   stem conv 3x3/1:               r = 3,               j = 1
#   layer1.0 conv 3x3/1, 3x3/1:    r = 3 + 2 + 2 = 7,   j = 1   (low, map 16 on 16 x 16)
#   layer2.0 conv 3x3/2:           r = 7 + 2*1 = 9,     j = 2
#            conv 3x3/1:           r = 9 + 2*2 = 13,    j = 2   (mid, map 8)
#   layer3.0 conv 3x3/2:           r = 13 + 2*2 = 17,   j = 4
#            conv 3x3/1:           r = 17 + 2*4 = 25,   j = 4   (high, map 4)
# Option A shortcuts are 1x1 paths with the block's stride: they never widen the field.
RESNET8 = {"stem": (3, 1), "layer1.0": (7, 1), "layer1": (7, 1), "layer2": (13, 2), "layer3": (25, 4)}


def test_resnet8_fields_match_the_hand_count():
    fields = receptive_fields(build_model("resnet8"))
    assert {name: (f.size, f.jump) for name, f in fields.items() if name in RESNET8} == RESNET8
    assert all(f.start == 0 for f in fields.values())  # 'same' padding keeps unit 0 centred on pixel 0
    model = build_model("resnet8")
    assert [(lvl, level_field(model, lvl).size) for lvl in ("low", "mid", "high")] == [
        ("low", 7),
        ("mid", 13),
        ("high", 25),
    ]


def test_resnet20_fields_match_the_hand_count():
    # n = 3: six 3x3 convs per stage. low: 3 + 6*2 = 15; mid: 15 + 2 (stride-2 conv, j = 1)
    # + 5 * 2*2 = 37; high: 37 + 2*2 + 5 * 2*4 = 81, j = 4.
    model = build_model("resnet20")
    assert [(level_field(model, lvl).size, level_field(model, lvl).jump) for lvl in ("low", "mid", "high")] == [
        (15, 1),
        (37, 2),
        (81, 4),
    ]


def test_resnet18_layer1_matches_the_hand_count():
    # conv1 7x7/2: r = 7, j = 2; max pool 3x3/2: r = 7 + 2*2 = 11, j = 4;
    # layer1: four 3x3/1 convs, each + 2*4: r = 11 + 32 = 43, j = 4 (map 56 on 224).
    # layer2: 3x3/2 + 2*4 = 51, j = 8, three more + 2*8 each: 99. layer4 ends at 435, j = 32.
    g = {x.name: x for x in geometry(build_model("resnet18"), 224)}
    assert (g["stem"].field.size, g["stem"].field.jump) == (11, 4)
    assert (g["layer1"].field.size, g["layer1"].field.jump, g["layer1"].map_size) == (43, 4, (56, 56))
    assert (g["layer2"].field.size, g["layer2"].field.jump) == (99, 8)
    assert (g["layer4"].field.size, g["layer4"].field.jump, g["layer4"].channels) == (435, 32, 512)


@pytest.mark.parametrize("arch,side", [("resnet8", 16), ("resnet14", 32), ("resnet18", 64), ("resnet50", 64)])
def test_map_sizes_and_widths_match_a_forward_pass(arch, side):
    model = build_model(arch).eval()
    shapes = {name: tuple(t.shape[1:]) for name, t in model.features(torch.zeros(1, 3, side, side))}
    walked = {g.name: (g.channels, *g.map_size) for g in geometry(model, side)}
    assert {name: walked[name] for name in shapes} == shapes


def test_switches_only_matter_where_they_change_the_paths():
    model = build_model("resnet8")
    assert receptive_fields(model) == receptive_fields(build_model("plain8"))  # shortcuts off: same branch
    assert receptive_fields(model) == receptive_fields(build_model("resnet8", shortcut="B"))  # 1x1 projections
    model.set_residuals([False, True, True])  # layer1.0's branch deleted: its output is the stem's
    f = receptive_fields(model)
    assert (f["layer1"].size, f["layer2"].size, f["layer3"].size) == (3, 3 + 2 + 4, 9 + 4 + 8)


def test_boxes_are_clipped_to_the_image():
    field = level_field(build_model("resnet8"), "mid")  # 13 px, jump 2
    assert field.box(0, 0) == (-6, -6, 7, 7)
    assert field.box(0, 0, 16, 16) == (0, 0, 7, 7)
    assert field.box(3, 5, 16, 16) == (0, 4, 13, 16)  # centre (6, 10): rows 0-12, cols 4-16
    assert unit_box(build_model("resnet8"), "mid", 7, 7, 16) == (8, 8, 16, 16)
    with pytest.raises(ConfigError, match="unknown level"):
        level_geometry(build_model("resnet8"), "top")


@pytest.mark.parametrize(
    "arch,side,level,unit",
    [
        ("resnet8", 16, "low", (5, 9)),
        ("resnet8", 16, "mid", (0, 3)),
        ("resnet8", 16, "high", (3, 0)),
        ("resnet14", 32, "mid", (8, 8)),
        ("resnet18", 96, "low", (0, 11)),
    ],
)
def test_the_box_is_exactly_where_the_gradient_reaches(arch, side, level, unit):
    # An oracle independent of the walk: with positive weights, positive inputs and BN at
    # its initial statistics every ReLU is open, so the unit's gradient is non-zero on
    # exactly the input pixels it sees (clipped to the image).
    torch.manual_seed(0)
    model = build_model(arch).eval()
    if arch == "resnet18":  # max pooling routes a gradient to one pixel per window; an average
        model.maxpool = torch.nn.AvgPool2d(3, 2, 1)  # pool of the same geometry reaches all
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.Conv2d):
                m.weight.uniform_(0.5, 1.0)
    x = torch.ones(1, 3, side, side, requires_grad=True)
    captured = {}
    handle = level_module(model, level).register_forward_hook(lambda _m, _i, out: captured.setdefault("out", out))
    model(x)
    handle.remove()
    row, col = unit
    captured["out"][0, :, row, col].sum().backward()
    reached = (x.grad[0].abs().sum(0) > 0).nonzero()
    top, left = reached.min(0).values.tolist()
    bottom, right = (reached.max(0).values + 1).tolist()
    assert (top, left, bottom, right) == unit_box(model, level, row, col, side)
    assert len(reached) == (bottom - top) * (right - left)  # a full rectangle
