"""Architecture names, their specs, the builder, and the low/mid/high level mapping.

Names follow the paper: ``resnetN`` / ``plainN``. The CIFAR family accepts any depth
6n+2 (``resnet8`` makes fast tests); the ImageNet family has the five depths of Table 1.
Two depths belong to both families by arithmetic (50 and 152 are 6n+2): the bare names
mean the ImageNet nets, as in the paper; ``family="cifar"`` builds the CIFAR ones.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from torch import nn

from ..errors import ConfigError

from .resnet import IMAGENET_LAYERS, SHORTCUT_OPTIONS, ResNet, cifar_resnet, imagenet_resnet

__all__ = [
    "ArchSpec",
    "ARCHITECTURES",
    "LEVELS",
    "LEVEL_STAGES",
    "build_model",
    "parse_arch",
    "level_module",
    "level_of_block",
    "architecture_table",
]

CIFAR_DEPTHS = (20, 32, 44, 56, 110, 1202)
CIFAR_PLAIN_DEPTHS = (20, 32, 44, 56, 110)
IMAGENET_DEPTHS = tuple(IMAGENET_LAYERS)
IMAGENET_PLAIN_DEPTHS = (18, 34)

#: The level names used by activations, attributions and plots alike.
LEVELS: tuple[str, ...] = ("low", "mid", "high")

#: Which stages make each level, per family (DESIGN.md: one mapping per architecture).
#: The last stage listed is the level's representative module (its output is "the level").
LEVEL_STAGES: dict[str, dict[str, tuple[str, ...]]] = {
    "cifar": {"low": ("layer1",), "mid": ("layer2",), "high": ("layer3",)},
    "imagenet": {"low": ("layer1",), "mid": ("layer2", "layer3"), "high": ("layer4",)},
}


@dataclass(frozen=True)
class ArchSpec:
    """What an architecture name means."""

    name: str
    family: str  # "cifar" or "imagenet"
    depth: int
    plain: bool
    shortcut: str  # the default option: A for CIFAR (section 4.2), B for ImageNet (Table 3)
    blocks: int
    block: str  # "basic" or "bottleneck"

    def build(self, *, num_classes: int | None = None, shortcut: str | None = None) -> ResNet:
        """A freshly initialised net of this architecture."""
        option = (shortcut or self.shortcut).upper()
        if self.family == "cifar":
            return cifar_resnet(
                self.depth, num_classes=num_classes or 10, shortcut=option, plain=self.plain
            )
        return imagenet_resnet(
            self.depth, num_classes=num_classes or 1000, shortcut=option, plain=self.plain
        )


def _spec(family: str, depth: int, plain: bool) -> ArchSpec:
    kind = "plain" if plain else "resnet"
    if family == "cifar":
        return ArchSpec(f"{kind}{depth}", "cifar", depth, plain, "A", 3 * ((depth - 2) // 6), "basic")
    block, layers = IMAGENET_LAYERS[depth]
    return ArchSpec(
        f"{kind}{depth}",
        "imagenet",
        depth,
        plain,
        "B",
        sum(layers),
        "bottleneck" if block.expansion == 4 else "basic",
    )


#: The architectures the paper names, in the order `resviz models` lists them.
ARCHITECTURES: dict[str, ArchSpec] = {
    s.name: s
    for s in (
        [_spec("cifar", d, False) for d in CIFAR_DEPTHS]
        + [_spec("cifar", d, True) for d in CIFAR_PLAIN_DEPTHS]
        + [_spec("imagenet", d, False) for d in IMAGENET_DEPTHS]
        + [_spec("imagenet", d, True) for d in IMAGENET_PLAIN_DEPTHS]
    )
}

_NAME = re.compile(r"^(resnet|plain)[-_]?(\d+)$")


def parse_arch(name: str, family: str | None = None) -> ArchSpec:
    """The spec for ``resnetN`` / ``plainN`` (any 6n+2 depth for CIFAR), or ValueError."""
    m = _NAME.match(name.strip().lower())
    if not m:
        raise ConfigError(
            f"unknown architecture {name!r}: expected resnetN or plainN, "
            f"for example resnet20, plain56, resnet50 (see `resviz models`)"
        )
    plain, depth = m.group(1) == "plain", int(m.group(2))
    if family is None:
        family = "imagenet" if depth in IMAGENET_DEPTHS else "cifar"
    if family == "imagenet":
        if depth not in IMAGENET_DEPTHS:
            raise ConfigError(
                f"unknown architecture {name!r}: ImageNet ResNets have 18, 34, 50, 101 or 152 layers"
            )
        return _spec("imagenet", depth, plain)
    if family != "cifar":
        raise ConfigError(f"unknown family {family!r}: expected cifar or imagenet")
    if depth < 8 or (depth - 2) % 6:
        raise ConfigError(
            f"unknown architecture {name!r}: CIFAR ResNets have 6n+2 layers (8, 14, 20, 26, 32, ...)"
        )
    return _spec("cifar", depth, plain)


def build_model(
    name: str,
    *,
    num_classes: int | None = None,
    shortcut: str | None = None,
    plain: bool | None = None,
    family: str | None = None,
) -> ResNet:
    """Build ``name`` (``resnet20``, ``plain56``, ``resnet50`` ...).

    ``plain=True`` turns every shortcut off whatever the name says; ``shortcut`` picks
    option A, B or C (CIFAR default A, ImageNet default B).
    """
    spec = parse_arch(name, family)
    if shortcut is not None and shortcut.upper() not in SHORTCUT_OPTIONS:
        raise ConfigError(f"unknown shortcut option {shortcut!r}: choose A, B or C")
    model = spec.build(num_classes=num_classes, shortcut=shortcut)
    if plain is not None:
        model.set_shortcuts(not plain)
    model.arch_name = spec.name  # type: ignore[attr-defined]  # recorded in checkpoints
    return model


def level_module(model: ResNet, level: str) -> nn.Module:
    """The module whose output is ``level`` (low/mid/high) for this net's family."""
    try:
        stages = LEVEL_STAGES[model.family][level]
    except KeyError:
        raise ConfigError(f"unknown level {level!r}: choose one of {', '.join(LEVELS)}") from None
    return getattr(model, stages[-1])


def level_of_block(model: ResNet) -> list[str]:
    """The level name of every block, in depth order (to colour block strips and plots)."""
    by_stage = {s: lvl for lvl, stages in LEVEL_STAGES[model.family].items() for s in stages}
    return [by_stage[name] for name in model.stages for _ in getattr(model, name)]


def count_parameters(model: nn.Module) -> int:
    """The number of learnable parameters."""
    return sum(p.numel() for p in model.parameters())


def architecture_table() -> list[dict]:
    """One row per named architecture: name, family, depth, blocks, params, shortcut.

    Parameter counts are computed by building each net on the ``meta`` device, which
    allocates nothing, so even resnet1202 and resnet152 cost milliseconds.
    """
    import torch

    rows = []
    with torch.device("meta"):
        for spec in ARCHITECTURES.values():
            row = asdict(spec)
            row["params"] = count_parameters(spec.build())
            rows.append(row)
    return rows
