"""State dicts from elsewhere: bring them into our key layout, say what net they are, fit them.

Our nets keep torchvision's module names (``conv1``, ``bn1``, ``layerK.J``, ``downsample``,
``fc``), so a torchvision ImageNet state dict is already in our layout. The
pytorch_resnet_cifar10 reproduction (akamaster) differs only in names: its checkpoints wrap
the state dict in ``{"state_dict": ...}``, prefix keys with ``module.`` (DataParallel),
call the head ``linear`` and an option-B projection ``shortcut``. Its option-A shortcut
(``F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, planes//4, planes//4))``) has no parameters and
pads as our :class:`~resviz.core.models.blocks.PadShortcut` does (``extra // 2`` on each
side, with ``extra = planes / 2``), so after renaming its weights load unchanged and give
its logits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..archs import IMAGENET_BLOCKS, ShortcutOption, arch_name
from ..errors import CheckpointError

__all__ = ["StateLayout", "to_our_layout", "infer_layout", "describe_state", "fit_state_dict"]

#: Prefixes that wrappers add: DataParallel/DDP, torch.compile.
_WRAPPER_PREFIXES = ("module.", "_orig_mod.")
_BLOCK_KEY = re.compile(r"^layer(\d+)\.(\d+)\.")
_SHOWN_KEYS = 4  # how many mismatching keys a message names


@dataclass(frozen=True)
class StateLayout:
    """What a state dict's shapes say about the net that made it."""

    family: str  # cifar / imagenet
    depth: int
    block: str  # basic / bottleneck
    shortcut: ShortcutOption  # A (no projections), B (where dimensions change), C (everywhere)
    num_classes: int
    stage_blocks: tuple[int, ...]

    @property
    def arch(self) -> str:
        """The architecture name (``resnet56`` ...); shortcut switches are not in weights."""
        return arch_name(self.depth)

    def describe(self) -> str:
        """``resnet56 (CIFAR, option A shortcuts, 10 classes)``."""
        fam = "CIFAR" if self.family == "cifar" else "ImageNet"
        return f"{self.arch} ({fam}, option {self.shortcut} shortcuts, {self.num_classes} classes)"


def to_our_layout(state: dict[str, Tensor]) -> tuple[dict[str, Tensor], bool]:
    """Rename keys into our layout; the flag says it was pytorch_resnet_cifar10's."""
    renamed: dict[str, Tensor] = {}
    akamaster = False
    for key, value in state.items():
        for prefix in _WRAPPER_PREFIXES:
            while key.startswith(prefix):
                key = key[len(prefix) :]
        if key.startswith("linear."):
            key, akamaster = "fc." + key[len("linear.") :], True
        if _BLOCK_KEY.match(key) and ".shortcut." in key:
            key, akamaster = key.replace(".shortcut.", ".downsample."), True
        renamed[key] = value
    return renamed, akamaster


def infer_layout(state: dict[str, Tensor]) -> StateLayout | None:
    """The architecture a state dict in our layout belongs to, or None if none of ours.

    Family from the stem's kernel (3x3 CIFAR, 7x7 ImageNet), depth from the blocks per
    stage, block kind from ``conv3``, shortcut option from where ``downsample`` keys are,
    classes from the head.
    """
    conv1, fc = state.get("conv1.weight"), state.get("fc.weight")
    if conv1 is None or fc is None or conv1.dim() != 4 or fc.dim() != 2:
        return None
    stages: dict[int, set[int]] = {}
    projected: set[tuple[int, int]] = set()
    for key in state:
        m = _BLOCK_KEY.match(key)
        if m:
            stage, block = int(m.group(1)), int(m.group(2))
            stages.setdefault(stage, set()).add(block)
            if ".downsample." in key:
                projected.add((stage, block))
    if not stages or sorted(stages) != list(range(1, len(stages) + 1)):
        return None
    counts = tuple(max(stages[s]) + 1 for s in sorted(stages))
    bottleneck = "layer1.0.conv3.weight" in state
    kernel = int(conv1.shape[-1])
    if kernel == 3 and len(counts) == 3 and len(set(counts)) == 1 and not bottleneck:
        family, depth, block = "cifar", 6 * counts[0] + 2, "basic"
    elif kernel == 7 and len(counts) == 4:
        kind = "bottleneck" if bottleneck else "basic"
        matches = [d for d, (k, layers) in IMAGENET_BLOCKS.items() if k == kind and tuple(layers) == counts]
        if not matches:
            return None
        family, depth, block = "imagenet", matches[0], kind
    else:
        return None
    total = sum(counts)
    shortcut: ShortcutOption = "A" if not projected else ("C" if len(projected) == total else "B")
    if int(fc.shape[0]) < 1:
        return None  # a head without classes
    return StateLayout(family, depth, block, shortcut, int(fc.shape[0]), counts)


