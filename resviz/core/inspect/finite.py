"""Logits that are not numbers: checked in every evaluation, the first bad layer named.

Finite weights can still compute NaN or infinity: an ``fc`` weight of 3e38 overflows
float32 in the first dot product, and a BatchNorm whose ``running_var + eps`` is negative
takes the square root of a negative number. ``argmax`` of such logits is an arbitrary
class, so ``eval`` printed "test error 90 %" and the lesion study 90 % for every block
(issue #17). Every evaluation therefore checks its logits, on the device, in the same
host read that already fetches the count of wrong answers (no extra synchronisation per
batch); only when the check fails does a second forward pass, with hooks, name the first
layer whose output is not finite.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from ..errors import CheckpointError

__all__ = ["NonFiniteLogits", "count_wrong", "first_nonfinite_layer", "check_finite_logits"]


class NonFiniteLogits(CheckpointError):
    """A net computed NaN or infinite logits from finite weights and inputs."""


def first_nonfinite_layer(model: nn.Module, x: Tensor) -> str | None:
    """The name of the first module (in the order they run) whose output holds NaN or inf.

    A forward pass with a hook on every leaf module; only for the error message, after a
    check failed, so the host read per layer costs nothing on the normal path.
    """
    found: list[str] = []
    handles = []
    for name, module in model.named_modules():
        if next(module.children(), None) is not None:
            continue  # containers: their leaves run (and fail) first

        def hook(_m, _inp, out, name=name):
            if not found and isinstance(out, Tensor) and out.is_floating_point():
                if not bool(torch.isfinite(out).all()):
                    found.append(name)

        handles.append(module.register_forward_hook(hook))
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return found[0] if found else None


def _refusal(locate: Callable[[], str | None], what: str) -> NonFiniteLogits:
    layer = locate()
    where = f"from layer {layer} on" if layer else "in its output"
    return NonFiniteLogits(
        f"the net computes NaN or infinite values {where} for {what}, although its weights are finite "
        "(a weight too large for float32, or a BatchNorm that divides by zero): its results would be "
        "meaningless; use another checkpoint"
    )


def check_finite_logits(logits: Tensor, locate: Callable[[], str | None], what: str = "this image") -> None:
    """Raise :class:`NonFiniteLogits` when ``logits`` hold NaN or inf (one host read)."""
    if not bool(torch.isfinite(logits).all()):
        raise _refusal(locate, what)


def count_wrong(
    logits: Tensor,
    labels: Tensor,
    locate: Callable[[], str | None],
    *,
    top5: bool = False,
    what: str = "the test images",
) -> tuple[int, int]:
    """Top-1 (and top-5, else 0) wrong answers of a batch, after checking the logits are finite.

    The counts and the finiteness flag reach the host in one read, the one the count alone
    needed before. ``locate()`` names the first non-finite layer when the check fails.
    """
    wrong = (logits.argmax(dim=1) != labels).sum()
    if top5:
        hit = (logits.topk(5, dim=1).indices == labels[:, None]).any(dim=1)
        wrong5 = (~hit).sum()
    else:
        wrong5 = torch.zeros_like(wrong)
    finite = torch.isfinite(logits).all().to(wrong.dtype)
    n_wrong, n_wrong5, ok = torch.stack([wrong, wrong5, finite]).tolist()
    if not ok:
        raise _refusal(locate, what)
    return int(n_wrong), int(n_wrong5)
