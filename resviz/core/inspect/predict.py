"""One forward pass: the top-k predictions and the most active channels at each level.

Activations are read with forward hooks on the level modules (``level_module``: CIFAR
stages 1/2/3, ImageNet layer1 / layer3 / layer4 outputs), so the net runs exactly as it
classifies, switches and all. Channels are ranked by their mean activation over the map,
the usual way to pick what to show first in a feature-map grid.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from ..archs import LEVELS
from ..models import ResNet, level_module
from .finite import check_finite_logits, first_nonfinite_layer

__all__ = ["Prediction", "LevelActivations", "Look", "look", "top_k"]


@dataclass(frozen=True)
class Prediction:
    """A class the net predicts, with its softmax probability."""

    index: int
    name: str
    probability: float


@dataclass
class LevelActivations:
    """The most active channels of one level's output, for a channel grid."""

    level: str
    module: str  # layer1 ...
    channels: np.ndarray  # channel indices, most active first (int64, K)
    means: np.ndarray  # their mean activations (float32, K)
    maps: np.ndarray  # their maps (float32, K x h x w), ready for an image item
    total_channels: int


@dataclass
class Look:
    """What one image does to the net: logits, top-k classes, activations per level."""

    logits: np.ndarray  # float32, num_classes
    predictions: list[Prediction]
    activations: dict[str, LevelActivations] = field(default_factory=dict)


def top_k(logits: Tensor | np.ndarray, classes: list[str], k: int = 5) -> list[Prediction]:
    """The ``k`` most probable classes of one logit vector, most probable first."""
    logits = torch.as_tensor(np.asarray(logits), dtype=torch.float64).reshape(-1)
    probs = torch.softmax(logits, dim=0)
    values, indices = probs.topk(min(k, probs.numel()))
    return [Prediction(int(i), classes[int(i)], float(p)) for p, i in zip(values, indices, strict=True)]


def look(model: ResNet, inputs: Tensor, classes: list[str], *, k: int = 5, top_channels: int | None = 16) -> Look:
    """Predictions and per-level activations of the first image in ``inputs`` (one pass)."""
    captured: dict[str, Tensor] = {}
    names = {id(m): n for n, m in model.named_children()}
    handles = []
    for level in LEVELS:
        module = level_module(model, level)

        def hook(_m, _inp, out, level=level):
            captured[level] = out.detach()[0]

        handles.append(module.register_forward_hook(hook))
    try:
        with torch.no_grad():
            logits = model(inputs[:1])[0].float().cpu()
    finally:
        for h in handles:
            h.remove()
    check_finite_logits(logits, lambda: first_nonfinite_layer(model, inputs[:1]))  # logits are on the host already
    activations = {}
    for level in LEVELS:
        act = captured[level].float().cpu()  # C x h x w
        means = act.mean(dim=(1, 2))
        order = torch.argsort(means, descending=True, stable=True)
        if top_channels is not None:
            order = order[:top_channels]
        activations[level] = LevelActivations(
            level=level,
            module=names.get(id(level_module(model, level)), level),
            channels=order.numpy().astype(np.int64),
            means=means[order].numpy().astype(np.float32),
            maps=act[order].numpy().astype(np.float32),
            total_channels=int(act.shape[0]),
        )
    return Look(logits.numpy().astype(np.float32), top_k(logits, classes, k), activations)
