"""Building nets by name, and the low/mid/high level mapping on a built net.

The names themselves (``resnet20``, ``plain56`` ...) live in the torch-free
:mod:`resviz.core.archs`, so the app can list them before torch has loaded.
"""

from __future__ import annotations

from dataclasses import asdict

from torch import nn

from ..archs import ARCHITECTURES, LEVEL_STAGES, LEVELS, SHORTCUT_OPTIONS, ArchSpec, ShortcutOption, parse_arch
from ..errors import ConfigError
from .resnet import ResNet, cifar_resnet, imagenet_resnet

__all__ = [
    "build_model",
    "build_from_spec",
    "level_module",
    "level_of_block",
    "count_parameters",
    "architecture_table",
]


def build_from_spec(
    spec: ArchSpec, *, num_classes: int | None = None, shortcut: ShortcutOption | None = None
) -> ResNet:
    """A freshly initialised net of the architecture ``spec`` names (its ``arch_name``)."""
    option = (shortcut or spec.shortcut).upper()
    if spec.family == "cifar":
        model = cifar_resnet(spec.depth, num_classes=num_classes or 10, shortcut=option, plain=spec.plain)
    else:
        model = imagenet_resnet(spec.depth, num_classes=num_classes or 1000, shortcut=option, plain=spec.plain)
    return model


def build_model(
    name: str,
    *,
    num_classes: int | None = None,
    shortcut: ShortcutOption | None = None,
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
    model = build_from_spec(spec, num_classes=num_classes, shortcut=shortcut)
    if plain is not None:
        model.set_shortcuts(not plain)
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
            row["params"] = count_parameters(build_from_spec(spec))
            rows.append(row)
    return rows
