"""What one net contributes to the comparison with the paper, read from its history.

The same :class:`NetResult` comes from a run folder on disk (``resviz experiment paper``,
``resviz report --paper``) and from a run the app is training (its in-memory
:class:`~resviz.core.runs.history.RunHistory`), so the table, the claims and the figures
are judged by one rule wherever they are shown. Torch-free.

A net trained with several seeds (``--seeds``) is one :class:`NetResult` too, made by
:func:`merge_seeds`: its errors, curves and responses are the means over the seeds, and
``runs`` keeps each seed's own result, so that Table 6 can give "best (mean ± std)" and the
claims the spread across seeds (:func:`~resviz.core.verdicts.across_seeds`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..archs import parse_arch
from ..experiment import net_of
from ..runs.history import FIG7_FALLBACK, RunHistory, fig7_responses, load_history

__all__ = [
    "WINDOWS",
    "NetResult",
    "merge_seeds",
    "missing_result",
    "read_result",
    "result_of",
    "training_spans",
    "wall_seconds",
]

#: Fig. 6's "over the whole run" is judged on the mean training error of each tenth of it.
WINDOWS = 10


@dataclass
class NetResult:
    """A net's numbers: settled training error, final test error, responses, status, cost."""

    name: str
    status: str  # finished, stopped, failed, running, paused, queued, starting, missing
    step: int
    iters: int
    train_error: float | None = None
    test_error: float | None = None
    #: (steps, training error) of every record: Fig. 6's thin lines and the per-tenth means.
    train_curve: tuple[np.ndarray, np.ndarray] = field(default_factory=lambda: (np.zeros(0), np.zeros(0)))
    test_curve: tuple[np.ndarray, np.ndarray] = field(default_factory=lambda: (np.zeros(0), np.zeros(0)))
    #: The latest 3x3 layer response stds, and which metric they are (fig7_responses).
    responses: np.ndarray | None = None
    responses_metric: str | None = None
    seconds: float | None = None
    #: (start, end) times of each stretch of training (a resumed net has several).
    spans: list[tuple[float, float]] = field(default_factory=list)
    device: str | None = None
    #: Images per step, and the images behind ``train_error`` (the settled window) and
    #: ``test_error`` (the last evaluation; None for runs from before it was recorded):
    #: the n of their standard errors (:mod:`resviz.core.verdicts`).
    batch_size: int = 128
    train_images: int | None = None
    test_images: int | None = None
    #: The test images of every evaluation (a subset during training, the whole split at the end).
    test_counts: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: Each seed's own result, where this one is their mean (:func:`merge_seeds`); else empty.
    runs: list[NetResult] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return parse_arch(net_of(self.name)).kind

    @property
    def depth(self) -> int:
        return parse_arch(net_of(self.name)).depth

    @property
    def seeds(self) -> list[NetResult]:
        """The runs behind the numbers: each seed's result, or this one alone."""
        return self.runs or [self]

    @property
    def finished(self) -> bool:
        return self.status == "finished"

    @property
    def ended(self) -> bool:
        """Nothing more will come: finished, stopped or failed (a claim may use its numbers)."""
        return self.status in ("finished", "stopped", "failed")

    def windows(self, upto: int | None = None, n: int = WINDOWS) -> list[float | None]:
        """The mean training error over each of ``n`` equal spans of steps ``(0, upto]``
        (with seeds, the mean of the seeds' means; None where one has no record there)."""
        if self.runs:
            each = [r.windows(upto or self.step, n) for r in self.runs]
            return [None if None in ws else float(np.mean(ws)) for ws in zip(*each, strict=True)]
        steps, values = self.train_curve
        upto = upto or self.step
        out: list[float | None] = []
        for k in range(n):
            lo, hi = k * upto / n, (k + 1) * upto / n
            inside = values[(steps > lo) & (steps <= hi)]
            out.append(float(inside.mean()) if len(inside) else None)
        return out


def training_spans(history: RunHistory) -> list[tuple[float, float]]:
    """When the run trained: from each start (or resume from a checkpoint) to the last thing it
    wrote before the next one, so a run resumed a day later is not a day long."""
    starts = sorted(
        e.time for e in history.events if e.kind == "start" or (e.kind == "resume" and e.detail.get("from_checkpoint"))
    )
    times = sorted([e.time for e in history.events] + ([history.last_time] if history.last_time else []))
    spans = []
    for i, start in enumerate(starts):
        end_before = starts[i + 1] if i + 1 < len(starts) else float("inf")
        inside = [t for t in times if start <= t < end_before]
        if inside:
            spans.append((start, max(inside)))
    return spans


def wall_seconds(results) -> float:
    """The wall time the nets trained, together: the union of their spans (the nets of a
    lockstep group train at the same time, so their own times overlap)."""
    total, end = 0.0, float("-inf")
    for a, b in sorted(span for r in results for span in r.spans):
        if b > end:
            total += b - max(a, end)
            end = b
    return total


