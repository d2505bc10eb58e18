"""Loss-landscape figures: 1D curves, or 2D contour plots side by side on one colour scale.

As Li et al. 2018 (arXiv:1712.09913, Fig. 5) draw ResNet-56 beside its no-shortcut twin:
the same contour levels for every net, so a chaotic plain net and a smooth residual one
are read on the same footing. Levels are spaced logarithmically, because a plain net's loss
a step away from its minimum can be a hundred times the residual net's.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..inspect.figures import _figure
from .sweep import BN_NOTE, Landscape

__all__ = ["landscape_figure", "contour_levels"]


def contour_levels(results: Sequence[Landscape], n: int = 24) -> np.ndarray:
    """Shared contour levels: log-spaced from the lowest loss of all nets to the highest."""
    values = np.concatenate([np.asarray(r.loss, dtype=np.float64).ravel() for r in results])
    values = values[np.isfinite(values)]
    lo, hi = float(values.min()), float(values.max())
    if hi <= lo:
        hi = lo + 1e-6
    if lo > 0:
        return np.geomspace(lo, hi, n)
    return np.linspace(lo, hi, n)


def _subtitle(r: Landscape) -> str:
    loss, err = r.centre()
    return f"{r.name}\ncentre: loss {loss:.3f}, error {err:.1f}%"


def landscape_figure(results: Sequence[Landscape], *, title: str = ""):
    """One panel per net (2D), or one panel of curves (1D); loss and error in 1D."""
    if not results:
        raise ValueError("no landscapes to draw")
    dims = {r.dims for r in results}
    if len(dims) != 1:
        raise ValueError("cannot draw 1D and 2D landscapes in one figure")
    head = title or "Loss landscape along filter-normalised random directions (Li et al. 2018)"
    r0 = results[0]
    note = f"{r0.n_images} training images, seed {r0.seed}; {BN_NOTE}"
    if dims == {1}:
        fig = _figure(9.0, 3.6)
        ax_loss, ax_err = fig.subplots(1, 2)
        for r in results:
            ax_loss.plot(r.alphas, r.loss, marker=".", label=r.name)
            ax_err.plot(r.alphas, r.error, marker=".", label=r.name)
        ax_loss.set_yscale("log" if all((r.loss > 0).all() for r in results) else "linear")
        ax_loss.set_ylabel("training loss")
        ax_err.set_ylabel("training error (%)")
        for ax in (ax_loss, ax_err):
            ax.set_xlabel("step along the direction (a)")
            ax.axvline(0, color="grey", linewidth=0.6, linestyle=":")
            ax.legend(fontsize=8, frameon=False)
        fig.suptitle(f"{head}\n{note}", fontsize=9)
        fig.tight_layout()
        return fig
    levels = contour_levels(results)
    fig = _figure(3.6 * len(results) + 1.2, 4.0)
    fig.set_layout_engine("constrained")
    axes = fig.subplots(1, len(results), squeeze=False)[0]
    from matplotlib.colors import LogNorm, Normalize

    norm = LogNorm(levels[0], levels[-1]) if levels[0] > 0 else Normalize(levels[0], levels[-1])
    mappable = None
    for ax, r in zip(axes, results, strict=False):
        mappable = ax.contour(r.alphas, r.betas, r.loss, levels=levels, norm=norm, cmap="viridis", linewidths=0.9)
        ax.plot([0], [0], marker="+", color="black")
        ax.set_aspect("equal")
        ax.set_xlabel("a (direction 1)")
        ax.set_ylabel("b (direction 2)")
        ax.set_title(_subtitle(r), fontsize=8)
    cbar = fig.colorbar(mappable, ax=list(axes), shrink=0.9)
    ticks = levels[:: max(1, len(levels) // 6)]
    cbar.set_ticks(ticks, labels=[f"{v:.3g}" for v in ticks])
    cbar.minorticks_off()
    cbar.set_label("training loss (one scale for all)", fontsize=8)
    fig.suptitle(f"{head}\n{note}", fontsize=9)
    return fig
