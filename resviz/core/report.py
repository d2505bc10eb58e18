"""The paper's figures for one or more runs, drawn with matplotlib (no display needed).

* Training error (thin) and test error (bold) against iterations, one colour per run:
  the shape of Fig. 1 and Fig. 6.
* Std of each 3x3 layer's response, in layer order and sorted by magnitude: Fig. 7.
* Residual ratio |F(x)| / |x| per block and gradient norm per layer (log scale): the
  two views this tool adds, where residual functions stay small and gradients reach the
  early layers of residual nets but fade in deep plain ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from .experiment import SETTLE_TAIL, settled_mean
from .runs.reader import RunReader
from .records import Event, Record

__all__ = ["RunHistory", "load_history", "draw_report", "save_report", "final_errors"]


@dataclass
class RunHistory:
    """A run's records gathered into arrays, with its label for legends."""

    label: str
    plain: bool
    records: list[Record]
    events: list[Event] = field(default_factory=list)
    layout: dict = field(default_factory=dict)

    def series(self, metric: str) -> tuple[np.ndarray, np.ndarray]:
        """Steps and values of a scalar metric, where it was recorded."""
        pts = [(r.step, r.scalars[metric]) for r in self.records if metric in r.scalars]
        if not pts:
            return np.empty(0), np.empty(0)
        steps, values = zip(*pts)
        return np.asarray(steps), np.asarray(values, dtype=float)

    def last_vector(self, metric: str) -> np.ndarray | None:
        """The newest value of a vector metric (None when never recorded)."""
        for r in reversed(self.records):
            if metric in r.vectors:
                return r.vectors[metric]
        return None


def load_history(run_dir: str | Path, label: str | None = None) -> RunHistory:
    """Read a whole run folder into a :class:`RunHistory`."""
    reader = RunReader(run_dir)
    try:
        records, events = reader.read_all()
    finally:
        reader.close()
    cfg = reader.config
    plain = bool(cfg.get("plain")) or str(cfg.get("arch", "")).startswith("plain")
    return RunHistory(label or _default_label(cfg, reader.name), plain, records, events, reader.layout)


def _default_label(cfg: dict, name: str) -> str:
    arch = str(cfg.get("arch", name))
    if cfg.get("plain") and arch.startswith("resnet"):
        arch = "plain" + arch[len("resnet"):]
    return arch if arch == name else f"{arch} ({name})"


def final_errors(history: RunHistory, tail: float = SETTLE_TAIL) -> dict[str, float | None]:
    """The settled training error (:func:`~resviz.core.experiment.settled_mean`) and the last test error."""
    _, train = history.series("train_error")
    _, test = history.series("test_error")
    return {
        "train_error": settled_mean(train, tail),
        "test_error": float(test[-1]) if len(test) else None,
    }


def draw_report(histories: Sequence[RunHistory], title: str | None = None):
    """A matplotlib Figure with the four panels; nothing is shown or saved."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 9), layout="constrained")
    axes = fig.subplots(2, 2)
    colours = [f"C{i}" for i in range(10)]
    ax = axes[0, 0]
    for i, h in enumerate(histories):
        c = colours[i % 10]
        steps, train = h.series("train_error")
        ax.plot(steps, train, color=c, lw=0.8, alpha=0.8, ls="--" if h.plain else "-")
        steps, test = h.series("test_error")
        ax.plot(steps, test, color=c, lw=2.4, ls="--" if h.plain else "-", label=h.label, marker="o" if len(steps) < 12 else None)
        for e in h.events:
            if e.kind in ("shortcuts", "lr_drop"):
                ax.axvline(e.step, color=c, lw=0.6, ls=":", alpha=0.6)
    ax.set(xlabel="iterations", ylabel="error (%)", title="training error (thin) and test error (bold)")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper right", fontsize="small")
    ax.grid(alpha=0.3)

    ax = axes[0, 1]
    for i, h in enumerate(histories):
        std = h.last_vector("response_std")
        if std is None:
            continue
        c = colours[i % 10]
        layers = np.arange(1, len(std) + 1)
        ax.plot(layers, std, color=c, lw=1.5, ls="--" if h.plain else "-", label=f"{h.label}, layer order")
        ax.plot(layers, np.sort(std)[::-1], color=c, lw=0.8, alpha=0.6, label=f"{h.label}, sorted")
    # Log scale: a deep plain net's first responses can be 30x the rest, which on a linear
    # axis flattens every other curve (the paper's Fig. 7 compares nets of equal scale).
    ax.set_yscale("log")
    ax.set(xlabel="3x3 layer index", ylabel="std of response (log)", title="layer responses (paper Fig. 7)")
    ax.legend(fontsize="x-small")
    ax.grid(alpha=0.3, which="both")

    ax = axes[1, 0]
    for i, h in enumerate(histories):
        ratio = h.last_vector("residual_ratio")
        if ratio is None:
            continue
        ax.plot(np.arange(1, len(ratio) + 1), ratio, color=colours[i % 10], ls="--" if h.plain else "-",
                marker="o", ms=3, label=h.label)
    ax.set(xlabel="residual block (depth order)", ylabel="|F(x)| / |x|", title="residual ratio per block (latest)")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)

    ax = axes[1, 1]
    for i, h in enumerate(histories):
        g = h.last_vector("grad_norm")
        if g is None:
            continue
        ax.semilogy(np.arange(1, len(g) + 1), np.maximum(g, 1e-12), color=colours[i % 10],
                    ls="--" if h.plain else "-", marker=".", label=h.label)
    ax.set(xlabel="weighted layer (depth order)", ylabel="gradient norm (log)", title="gradient norm per layer (latest)")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3, which="both")
    if title:
        fig.suptitle(title)
    return fig


def save_report(histories: Sequence[RunHistory], out: str | Path, title: str | None = None, dpi: int = 110) -> Path:
    """Draw and save the report (PNG, SVG or PDF by the file's suffix)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    draw_report(histories, title).savefig(out, dpi=dpi)
    return out
