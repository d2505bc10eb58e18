"""What a swept landscape shows, as a number measured the same way for every net.

Li et al. 2018 (arXiv:1712.09913, Fig. 5 and section 6) see a residual net's loss
surface stay nearly convex while its plain twin's turns chaotic — at 56 and 110 layers;
at 20 layers the two look alike. To say what *this* sweep measured rather than repeat
their claim, :func:`nonconvex_share` counts the grid points where the surface is not
locally convex: a negative second difference along a grid direction (the discrete
analogue of a negative curvature, which Li et al. map with the Hessian's eigenvalue
ratio in their Fig. 7). A bowl scores 0; a surface of many pits and ridges scores near 1.
"""

from __future__ import annotations

import numpy as np

__all__ = ["nonconvex_share", "second_differences"]

#: Second differences smaller than this share of the loss's range count as flat, not
#: concave: float noise on a plateau must not read as roughness.
FLAT = 1e-6


def second_differences(loss: np.ndarray) -> list[np.ndarray]:
    """The central second differences of a 1D (G,) or 2D (B, A) loss grid at the interior
    points: ``[d2 along a]`` in 1D, ``[d2 along a, d2 along b]`` in 2D, each of the
    interior's shape (G-2,) or (B-2, A-2)."""
    loss = np.asarray(loss, dtype=np.float64)
    if loss.ndim == 1:
        return [loss[:-2] - 2 * loss[1:-1] + loss[2:]]
    if loss.ndim == 2:
        inner = loss[1:-1, 1:-1]
        along_a = loss[1:-1, :-2] - 2 * inner + loss[1:-1, 2:]
        along_b = loss[:-2, 1:-1] - 2 * inner + loss[2:, 1:-1]
        return [along_a, along_b]
    raise ValueError(f"a landscape is a 1D or 2D grid, not {loss.ndim}D")


def nonconvex_share(loss: np.ndarray) -> float:
    """The share (0 to 1) of interior grid points where the loss curves downwards along a
    grid direction (any of them); NaN where the grid has no interior (fewer than 3 points
    a side) or the loss is not finite there."""
    loss = np.asarray(loss, dtype=np.float64)
    if min(loss.shape) < 3:
        return float("nan")
    finite = loss[np.isfinite(loss)]
    if finite.size != loss.size:
        return float("nan")
    tol = FLAT * max(float(finite.max() - finite.min()), 1e-12)
    concave = np.zeros(second_differences(loss)[0].shape, dtype=bool)
    for d2 in second_differences(loss):
        concave |= d2 < -tol
    return float(concave.mean())
