"""Fig. 6 and Fig. 7 of the paper, drawn with matplotlib from the nets' results.

* Fig. 6: plain nets on the left, ResNets on the right; training error thin and dashed,
  test error bold, against iterations in units of 1e4, error 0-20 % as in the paper (the
  axis widens, and says so, where our errors go higher: short budgets, small data sets).
* Fig. 7: std of every 3x3 layer's response, in layer order (top) and sorted in
  descending order (bottom), one colour per depth, plain nets dashed; the measurement is
  the end-of-training test batch with BN in eval mode (``test_response_std``), and the
  title says so, or says which runs fell back on the training batch.

matplotlib is optional on a GPU box: :func:`matplotlib_missing` says so in one line and the
figures can be redrawn later with ``resviz report --paper DIR``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..runs.history import FIG7_FALLBACK, test_images_note
from ..write_errors import discard
from .results import NetResult

__all__ = ["FIGURE_SUFFIXES", "draw_fig6", "draw_fig7", "matplotlib_missing", "save_figure"]

FIGURE_SUFFIXES = (".png", ".svg")
#: The paper's Fig. 6 error axis (%).
_PAPER_ERROR_AXIS = 20.0


def matplotlib_missing() -> str | None:
    """None when matplotlib can be imported; else the line to print instead of the figures."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return "matplotlib not installed: figures skipped, redraw with `resviz report --paper DIR`"
    return None


def _colours(results: Sequence[NetResult]) -> dict[int, str]:
    """One colour per depth, the same in both figures and both panels."""
    return {d: f"C{i % 10}" for i, d in enumerate(sorted({r.depth for r in results}))}


def draw_fig6(results: Sequence[NetResult], data: str = "CIFAR-10"):
    """Fig. 6: training (thin, dashed) and test error (bold) against iterations (1e4)."""
    from matplotlib.figure import Figure

    colours = _colours(results)
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    top = _PAPER_ERROR_AXIS
    iters = max((r.iters for r in results), default=1)
    for ax, kind, name in ((axes[0], "plain", "plain"), (axes[1], "resnet", "ResNet")):
        for r in sorted((r for r in results if r.kind == kind), key=lambda r: r.depth):
            c = colours[r.depth]
            steps, train = r.train_curve
            ax.plot(np.asarray(steps) / 1e4, train, color=c, lw=0.7, ls="--", alpha=0.9)
            steps, test = r.test_curve
            ax.plot(
                np.asarray(steps) / 1e4,
                test,
                color=c,
                lw=2.2,
                label=f"{name}-{r.depth}",
                marker="o" if len(steps) < 6 else None,
                ms=3,
            )
            if len(test):
                top = max(top, float(np.nanmax(test)) + 2.0)
        ax.set(xlabel="iter. (1e4)", title=f"{'plain' if kind == 'plain' else 'residual'} networks")
        ax.set_xlim(0, iters / 1e4)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper right", fontsize="small")
    top = min(top, 100.0)
    axes[0].set_ylim(0, top)
    axes[0].set_ylabel("error (%)")
    title = f"Training on {data}: dashed training error, bold test error (paper Fig. 6)"
    note = test_images_note(r.test_counts for r in results)
    if note:
        title += f"\n{note}"
    if top > _PAPER_ERROR_AXIS:
        title += f"\nerror axis widened to {top:.0f} %: these errors go above the paper's 0-20 %"
    fig.suptitle(title, fontsize="medium")
    return fig


def draw_fig7(results: Sequence[NetResult], data: str = "CIFAR-10"):
    """Fig. 7: the std of each 3x3 layer's response, in layer order and sorted."""
    from matplotlib.figure import Figure

    colours = _colours(results)
    fig = Figure(figsize=(8, 7), layout="constrained")
    ordered, ranked = fig.subplots(2, 1)
    drawn = [r for r in results if r.responses is not None]
    fallbacks = [r.name for r in drawn if r.responses_metric == FIG7_FALLBACK]
    values = np.concatenate([r.responses[np.isfinite(r.responses)] for r in drawn]) if drawn else np.zeros(0)
    # Linear, as the paper draws it, unless one net's responses dwarf the rest (a deep plain
    # net's first layers can respond 30x the others) and would flatten every other curve.
    log = len(values) > 0 and values.min() > 0 and values.max() / values.min() > 30
    for r in sorted(drawn, key=lambda r: (r.depth, r.kind)):
        std = r.responses[np.isfinite(r.responses)]
        style = {"color": colours[r.depth], "lw": 1.4, "ls": "--" if r.kind == "plain" else "-"}
        label = f"{'plain' if r.kind == 'plain' else 'ResNet'}-{r.depth}" + (
            " (training batch)" if r.name in fallbacks else ""
        )
        ordered.plot(np.arange(1, len(std) + 1), std, label=label, **style)
        ranked.plot(np.arange(1, len(std) + 1), np.sort(std)[::-1], **style)
    for ax, xlabel in ((ordered, "layer index (original order)"), (ranked, "layer index (sorted by magnitude)")):
        ax.set(xlabel=xlabel, ylabel="std" + (" (log)" if log else ""))
        if log:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
    if ordered.get_legend_handles_labels()[0]:
        ordered.legend(fontsize="small", ncol=2)
    where = "fixed test batch, BN in eval mode, at the end of training"
    if fallbacks:
        where += f"; {', '.join(fallbacks)}: training batch, BN in training mode"
    fig.suptitle(f"Std of the 3x3 layer responses on {data} (paper Fig. 7)\n{where}", fontsize="medium")
    return fig


def save_figure(fig, stem: Path) -> list[Path]:
    """Save ``fig`` as ``stem.png`` and ``stem.svg``; the paths written.

    Each is drawn into a temporary file and moved into place, so that a reader (the app,
    a second ``report --paper``) never sees half a figure, and a symlink at ``stem.png``
    is replaced rather than written through (found by attack: one pointing at paper.json
    replaced the plan with a PNG).
    """
    out = []
    for suffix in FIGURE_SUFFIXES:
        path = stem.with_suffix(suffix)
        tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
        try:
            fig.savefig(tmp, dpi=120, format=suffix[1:])
            os.replace(tmp, path)
        finally:
            discard(tmp)
        out.append(path)
    return out
