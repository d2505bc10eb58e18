"""resviz's own checkpoint format: weights plus what it takes to use them.

A checkpoint is a plain dict of tensors, numbers, strings and lists, saved with
``torch.save`` and read back with ``torch.load(weights_only=True)``, so opening a file
from the internet never runs code (DESIGN.md, "Runs on disk"). Files are written to a
temporary name and moved into place with ``os.replace``: a crash mid-write leaves the
previous checkpoint intact.

Keys (version 1):
    format, version        "resviz-checkpoint", 1
    arch, family, shortcut the architecture name (resnet20 ...), cifar/imagenet, A/B/C
    num_classes, classes   the head's size and the class names
    shortcuts, residuals   the per-block switches, depth order
    mean, image_shape      the per-pixel training mean (C x H x W, in [0, 1]) and C, H, W
    dataset                the data set's name
    step                   optimizer steps done
    config                 the TrainConfig as a dict (None for models not trained here)
    model                  the state dict
    optimizer, trainer     optional: what resuming needs (optimizer state, RNG states ...)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch

from .archive import check_archive
from .errors import CheckpointError
from .models import ResNet
from .write_errors import discard, is_torch_short_write, write_error

__all__ = [
    "CHECKPOINT_FORMAT",
    "checkpoint_dict",
    "save_checkpoint",
    "load_checkpoint",
    "all_finite",
    "check_finite_weights",
]

CHECKPOINT_FORMAT = "resviz-checkpoint"
CHECKPOINT_VERSION = 1


def checkpoint_dict(
    model: ResNet,
    *,
    classes: list[str],
    mean: torch.Tensor | None,
    dataset: str,
    step: int = 0,
    config: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The dict :func:`save_checkpoint` writes, for ``model`` as it is now."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    return {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "arch": model.arch_name,
        "family": model.family,
        "shortcut": model.shortcut_option,
        "num_classes": model.num_classes,
        "classes": list(classes),
        "shortcuts": model.shortcuts(),
        "residuals": model.residuals(),
        "mean": None if mean is None else mean.detach().cpu(),
        "image_shape": None if mean is None else list(mean.shape),
        "dataset": dataset,
        "step": int(step),
        "config": config,
        "model": state,
        **extra,
    }


def save_checkpoint(path: str | Path, checkpoint: dict[str, Any]) -> Path:
    """Write atomically: a temporary file in the same folder, then ``os.replace``.

    A failed write (a full disk) leaves no temporary file and raises a one-line
    :class:`~resviz.core.errors.WriteError`. torch writes through the open file, so the
    failure arrives as the OS's ``OSError`` (ENOSPC) rather than torch's opaque
    "unexpected pos" of a write by file name (issue #9).
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            torch.save(checkpoint, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise write_error(exc, path) from None
    except RuntimeError as exc:
        if not is_torch_short_write(exc):  # torch's zip writer on a full disk (issue #17)
            raise
        raise write_error(exc, path) from None
    finally:
        discard(tmp)
    return path


def all_finite(tensors: Iterable[torch.Tensor]) -> bool:
    """True when no element of the floating-point ``tensors`` is NaN or infinite.

    One fused reduction on the tensors' device and one host read, so the trainer can
    afford it at every checkpoint (issue #9): the largest magnitude of each tensor in one
    ``torch._foreach_norm(ord=inf)``, then their maximum. NaN and inf survive a maximum,
    and unlike a sum of squares a large but finite weight cannot overflow into an alarm.
    """
    floats = [t.detach() for t in tensors if t.is_floating_point() and t.numel()]
    if not floats:
        return True
    peaks = torch._foreach_norm(floats, float("inf"))
    return bool(torch.isfinite(torch.stack([p.float() for p in peaks]).max()))


def check_finite_weights(model_or_state: torch.nn.Module | Mapping[str, Any], label: str | None = None) -> None:
    """Raise :class:`CheckpointError` when a weight or buffer of the model is NaN or infinite.

    A net whose training diverged computes nonsense (``eval`` printed "test error 89.97 %"
    for all-NaN weights): refuse it with a line that names the tensors (issue #9).
    """
    state = model_or_state.state_dict() if isinstance(model_or_state, torch.nn.Module) else model_or_state
    tensors = {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}
    if all_finite(tensors.values()):
        _check_variances(tensors, label)
        return
    bad = [k for k, v in tensors.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
    raise CheckpointError(
        f"{label or 'the model'} holds weights that are not finite (NaN or infinite in {', '.join(bad[:3])}{more}): "
        "its training diverged before they were saved; use an earlier checkpoint"
    )


def _check_variances(tensors: Mapping[str, torch.Tensor], label: str | None) -> None:
    """Refuse a BatchNorm ``running_var`` below zero: no data set has a negative variance, and
    ``sqrt(var + eps)`` of one is NaN, which made "test error 90 %" of a net (issue #17)."""
    for key, value in tensors.items():
        if key.endswith("running_var") and value.is_floating_point() and value.numel():
            low = float(value.min())
            if low < 0:
                layer = key.removesuffix(".running_var")
                raise CheckpointError(
                    f"{label or 'the model'} holds a negative running variance in {layer} ({low:.3g}): "
                    "a variance cannot be negative, so the file was altered or damaged; use another checkpoint"
                )


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a resviz checkpoint without running any code from the file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        with open(path, "rb") as f:
            zipped = f.read(4) == b"PK\x03\x04"
    except OSError as exc:
        raise CheckpointError(f"cannot read {path}: {exc.strerror or exc}") from None
    if zipped:  # every record's CRC-32 before torch reads it (issue #17)
        check_archive(path)
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:
        # (an empty file gives an exception without a message: found by attack, issue #17)
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise CheckpointError(f"{path} is not a readable checkpoint: {reason}") from exc
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} is not a resviz checkpoint")
    return ckpt
