"""Architecture names and what they mean, without importing torch.

Names follow the paper: ``resnetN`` / ``plainN``. The CIFAR family accepts any depth
6n+2 (``resnet8`` makes fast tests); the ImageNet family has the five depths of Table 1.
Two depths belong to both families by arithmetic (50 and 152 are 6n+2): the bare names
mean the ImageNet nets, as in the paper; ``family="cifar"`` picks the CIFAR ones.

This module is torch-free on purpose: the app fills its architecture menus and validates
settings before the ~8 s import of torch has finished.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from .errors import ConfigError
from .limits import MAX_CIFAR_DEPTH

__all__ = [
    "ArchSpec",
    "ShortcutOption",
    "ARCHITECTURES",
    "CIFAR_DEPTHS",
    "IMAGENET_DEPTHS",
    "IMAGENET_BLOCKS",
    "LEVELS",
    "LEVEL_STAGES",
    "SHORTCUT_OPTIONS",
    "arch_name",
    "parse_arch",
    "spec_of",
]

CIFAR_DEPTHS = (20, 32, 44, 56, 110, 1202)
CIFAR_PLAIN_DEPTHS = (20, 32, 44, 56, 110)
#: Table 1 of the paper: (block kind, blocks per stage) for each ImageNet depth.
IMAGENET_BLOCKS: dict[int, tuple[str, tuple[int, ...]]] = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}
IMAGENET_DEPTHS = tuple(IMAGENET_BLOCKS)
IMAGENET_PLAIN_DEPTHS = (18, 34)

#: Section 3.3: A zero-padding identity, B projections where dimensions change, C all projections.
ShortcutOption = Literal["A", "B", "C"]
SHORTCUT_OPTIONS: tuple[ShortcutOption, ...] = ("A", "B", "C")

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
    shortcut: ShortcutOption  # the family's default: A for CIFAR (section 4.2), B for ImageNet (Table 3)
    blocks: int
    block: str  # "basic" or "bottleneck"

    @property
    def kind(self) -> str:
        """``plain`` (every shortcut off, section 4.1) or ``resnet``."""
        return "plain" if self.plain else "resnet"

    def with_plain(self, plain: bool) -> ArchSpec:
        """The same net with every shortcut off (``plain=True``) or on: ``resnet20`` <-> ``plain20``."""
        if plain == self.plain:
            return self
        return replace(self, name=arch_name(self.depth, plain), plain=plain)

    @property
    def twin(self) -> ArchSpec:
        """The net of the same depth with the shortcuts the other way (plain vs residual)."""
        return self.with_plain(not self.plain)

    def label(self, shortcut: str | None = None) -> str:
        """What a run of this net is called in lists, legends and reports.

        ``plain20``, ``resnet56``; a residual net with an explicitly chosen shortcut option
        carries it (``resnet20-B``), a plain net has no shortcuts to choose.
        """
        if shortcut and not self.plain:
            return f"{self.name}-{shortcut.upper()}"
        return self.name

    @property
    def stage_blocks(self) -> tuple[int, ...]:
        """Blocks per stage, in order."""
        if self.family == "cifar":
            n = (self.depth - 2) // 6
            return (n, n, n)
        return IMAGENET_BLOCKS[self.depth][1]


def arch_name(depth: int, plain: bool = False) -> str:
    """The paper's name for a net: ``resnet20``, ``plain56``."""
    return f"{'plain' if plain else 'resnet'}{depth}"


def _spec(family: str, depth: int, plain: bool) -> ArchSpec:
    if family == "cifar":
        return ArchSpec(arch_name(depth, plain), "cifar", depth, plain, "A", 3 * ((depth - 2) // 6), "basic")
    block, layers = IMAGENET_BLOCKS[depth]
    return ArchSpec(arch_name(depth, plain), "imagenet", depth, plain, "B", sum(layers), block)


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


def parse_arch(name: str, family: str | None = None, *, plain: bool = False) -> ArchSpec:
    """The spec for ``resnetN`` / ``plainN`` (any 6n+2 depth for CIFAR), or ConfigError.

    ``plain=True`` gives the net with every shortcut off whatever the name says
    (``resnet20`` trained with ``--plain`` is ``plain20``).
    """
    spec = _parse(name, family)
    return spec.with_plain(True) if plain else spec


def _parse(name: str, family: str | None) -> ArchSpec:
    m = _NAME.match(str(name).strip().lower())
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
            raise ConfigError(f"unknown architecture {name!r}: ImageNet ResNets have 18, 34, 50, 101 or 152 layers")
        return _spec("imagenet", depth, plain)
    if family != "cifar":
        raise ConfigError(f"unknown family {family!r}: expected cifar or imagenet")
    if depth < 8 or (depth - 2) % 6:
        raise ConfigError(f"unknown architecture {name!r}: CIFAR ResNets have 6n+2 layers (8, 14, 20, 26, 32, ...)")
    if depth > MAX_CIFAR_DEPTH:  # resnet600002 would take all memory building itself (issue #9)
        raise ConfigError(
            f"unknown architecture {name!r}: resviz builds CIFAR ResNets of up to {MAX_CIFAR_DEPTH} layers "
            "(the paper's deepest, section 4.2)"
        )
    return _spec("cifar", depth, plain)


def spec_of(config: Mapping[str, Any]) -> ArchSpec | None:
    """The net a saved training config (a run folder's ``config.json``, a run's dict) names.

    Only ``arch`` and ``plain`` are read, so a config a newer resviz wrote, with settings
    this version would refuse, still says what the run is; None when it names no net.
    """
    try:
        return parse_arch(str(config.get("arch", "")), plain=bool(config.get("plain")))
    except ConfigError:
        return None
