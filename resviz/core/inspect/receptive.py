"""Receptive fields of every level, computed from the net's own kernels, strides and paddings.

"What a channel sees" (Zeiler & Fergus 2014, arXiv:1311.2901) is a crop of the input around
the unit that fired, as large as the unit's receptive field. The field is read off the
modules, never guessed: walking the layers in forward order, each convolution or pooling
of kernel ``k``, stride ``s``, padding ``p`` and dilation ``d`` updates

* the size ``r <- r + (k_eff - 1) * j`` with ``k_eff = d (k - 1) + 1``,
* the jump (input pixels between neighbouring units) ``j <- j * s``,
* the centre of unit 0 ``start <- start + ((k_eff - 1) / 2 - p) * j``,
* the map side ``n <- floor((n + 2p - k_eff) / s) + 1``,

the recurrences of Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional Neural
Networks" (Distill 2019) and Dumoulin & Visin (arXiv:1603.07285, section 2). BN and ReLU are
pointwise and change nothing.

A residual block has two paths, the residual branch and the shortcut; its output unit sees
the union of both fields. The shortcut (identity, option A's subsampling, a 1x1 projection)
is a 1x1 path with the block's stride, so it never widens the field: the residual branch
defines it (He et al. 2016, Fig. 2). With the residual branch deleted (the lesion of Veit et
al. 2016, arXiv:1605.06431) only the shortcut's path is left, and the field stops growing.
Block modules are read in registration order, which is their forward order in
:mod:`resviz.core.models.blocks` (conv1, bn1, relu1, conv2 ...).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from torch import nn

from ..archs import LEVEL_STAGES, LEVELS
from ..errors import ConfigError
from ..models import ResNet
from ..models.blocks import PadShortcut, ProbedBlock

__all__ = [
    "ReceptiveField",
    "LayerGeometry",
    "geometry",
    "receptive_fields",
    "level_field",
    "level_geometry",
    "unit_box",
]


@dataclass(frozen=True)
class ReceptiveField:
    """The input region one unit of a map sees, in input pixels (pixel centres at integers)."""

    size: int  # the field's side
    jump: int  # input pixels between the centres of neighbouring units (the total stride)
    start: float  # the input coordinate of the centre of unit (0, 0)

    def centre(self, row: int, col: int) -> tuple[float, float]:
        """The input coordinates (y, x) of the centre of unit (row, col)."""
        return self.start + row * self.jump, self.start + col * self.jump

    def box(self, row: int, col: int, height: int | None = None, width: int | None = None) -> tuple[int, int, int, int]:
        """(top, left, bottom, right) of unit (row, col)'s field, bottom/right exclusive.

        Given the image's ``height`` and ``width`` the box is clipped to the image; without
        them it can run past the edges (negative or beyond), as the zero padding lets it.
        """
        y, x = self.centre(row, col)
        half = (self.size - 1) / 2
        top, left = math.floor(y - half + 0.5), math.floor(x - half + 0.5)
        box = (top, left, top + self.size, left + self.size)
        if height is None and width is None:
            return box
        h = height if height is not None else box[2]
        w = width if width is not None else box[3]
        return max(0, box[0]), max(0, box[1]), min(h, box[2]), min(w, box[3])


@dataclass(frozen=True)
class LayerGeometry:
    """A named point of the net: its field, its width, and its map size for one input size."""

    name: str  # "stem", "layer1.0", "layer1" ...
    field: ReceptiveField
    channels: int
    map_size: tuple[int, int]  # (h, w) for the input size the walk was given


@dataclass(frozen=True)
class _State:
    size: int
    jump: int
    start: float
    channels: int
    h: int
    w: int

    def field(self) -> ReceptiveField:
        return ReceptiveField(self.size, self.jump, self.start)


def _pair(v) -> tuple[int, int]:
    return (int(v[0]), int(v[1])) if isinstance(v, (tuple, list)) else (int(v), int(v))


def _square(name: str, v) -> int:
    a, b = _pair(v)
    if a != b:
        raise ValueError(f"{name} {v} is not square; resviz's receptive fields assume square kernels")
    return a


def _step(s: _State, m: nn.Module) -> _State:
    """The state after module ``m`` (unchanged for pointwise modules)."""
    if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
        k = _square("kernel", m.kernel_size)
        stride = _square("stride", m.stride)
        pad = _square("padding", m.padding)
        dil = _square("dilation", getattr(m, "dilation", 1))
        channels = m.out_channels if isinstance(m, nn.Conv2d) else s.channels
        ceil = bool(getattr(m, "ceil_mode", False))
    elif isinstance(m, PadShortcut):
        k, stride, pad, dil, ceil = 1, m.stride, 0, 1, False
        channels = s.channels + m.pad_before + m.pad_after
    elif isinstance(m, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.Linear)):
        raise ValueError(f"{type(m).__name__} pools the whole map; it has no receptive field of its own")
    else:
        return s  # BN, ReLU, Identity: pointwise
    k_eff = dil * (k - 1) + 1
    rnd = math.ceil if ceil else math.floor
    return _State(
        size=s.size + (k_eff - 1) * s.jump,
        jump=s.jump * stride,
        start=s.start + ((k_eff - 1) / 2 - pad) * s.jump,
        channels=channels,
        h=rnd((s.h + 2 * pad - k_eff) / stride) + 1,
        w=rnd((s.w + 2 * pad - k_eff) / stride) + 1,
    )


def _walk(s: _State, modules: Iterable[nn.Module]) -> _State:
    for m in modules:
        s = _step(s, m)
    return s


def _branch(block: ProbedBlock) -> list[nn.Module]:
    """The residual branch's modules in forward order (the shortcut's are left out)."""
    skip = {id(block.downsample), id(block.pad_shortcut)}
    return [m for name, m in block.named_children() if id(m) not in skip and name != "relu_out"]


def _shortcut_path(block: ProbedBlock) -> list[nn.Module]:
    if block.downsample is not None:
        return (
            list(block.downsample.modules())[1:] if isinstance(block.downsample, nn.Sequential) else [block.downsample]
        )
    if block.pad_shortcut is not None:
        return [block.pad_shortcut]
    return []


def _block(s: _State, block: ProbedBlock) -> _State:
    """The union of the residual branch's and the shortcut's fields."""
    short = _walk(s, _shortcut_path(block))
    if not block.residual_on:
        return short
    branch = _walk(s, _branch(block))
    if (branch.jump, branch.start, branch.h, branch.w) != (short.jump, short.start, short.h, short.w):
        raise ValueError("the residual branch and the shortcut of a block are not aligned; cannot add their fields")
    return branch if branch.size >= short.size else short


def _input_size(image_size: int | tuple[int, int] | None) -> tuple[int, int]:
    if image_size is None:
        return 224, 224  # any size works for fields; map sizes then are for 224
    return _pair(image_size)


def _stem_modules(model: ResNet) -> list[nn.Module]:
    """The modules :meth:`ResNet.stem` runs, in its order (the walk needs the modules, not
    the function)."""
    return [model.conv1, model.bn1, model.relu, model.maxpool]


def geometry(model: ResNet, image_size: int | tuple[int, int] | None = None) -> list[LayerGeometry]:
    """The stem, every block and every stage in forward order, each with its field and map.

    ``image_size`` (side or (h, w)) only sets the map sizes; fields do not depend on it.
    """
    h, w = _input_size(image_size)
    s = _walk(_State(1, 1, 0.0, model.conv1.in_channels, h, w), _stem_modules(model))
    out = [LayerGeometry("stem", s.field(), s.channels, (s.h, s.w))]
    names = iter(model.block_names())
    for stage in model.stages:
        for block in getattr(model, stage):
            s = _block(s, block)
            out.append(LayerGeometry(next(names), s.field(), s.channels, (s.h, s.w)))
        out.append(LayerGeometry(stage, s.field(), s.channels, (s.h, s.w)))
    return out


def receptive_fields(model: ResNet) -> dict[str, ReceptiveField]:
    """The field of the stem, of every block ("layer1.0") and every stage ("layer1")."""
    return {g.name: g.field for g in geometry(model)}


def level_geometry(model: ResNet, level: str, image_size: int | tuple[int, int] | None = None) -> LayerGeometry:
    """The geometry of a level's output (low/mid/high: the last stage of LEVEL_STAGES)."""
    if level not in LEVELS:
        raise ConfigError(f"unknown level {level!r}: choose one of {', '.join(LEVELS)}")
    stage = LEVEL_STAGES[model.family][level][-1]
    return next(g for g in geometry(model, image_size) if g.name == stage)


def level_field(model: ResNet, level: str) -> ReceptiveField:
    """The receptive field of one unit of a level's output."""
    return level_geometry(model, level).field


def unit_box(
    model: ResNet, level: str, row: int, col: int, image_size: int | tuple[int, int]
) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of the input pixels unit (row, col) of ``level`` sees, clipped."""
    h, w = _pair(image_size)
    return level_field(model, level).box(row, col, h, w)
