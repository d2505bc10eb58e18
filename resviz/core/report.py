"""The paper's figures for one or more runs, drawn with matplotlib (no display needed).

* Training error (thin) and test error (bold) against iterations, one colour per run:
  the shape of Fig. 1 and Fig. 6.
* Std of each 3x3 layer's response, in layer order and sorted by magnitude: Fig. 7, as the
  paper measured it (a fixed test batch, BN in eval mode) where the run has that, else the
  training batch's, said in the legend (:func:`~resviz.core.runs.history.fig7_responses`).
* Residual ratio |F(x)| / |x| per block and gradient norm per layer (log scale): the
  two views this tool adds, where residual functions stay small and gradients reach the
  early layers of residual nets but fade in deep plain ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .runs.history import FIG7_FALLBACK, RunHistory, fig7_responses

__all__ = ["draw_report", "save_report"]


def draw_report(histories: Sequence[RunHistory], title: str | None = None):
    """A matplotlib Figure with the four panels; nothing is shown or saved."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 9), layout="constrained")
    axes = fig.subplots(2, 2)
    colours = [f"C{i}" for i in range(10)]
    ax = axes[0, 0]
    for i, h in enumerate(histories):
        c = colours[i % 10]
        steps, train = h.scalar("train_error")
        ax.plot(steps, train, color=c, lw=0.8, alpha=0.8, ls="--" if h.plain else "-")
        steps, test = h.scalar("test_error")
        ax.plot(
            steps,
            test,
            color=c,
            lw=2.4,
            ls="--" if h.plain else "-",
            label=h.label,
            marker="o" if len(steps) < 12 else None,
        )
        for e in h.events:
            if e.kind in ("shortcuts", "lr_drop"):
                ax.axvline(e.step, color=c, lw=0.6, ls=":", alpha=0.6)
    ax.set(xlabel="iterations", ylabel="error (%)", title="training error (thin) and test error (bold)")
    ax.set_ylim(bottom=0)
    _legend(ax, loc="upper right", fontsize="small")
    ax.grid(alpha=0.3)

    ax = axes[0, 1]
    fallbacks = 0
    for i, h in enumerate(histories):
        std, metric = fig7_responses(h)
        if std is None:
            continue
        c = colours[i % 10]
        note = " (training batch)" if metric == FIG7_FALLBACK else ""
        fallbacks += bool(note)
        layers = np.arange(1, len(std) + 1)
        ax.plot(layers, std, color=c, lw=1.5, ls="--" if h.plain else "-", label=f"{h.label}{note}, layer order")
        ax.plot(layers, np.sort(std)[::-1], color=c, lw=0.8, alpha=0.6, label=f"{h.label}{note}, sorted")
    # Log scale: a deep plain net's first responses can be 30x the rest, which on a linear
    # axis flattens every other curve (the paper's Fig. 7 compares nets of equal scale).
    ax.set_yscale("log")
    where = "test images, BN eval" if not fallbacks else "test images, BN eval; (training batch): BN train"
    ax.set(xlabel="3x3 layer index", ylabel="std of response (log)", title=f"layer responses (paper Fig. 7): {where}")
    _legend(ax, fontsize="x-small")
    ax.grid(alpha=0.3, which="both")

    ax = axes[1, 0]
    for i, h in enumerate(histories):
        ratio = h.latest_vector("residual_ratio")
        if ratio is None:
            continue
        ax.plot(
            np.arange(1, len(ratio) + 1),
            ratio,
            color=colours[i % 10],
            ls="--" if h.plain else "-",
            marker="o",
            ms=3,
            label=h.label,
        )
    ax.set(xlabel="residual block (depth order)", ylabel="|F(x)| / |x|", title="residual ratio per block (latest)")
    ax.set_ylim(bottom=0)
    _legend(ax, fontsize="small")
    ax.grid(alpha=0.3)

    ax = axes[1, 1]
    for i, h in enumerate(histories):
        g = h.latest_vector("grad_norm")
        if g is None:
            continue
        ax.semilogy(
            np.arange(1, len(g) + 1),
            np.maximum(g, 1e-12),
            color=colours[i % 10],
            ls="--" if h.plain else "-",
            marker=".",
            label=h.label,
        )
    ax.set(
        xlabel="weighted layer (depth order)", ylabel="gradient norm (log)", title="gradient norm per layer (latest)"
    )
    _legend(ax, fontsize="small")
    ax.grid(alpha=0.3, which="both")
    if title:
        fig.suptitle(title)
    return fig


def _legend(ax, **kwargs) -> None:
    """A legend where the panel shows something (a run without telemetry leaves three empty)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**kwargs)


def save_report(histories: Sequence[RunHistory], out: str | Path, title: str | None = None, dpi: int = 110) -> Path:
    """Draw and save the report (PNG, SVG or PDF by the file's suffix; ``.png`` added to a
    name without one); written through a temporary file (issue #17). Returns the path written."""
    from .outputs import FIGURE, atomic_output, figure_format, resolve_output

    out = resolve_output(out, kind=FIGURE, what="figure")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig = draw_report(histories, title)
    with atomic_output(out) as tmp:
        fig.savefig(tmp, dpi=dpi, format=figure_format(out))
    return out