def result_of(history: RunHistory, *, name: str, status: str, iters: int, batch_size: int = 128) -> NetResult:
    """The numbers of a net from its history (the app's live run or a folder read from disk)."""
    errs = history.final_errors()
    counts = history.final_counts(batch_size)
    responses, metric = fig7_responses(history)
    spans = training_spans(history)
    device = next(
        (
            str(e.detail["device"])
            for e in reversed(history.events)
            if e.kind in ("start", "resume") and e.detail.get("device")
        ),
        None,
    )
    return NetResult(
        name=name,
        status=status,
        step=history.last_step,
        iters=iters,
        train_error=errs["train_error"],
        test_error=errs["test_error"],
        train_curve=history.scalar("train_error"),
        test_curve=history.scalar("test_error"),
        responses=None if responses is None else np.asarray(responses, dtype=float),
        responses_metric=metric,
        seconds=sum(b - a for a, b in spans) if spans else None,
        spans=spans,
        device=device,
        batch_size=batch_size,
        train_images=counts["train_images"],
        test_images=counts["test_images"],
        test_counts=history.scalar("test_images")[1],
    )


#: From the least to the most advanced: a net trained with several seeds shows its least
#: advanced seed's status (it is finished when every seed is).
_PROGRESS = ("missing", "queued", "cancelled", "starting", "running", "paused", "failed", "stopped", "finished")


def merge_seeds(results: dict[str, NetResult]) -> dict[str, NetResult]:
    """Per-run results keyed by run name (``resnet20-seed0`` ...) -> one per net (``resnet20``).

    A net with one run is that run's result unchanged (an experiment without ``--seeds``).
    With several, the errors, curves and responses are the means over the seeds, the image
    counts pooled, the step the least any seed reached, and ``runs`` keeps each seed's result.
    """
    by_net: dict[str, list[NetResult]] = {}
    for name, r in results.items():
        by_net.setdefault(net_of(name), []).append(r)
    return {net: rs[0] if len(rs) == 1 and rs[0].name == net else _merged(net, rs) for net, rs in by_net.items()}


def _mean(values) -> float | None:
    known = [v for v in values if v is not None]
    return float(np.mean(known)) if known else None


def _pooled(counts) -> int | None:
    counts = list(counts)
    return int(sum(counts)) if counts and all(counts) else None


def _mean_curve(curves: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """The seeds' curves averaged step by step over the steps they all reached (a lockstep
    group records the same steps in each net)."""
    steps = curves[0][0]
    for s, _ in curves[1:]:
        steps = np.intersect1d(steps, s)
    if not len(steps):
        return steps, np.zeros(0)
    values = [np.asarray(v, float)[np.isin(s, steps)] for s, v in curves]
    return steps, np.mean(values, axis=0)


def _merged(net: str, runs: list[NetResult]) -> NetResult:
    status = min((r.status for r in runs), key=lambda s: _PROGRESS.index(s) if s in _PROGRESS else 0)
    responses = [r.responses for r in runs if r.responses is not None]
    same = bool(responses) and len({x.shape for x in responses}) == 1
    metrics = [r.responses_metric for r in runs if r.responses_metric]
    seconds = [r.seconds for r in runs if r.seconds]
    return NetResult(
        name=net,
        status=status,
        step=min(r.step for r in runs),
        iters=runs[0].iters,
        train_error=_mean(r.train_error for r in runs),
        test_error=_mean(r.test_error for r in runs),
        train_curve=_mean_curve([r.train_curve for r in runs]),
        test_curve=_mean_curve([r.test_curve for r in runs]),
        # Fig. 7 of the mean net where every seed measured the same layers, else the first seed's.
        responses=np.mean(responses, axis=0) if same else (responses[0] if responses else None),
        # The training-batch fallback named where any seed fell back on it (the figure says so).
        responses_metric=FIG7_FALLBACK if FIG7_FALLBACK in metrics else (metrics[0] if metrics else None),
        seconds=sum(seconds) if seconds else None,
        spans=sorted(span for r in runs for span in r.spans),
        device=next((r.device for r in runs if r.device), None),
        batch_size=runs[0].batch_size,
        train_images=_pooled(r.train_images for r in runs),
        test_images=_pooled(r.test_images for r in runs),
        test_counts=runs[0].test_counts,
        runs=list(runs),
    )


def missing_result(name: str, iters: int) -> NetResult:
    """A planned net with no run folder yet."""
    return NetResult(name=name, status="missing", step=0, iters=iters)


def read_result(run_dir: str | Path, *, name: str, iters: int, batch_size: int = 128) -> NetResult:
    """A net's numbers from its run folder (its status as :class:`RunReader` judges it)."""
    from ..runs.reader import RunReader

    with RunReader(run_dir) as reader:
        status = reader.status().status
    return result_of(load_history(run_dir, label=name), name=name, status=status, iters=iters, batch_size=batch_size)
