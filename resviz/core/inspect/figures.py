"""Figures for files and the CLI: attribution overlays and the lesion-study bar chart.

Drawn on a bare ``matplotlib.figure.Figure`` with the Agg canvas, never through pyplot:
no global backend is chosen, so this works headless, in worker threads and next to Qt.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import ResvizError
from .lesion import LesionResult
from .subset import describe_class_counts

__all__ = ["attribution_figure", "lesion_figure", "save_figure"]


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig, path: str | Path) -> Path:
    """Write ``fig`` (PNG, SVG or PDF by the suffix); a clear error if that fails.

    ``path`` is the one :func:`~resviz.core.outputs.check_output` returned (a name without a
    suffix already has ``.png``); it is written through a temporary file (issue #17)."""
    from ..outputs import atomic_output, figure_format, resolve_output

    path = resolve_output(path, kind="figure", what="figure")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(path) as tmp:
            fig.savefig(tmp, bbox_inches="tight", format=figure_format(path))
    except (OSError, ValueError) as exc:
        raise ResvizError(f"cannot write the figure to {path}: {exc}") from None
    return path


def attribution_figure(
    image: np.ndarray,
    panels: Sequence[tuple[str, np.ndarray]],
    *,
    title: str = "",
    cmap: str | None = None,
    alpha: float = 0.5,
):
    """The input as the net sees it, then one overlay per (caption, heatmap) panel."""
    from .display import overlay

    fig = _figure(2.6 * (1 + len(panels)), 3.0)
    axes = fig.subplots(1, 1 + len(panels), squeeze=False)[0]
    axes[0].imshow(image, interpolation="nearest")
    axes[0].set_title("as the net sees it", fontsize=9)
    for ax, (caption, heat) in zip(axes[1:], panels, strict=False):
        ax.imshow(overlay(image, heat, cmap=cmap, alpha=alpha), interpolation="nearest")
        ax.set_title(caption, fontsize=9)
    for ax in axes:
        ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def lesion_figure(result: LesionResult):
    """Test error per lesioned block, both kinds, depth order, intact error as a line."""
    n = len(result.blocks)
    fig = _figure(max(6.0, 0.28 * n + 2.0), 3.6)
    ax = fig.subplots()
    x = np.arange(n)
    width = 0.4
    ax.bar(x - width / 2, result.residual_error, width, label="residual branch deleted", color="#4c72b0")
    ax.bar(x + width / 2, result.shortcut_error, width, label="shortcut removed", color="#dd8452")
    ax.axhline(
        result.intact_error, color="black", linewidth=1, linestyle="--", label=f"intact ({result.intact_error:.1f}%)"
    )
    for b in result.blocks:
        if b.downsamples:  # a stage boundary: maps halve and widths double from this block on
            ax.axvline(b.index - 0.5, color="grey", linewidth=0.8, linestyle=":", zorder=0)
    ax.set_xticks(x)
    ax.set_xticklabels([b.name + (" ↓" if b.downsamples else "") for b in result.blocks], rotation=90, fontsize=7)
    ax.set_ylabel("test error (%)")
    highest = max([result.intact_error, *result.residual_error, *result.shortcut_error])
    ax.set_ylim(0, min(100.0, max(5.0, 1.15 * highest)))
    ax.set_title(
        f"Lesion study of {result.arch} on {result.n_images:,} test images "
        f"({describe_class_counts(result.class_counts, short=True)}; ↓ downsampling block)",
        fontsize=9,
        pad=24,
    )
    ax.legend(fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False)
    fig.tight_layout()
    return fig
