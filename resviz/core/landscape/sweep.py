"""The training loss and error around the trained weights, on a 1D or 2D grid.

Li et al. 2018 (arXiv:1712.09913) plot ``f(a, b) = L(theta + a d1 + b d2)`` along two
filter-normalised random directions (:mod:`.directions`); their Fig. 5 shows ResNet-56's
surface convex and smooth and the same net without shortcuts chaotic: the optimisation
difficulty He et al. 2016 (section 4.1) blame for the degradation problem, seen.

How the sweep stays at the cost of plain evaluations (issue #13's benchmark):

* one model, the caller's, whose parameters are written in place at each point: one
  ``torch._foreach_copy_`` of the trained weights and one ``torch._foreach_add_`` per
  direction, no rebuilding, no copy of the model per point; the trained weights are copied
  back exactly when the sweep ends, is cancelled or fails;
* the N training images are preprocessed once and kept on the device;
* each point's summed loss and wrong count stay on the device; one transfer at the end.

BN runs in eval mode on the trained net's running statistics, which do not move with the
weights (the statistics of the weights at a point would need a training-mode pass per
point, and would hide part of what the point's weights do); the figures say so. The loss
is the mean cross-entropy without the weight-decay term.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..data import ImageSet
from ..errors import ConfigError
from ..inspect.cancel import CancelToken, raise_if_cancelled
from ..inspect.preprocess import Preprocess
from ..inspect.subset import limit_indices
from ..metrics import error_percent
from ..models import ResNet
from .directions import Directions, make_directions, moved_parameters

__all__ = ["Landscape", "loss_landscape", "grid_axis", "landscapes_csv", "landscapes_json", "BN_NOTE"]

Progress = Callable[[int, int], None]

#: What every figure and export says about BN (issue #13).
BN_NOTE = "BN in eval mode on the trained running statistics"


@dataclass(frozen=True, eq=False)
class Landscape:
    """Loss and error (percent) on a grid of ``alphas`` (x ``betas``) around the weights.

    1D: ``loss`` has shape (G,). 2D: (len(betas), len(alphas)), rows along ``b`` (the
    layout matplotlib's contour takes). The centre (0, 0) is the trained net itself.
    """

    name: str
    alphas: np.ndarray
    betas: np.ndarray | None
    loss: np.ndarray
    error: np.ndarray
    seed: int
    n_images: int
    seconds: float

    @property
    def dims(self) -> int:
        return 1 if self.betas is None else 2

    def centre(self) -> tuple[float, float]:
        """(loss, error) at the trained weights (the grid point nearest 0)."""
        i = int(np.argmin(np.abs(self.alphas)))
        if self.betas is None:
            return float(self.loss[i]), float(self.error[i])
        j = int(np.argmin(np.abs(self.betas)))
        return float(self.loss[j, i]), float(self.error[j, i])

    def rows(self) -> list[dict]:
        """One row per grid point: net, alpha, beta (empty in 1D), loss, error."""
        if self.betas is None:
            return [
                {"net": self.name, "alpha": float(a), "beta": "", "loss": float(lo), "error": float(e)}
                for a, lo, e in zip(self.alphas, self.loss, self.error, strict=True)
            ]
        return [
            {
                "net": self.name,
                "alpha": float(a),
                "beta": float(b),
                "loss": float(self.loss[j, i]),
                "error": float(self.error[j, i]),
            }
            for j, b in enumerate(self.betas)
            for i, a in enumerate(self.alphas)
        ]

    @property
    def nbytes(self) -> int:
        """Its size for byte-bounded caches."""
        return int(self.loss.nbytes + self.error.nbytes + self.alphas.nbytes)

    def to_dict(self) -> dict:
        """JSON-friendly: the grid, loss and error as lists."""
        return {
            "net": self.name,
            "dims": self.dims,
            "seed": self.seed,
            "images": self.n_images,
            "bn": BN_NOTE,
            "alphas": self.alphas.tolist(),
            "betas": None if self.betas is None else self.betas.tolist(),
            "loss": self.loss.tolist(),
            "error_percent": self.error.tolist(),
            "seconds": round(self.seconds, 3),
        }


def landscapes_csv(results: list[Landscape]) -> str:
    """Every grid point of every net as CSV (error in percent)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["net", "alpha", "beta", "loss", "error"])
    writer.writeheader()
    for r in results:
        writer.writerows(r.rows())
    return out.getvalue()


