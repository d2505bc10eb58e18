"""The fields of a resviz checkpoint, checked before they are used (issue #9).

A checkpoint is a dict anyone can write (:mod:`resviz.core.checkpoint` lists its keys); a
``mean`` of the wrong shape, ``shortcuts`` that are a string or ``classes`` that are a
number used to load silently or end in a traceback. Each field is checked for its type
here, and against the built net in :meth:`CheckpointFields.check_against`, and every
problem is one line that names the file and the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from ..errors import CheckpointError

__all__ = ["CheckpointFields", "checkpoint_fields", "check_tensors"]

Switches = bool | list[bool] | None
#: The largest step a checkpoint may record: 10**12 steps is centuries of training; anything
#: beyond is a damaged or forged file (issue #17: a step of 10**20 was accepted).
MAX_STEP = 10**12


@dataclass
class CheckpointFields:
    """What a resviz checkpoint records, each field of the type its use needs."""

    label: str
    arch: str | None
    classes: list[str] | None
    num_classes: int | None
    shortcuts: Switches
    residuals: Switches
    mean: Tensor | None
    dataset: str | None
    step: int
    config: dict[str, Any] | None

    def check_against(self, model) -> None:
        """Refuse fields that contradict the net built from the weights."""
        n_blocks = len(model.blocks())
        for name in ("shortcuts", "residuals"):
            value = getattr(self, name)
            if isinstance(value, list) and len(value) != n_blocks:
                raise CheckpointError(
                    f"{self.label} is damaged: its {name!r} has {len(value)} entries for {n_blocks} blocks"
                )
        if self.num_classes is not None and self.num_classes != model.num_classes:
            raise CheckpointError(
                f"{self.label} is damaged: its 'num_classes' says {self.num_classes} but its head has {model.num_classes}"
            )
        if self.mean is not None:
            channels = int(model.conv1.weight.shape[1])
            if self.mean.shape[0] != channels:
                raise CheckpointError(
                    f"{self.label} is damaged: its 'mean' has {self.mean.shape[0]} channels but the net takes {channels}"
                )


def _kind(value: Any) -> str:
    """``a str``, ``an int``: the type of ``value`` for a message."""
    name = type(value).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def _wrong(label: str, name: str, value: Any, wanted: str) -> CheckpointError:
    return CheckpointError(f"{label} is damaged: its {name!r} is {_kind(value)}, not {wanted}")


def _switches(label: str, name: str, value: Any) -> Switches:
    if value is None or isinstance(value, bool):
        return value
    if not isinstance(value, (list, tuple)):
        raise _wrong(label, name, value, "a list of true/false values, one per block")
    if not all(isinstance(v, bool) for v in value):
        raise CheckpointError(f"{label} is damaged: its {name!r} must be true/false values, one per block")
    return list(value) or None


def _optional(label: str, ckpt: dict, name: str, kind: type | tuple[type, ...], wanted: str) -> Any:
    value = ckpt.get(name)
    if value is None:
        return None
    if isinstance(value, bool) and kind is int or not isinstance(value, kind):
        raise _wrong(label, name, value, wanted)
    return value


def _mean(label: str, value: Any) -> Tensor | None:
    if value is None:
        return None
    if not isinstance(value, Tensor):
        raise _wrong(label, "mean", value, "a C x H x W tensor")
    if value.dim() != 3 or min(value.shape) < 1:
        raise CheckpointError(f"{label} is damaged: its 'mean' has shape {tuple(value.shape)}, not C x H x W")
    if not value.is_floating_point() or value.device.type == "meta" or value.layout != torch.strided:
        raise CheckpointError(f"{label} is damaged: its 'mean' is a {value.dtype} tensor, not floating-point pixels")
    if not bool(torch.isfinite(value).all()):
        raise CheckpointError(f"{label} is damaged: its 'mean' holds NaN or infinite values")
    return value.float()


def _check_image_shape(label: str, shape: Any, mean: Tensor | None) -> None:
    """``image_shape`` is C, H, W and agrees with ``mean`` (issue #17: a 3x7x7 mean with an
    image_shape of 3x16x16 evaluated the net at 7x7, silently)."""
    if shape is None:
        return
    if not (
        isinstance(shape, (list, tuple))
        and len(shape) == 3
        and all(isinstance(n, int) and not isinstance(n, bool) and 0 < n <= 2**16 for n in shape)
    ):
        raise _wrong(label, "image_shape", shape, "C, H, W: three positive whole numbers")
    if mean is not None and list(mean.shape) != list(shape):
        have = "x".join(map(str, mean.shape))
        raise CheckpointError(
            f"{label} is damaged: its 'mean' is {have} but its 'image_shape' says {'x'.join(map(str, shape))}; "
            "the two contradict each other, so the input size is unknown"
        )


def checkpoint_fields(ckpt: dict[str, Any], label: str) -> CheckpointFields:
    """The fields of ``ckpt`` checked for type (CheckpointError naming the first wrong one)."""
    classes = _optional(label, ckpt, "classes", (list, tuple), "a list of class names")
    if classes is not None and not all(isinstance(c, str) for c in classes):
        raise CheckpointError(f"{label} is damaged: its 'classes' must be names (strings)")
    step = _optional(label, ckpt, "step", int, "a whole number")
    if step is not None and not 0 <= step <= MAX_STEP:
        raise CheckpointError(f"{label} is damaged: its 'step' is {step}, not a step count from 0 to {MAX_STEP:,}")
    for name, kind, wanted in (("family", str, "a name"), ("shortcut", str, "A, B or C"), ("version", int, "a number")):
        _optional(label, ckpt, name, kind, wanted)
    if ckpt.get("shortcut") not in (None, "A", "B", "C"):  # found by attack (issue #17): "Z" loaded
        raise _wrong(label, "shortcut", ckpt["shortcut"], "the shortcut option A, B or C")
    num_classes = _optional(label, ckpt, "num_classes", int, "a whole number")
    mean = _mean(label, ckpt.get("mean"))
    _check_image_shape(label, ckpt.get("image_shape"), mean)
    return CheckpointFields(
        label=label,
        arch=_optional(label, ckpt, "arch", str, "an architecture name"),
        classes=list(classes) if classes is not None else None,
        num_classes=num_classes,
        shortcuts=_switches(label, "shortcuts", ckpt.get("shortcuts")),
        residuals=_switches(label, "residuals", ckpt.get("residuals")),
        mean=mean,
        dataset=_optional(label, ckpt, "dataset", str, "a data set name"),
        step=int(step or 0),
        config=_optional(label, ckpt, "config", dict, "a dict of training settings"),
    )


def check_tensors(state: dict, label: str) -> dict[str, Tensor]:
    """``state`` when it is a non-empty dict of tensors; CheckpointError naming what is not."""
    if not isinstance(state, dict):
        raise CheckpointError(f"{label} is a resviz checkpoint without weights (its 'model' is {_kind(state)})")
    if not state:
        raise CheckpointError(f"{label} holds no weights: its weights are an empty dict")
    for key, value in state.items():
        if not isinstance(key, str):
            raise CheckpointError(f"{label} is damaged: its weights are named by {_kind(key)} ({key!r}), not a string")
        if not isinstance(value, Tensor):
            raise CheckpointError(f"{label} is damaged: its weight {key} is {_kind(value)}, not a tensor")
    return state
