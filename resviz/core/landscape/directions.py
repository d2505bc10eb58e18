"""Filter-normalised random directions in weight space (Li et al. 2018, arXiv:1712.09913).

Section 4 of "Visualizing the Loss Landscape of Neural Nets": a random Gaussian direction
``d`` with the shape of the weights ``theta`` is rescaled filter by filter,

    d_ij <- d_ij / ||d_ij|| * ||theta_ij||,

where ``d_ij`` is the j-th filter of layer i (one output channel's kernel), so a step of 1
along ``d`` moves every filter by its own size: a plot cannot look flatter or sharper only
because one net's weights are larger (the scale invariance their section 3 discusses).

What counts as a filter, following the paper and its code (``net_plotter.py``,
``normalize_directions_for_weights``): every parameter with two or more dimensions is cut
along its first, so a conv weight (out, in, k, k) has one filter per output channel and the
fully connected weight (classes, features) one per output unit; biases and BN's weight and
bias (one-dimensional) get a zero direction (the paper's "ignore biasbn": they are few, and
BN's scale would otherwise move with the weights it normalises). BN's running statistics
are buffers, not parameters: they stay as trained.

The raw Gaussian draws depend only on the seed and on the parameters' shapes, in the
model's parameter order: a residual net and its plain twin (the same parameters, He et al.
2016, section 4.1) get the same draws, so their landscapes are sections along the same
random directions, each scaled to its own filters.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

__all__ = ["Directions", "random_direction", "filter_normalize", "make_directions", "moved_parameters"]


@dataclass(frozen=True, eq=False)
class Directions:
    """One or two filter-normalised directions over the parameters that move."""

    names: tuple[str, ...]  # the parameters that move (two or more dimensions), model order
    vectors: tuple[tuple[Tensor, ...], ...]  # one tuple per direction, aligned with names
    seed: int


def moved_parameters(model: nn.Module) -> list[tuple[str, nn.Parameter]]:
    """The parameters a direction moves: every weight with two or more dimensions."""
    return [(name, p) for name, p in model.named_parameters() if p.dim() > 1]


def random_direction(model: nn.Module, seed: int, index: int = 0) -> list[Tensor]:
    """Direction ``index`` of ``seed``: Gaussian draws per moved parameter, on the CPU in
    float32 whatever the model's device (so the same seed gives the same numbers anywhere)."""
    g = torch.Generator().manual_seed(int(seed))
    shapes = [tuple(p.shape) for _, p in moved_parameters(model)]
    out: list[Tensor] = []
    for _ in range(index + 1):  # direction i+1 continues the stream of direction i
        out = [torch.randn(shape, generator=g, dtype=torch.float32) for shape in shapes]
    return out


def filter_normalize(direction: list[Tensor], weights: list[Tensor]) -> list[Tensor]:
    """Each filter (slice along dim 0) of ``direction`` rescaled to the norm of the same
    filter of ``weights`` (eq. of section 4; a zero weight filter gets a zero direction)."""
    out = []
    for d, w in zip(direction, weights, strict=True):
        d = d.to(device=w.device, dtype=w.dtype)
        d_norm = d.flatten(1).norm(dim=1)
        w_norm = w.detach().flatten(1).norm(dim=1)
        scale = w_norm / (d_norm + 1e-10)  # Li et al.'s epsilon
        out.append(d * scale.view(-1, *([1] * (d.dim() - 1))))
    return out


def make_directions(model: nn.Module, *, seed: int = 0, dims: int = 2) -> Directions:
    """``dims`` (1 or 2) filter-normalised directions for ``model``'s weights."""
    if dims not in (1, 2):
        raise ValueError(f"a landscape has 1 or 2 dimensions, not {dims}")
    moved = moved_parameters(model)
    weights = [p for _, p in moved]
    vectors = tuple(tuple(filter_normalize(random_direction(model, seed, i), weights)) for i in range(dims))
    return Directions(tuple(name for name, _ in moved), vectors, int(seed))