def landscapes_json(results: list[Landscape]) -> str:
    """Every net's grid, loss and error as JSON."""
    return json.dumps({"bn": BN_NOTE, "nets": [r.to_dict() for r in results]}, indent=2)


def grid_axis(grid: int, span: float) -> np.ndarray:
    """``grid`` points from -span to span; an odd grid has 0 (the trained net) exactly."""
    if grid < 2:
        raise ConfigError(f"a landscape grid needs at least 2 points per axis, not {grid}")
    if not span > 0:
        raise ConfigError(f"the span must be positive, not {span}")
    axis = np.linspace(-span, span, int(grid))
    if grid % 2:
        axis[grid // 2] = 0.0  # linspace can leave 1e-17 there
    return axis


def _inputs(
    split: ImageSet, preprocess: Preprocess, n_images: int, batch_size: int, device
) -> list[tuple[Tensor, Tensor]]:
    idx = torch.from_numpy(limit_indices(split.labels, n_images))
    out = []
    for i in range(0, len(idx), batch_size):
        j = idx[i : i + batch_size]
        out.append((preprocess.batch(split.images[j]).to(device), split.labels[j].to(device)))
    return out


def loss_landscape(
    model: ResNet,
    split: ImageSet,
    preprocess: Preprocess,
    *,
    dims: int = 2,
    grid: int = 21,
    span: float = 1.0,
    n_images: int = 1000,
    seed: int = 0,
    batch_size: int = 500,
    directions: Directions | None = None,
    name: str = "",
    progress: Progress | None = None,
    token: CancelToken | None = None,
) -> Landscape:
    """The loss landscape of ``model`` on ``n_images`` of ``split`` (its training images).

    The model's weights are moved in place and restored exactly before this returns (also
    after a cancel or an error); its mode is restored too. ``progress(points_done, points)``
    after every grid point; ``token`` is checked as often.
    """
    started = time.perf_counter()
    if dims not in (1, 2):
        raise ConfigError(f"a landscape has 1 or 2 dimensions, not {dims}")
    if n_images < 1:
        raise ConfigError(f"a landscape needs at least one training image, not {n_images}")
    alphas = grid_axis(grid, span)
    betas = grid_axis(grid, span) if dims == 2 else None
    directions = directions or make_directions(model, seed=seed, dims=dims)
    moved = [p for _, p in moved_parameters(model)]
    if len(directions.vectors) != dims or [n for n, _ in moved_parameters(model)] != list(directions.names):
        raise ConfigError("the directions were made for another net or number of dimensions")
    device = moved[0].device
    batches = _inputs(split, preprocess, n_images, batch_size, device)
    n = sum(len(y) for _, y in batches)
    points = [(a, 0.0) for a in alphas] if betas is None else [(a, b) for b in betas for a in alphas]
    loss = torch.zeros(len(points), dtype=torch.float64, device=device)
    wrong = torch.zeros(len(points), dtype=torch.int64, device=device)
    trained = [p.detach().clone() for p in moved]
    d1 = list(directions.vectors[0])
    d2 = list(directions.vectors[1]) if dims == 2 else None
    was_training = model.training
    model.eval()
    try:
        for k, (a, b) in enumerate(points):
            raise_if_cancelled(token)
            with torch.no_grad():  # theta + a d1 + b d2, written into the parameters
                torch._foreach_copy_(moved, trained)
                if a:
                    torch._foreach_add_(moved, d1, alpha=float(a))
                if b:
                    torch._foreach_add_(moved, d2, alpha=float(b))
            with torch.inference_mode():
                for x, y in batches:
                    logits = model(x)
                    loss[k] += F.cross_entropy(logits, y, reduction="sum").double()
                    wrong[k] += (logits.argmax(dim=1) != y).sum()
            if progress:
                progress(k + 1, len(points))
    finally:
        with torch.no_grad():
            torch._foreach_copy_(moved, trained)
        model.train(was_training)
    shape = (len(alphas),) if betas is None else (len(betas), len(alphas))
    loss_np = (loss / n).cpu().numpy().reshape(shape)
    error_np = error_percent(wrong.double().cpu().numpy(), n).reshape(shape)  # the one formula (issue #9)
    return Landscape(
        name or getattr(model, "arch_name", "net"),
        alphas,
        betas,
        loss_np,
        error_np,
        int(seed),
        n,
        time.perf_counter() - started,
    )