def describe_state(state: dict[str, Tensor]) -> str:
    """What a state dict looks like, for messages: an architecture, or why it is none."""
    layout = infer_layout(state)
    if layout is not None:
        return layout.describe()
    conv1 = state.get("conv1.weight")
    if conv1 is None:
        first = ", ".join(list(state)[:3]) or "nothing"
        return f"no ResNet resviz knows (no conv1.weight; its first keys are {first})"
    return f"no ResNet the paper names (conv1 is {tuple(conv1.shape)})"


def _key_groups(keys: list[str]) -> str:
    """The first few keys, a whole block's keys shown once as ``layer1.2.*``."""
    groups: list[str] = []
    for key in keys:
        m = _BLOCK_KEY.match(key)
        group = m.group(0) + "*" if m else key
        if group not in groups:
            groups.append(group)
    shown = ", ".join(groups[:_SHOWN_KEYS])
    return shown + (", ..." if len(groups) > _SHOWN_KEYS else "")


#: What to do about weights that do not fit, where a person chose the architecture.
CHOOSE_ARCH = "Choose the architecture it was trained as (--arch), or let resviz infer it from the file"


def fit_state_dict(
    model: nn.Module, state: dict[str, Tensor], *, arch: str, label: str, hint: str = CHOOSE_ARCH
) -> None:
    """Load ``state`` into ``model`` or raise CheckpointError naming the first mismatches.

    BatchNorm's ``num_batches_tracked`` may be missing (files from torch < 0.4.1, such as
    pytorch_resnet_cifar10's): it does not affect evaluation.
    """
    expected = model.state_dict()
    missing = [k for k in expected if k not in state and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in state if k not in expected]
    kinds = [
        f"{k} {problem}" for k in expected if k in state for problem in [_unusable(state[k], expected[k])] if problem
    ]
    shapes = [
        f"{k} is {tuple(state[k].shape)} in the file but {tuple(expected[k].shape)} in {arch}"
        for k in expected
        if k in state and tuple(state[k].shape) != tuple(expected[k].shape)
    ]
    if kinds:
        shown = "; ".join(kinds[:2]) + ("; ..." if len(kinds) > 2 else "")
        raise CheckpointError(f"{label} holds weights resviz cannot use: {shown}")
    if missing or unexpected or shapes:
        parts = []
        if shapes:
            parts.append("; ".join(shapes[:2]) + ("; ..." if len(shapes) > 2 else ""))
        if missing:
            parts.append("missing " + _key_groups(missing))
        if unexpected:
            parts.append("unexpected " + _key_groups(unexpected))
        raise CheckpointError(
            f"{label} does not fit {arch}: it looks like {describe_state(state)}; "
            f"first mismatching keys: {' | '.join(parts)}. {hint}"
        )
    try:
        model.load_state_dict({k: v for k, v in state.items() if k in expected}, strict=False)
    except RuntimeError as exc:  # torch's first line is only "Error(s) in loading state_dict for ResNet:"
        lines = [ln.strip() for ln in str(exc).splitlines()[1:] if ln.strip()]
        raise CheckpointError(f"{label} does not fit {arch}: {' '.join(lines[:2])[:300] or exc}") from None


def _unusable(value, wanted: Tensor) -> str:
    """Why a tensor of the file cannot stand in for ``wanted`` ("" when it can)."""
    if not isinstance(value, Tensor):
        return f"is a {type(value).__name__}, not a tensor"
    if value.device.type == "meta":
        return "is on meta, a tensor without data"
    if value.layout != torch.strided:
        return f"is a {value.layout} tensor, not a dense one"
    if value.is_complex() or value.dtype == torch.bool or value.is_floating_point() != wanted.is_floating_point():
        kind = "floating-point" if wanted.is_floating_point() else "integer"
        return f"is {str(value.dtype).removeprefix('torch.')}, not {kind}"
    return ""
