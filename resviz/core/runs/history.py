"""A run's metrics so far, in growable numpy buffers: the one history of a run.

The app's timer drains the trainer's queue ~25 times a second and appends here, and the
plots hand slices of these buffers to ``setData`` / ``setImage`` without copying;
``resviz report`` and ``resviz experiment`` read a whole run folder into the same object
(:func:`load_history`) and judge it by the same settled-error rule (:func:`settled_mean`).
Buffers grow by doubling, so appending is amortised O(1) and a 64k-iteration run (6,400
records at the default telemetry interval) costs a few megabytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from ..archs import spec_of
from ..records import Event, Record
from .reader import RunReader

__all__ = [
    "RunHistory",
    "SETTLE_TAIL",
    "FIG7_METRIC",
    "FIG7_FALLBACK",
    "settled_mean",
    "fig7_responses",
    "load_history",
]

#: The share of a run's last records whose mean is its settled training error.
SETTLE_TAIL = 0.05

_START_CAPACITY = 256


def settled_mean(values: Sequence[float], tail: float = SETTLE_TAIL) -> float | None:
    """The mean of the last ``tail`` fraction of ``values`` (at least one); None when empty.

    The per-interval training error is measured on augmented mini-batches and is noisy; the
    mean of its final 5 % is what the curve settles to. ``resviz report``, ``resviz
    experiment`` and the app's degradation panel all judge runs by this one number.
    """
    if not len(values):
        return None
    k = max(1, int(round(len(values) * tail)))
    return float(sum(values[-k:]) / k)


class RunHistory:
    """Steps, scalar metrics, per-block/per-layer vectors and events of one run.

    ``label`` and ``plain`` say what the run is for legends (the report draws plain nets
    dashed); ``layout`` names every index of the vector metrics (the trainer's layout).
    """

    def __init__(self, label: str = "", *, plain: bool = False, layout: dict | None = None) -> None:
        self.label = label
        self.plain = plain
        self.layout: dict[str, list] = dict(layout or {})
        self._n = 0
        self._steps = np.zeros(_START_CAPACITY, dtype=np.int64)
        self._times = np.zeros(_START_CAPACITY, dtype=np.float64)
        self._scalars: dict[str, np.ndarray] = {}
        # Vectors have their own steps: not every record carries them (a record written
        # when a run stops between telemetry steps has scalars only).
        self._vectors: dict[str, _VectorSeries] = {}
        self.events: list[Event] = []

    def __len__(self) -> int:
        return self._n

    @property
    def capacity(self) -> int:
        return len(self._steps)

    def extend(self, records: Iterable[Record]) -> int:
        """Append records (in step order); returns how many were added."""
        added = 0
        for rec in records:
            self._append(rec)
            added += 1
        return added

    def add_events(self, events: Iterable[Event]) -> int:
        """Append events; returns how many were added."""
        before = len(self.events)
        self.events.extend(events)
        return len(self.events) - before

    def _append(self, rec: Record) -> None:
        if self._n == self.capacity:
            self._grow()
        i = self._n
        self._steps[i] = rec.step
        self._times[i] = rec.time
        for name, value in rec.scalars.items():
            col = self._scalars.get(name)
            if col is None:
                col = self._scalars[name] = np.full(self.capacity, np.nan)
            col[i] = value
        for name, vec in rec.vectors.items():
            series = self._vectors.get(name)
            if series is None:
                series = self._vectors[name] = _VectorSeries()
            series.append(rec.step, vec)
        self._n += 1

    def _grow(self) -> None:
        cap = self.capacity * 2
        self._steps = _resized(self._steps, cap, 0)
        self._times = _resized(self._times, cap, 0.0)
        self._scalars = {k: _resized(v, cap, np.nan) for k, v in self._scalars.items()}

    # -- reading ---------------------------------------------------------------------

    @property
    def steps(self) -> np.ndarray:
        """The step of every record so far (a view: do not modify)."""
        return self._steps[: self._n]

    @property
    def last_step(self) -> int:
        return int(self._steps[self._n - 1]) if self._n else 0

    @property
    def last_time(self) -> float | None:
        return float(self._times[self._n - 1]) if self._n else None

    def scalar_names(self) -> list[str]:
        return sorted(self._scalars)

    def vector_names(self) -> list[str]:
        return sorted(self._vectors)

    def scalar(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(steps, values) of the records that carry ``name`` (``test_error``: eval records)."""
        col = self._scalars.get(name)
        if col is None or not self._n:
            return np.zeros(0, np.int64), np.zeros(0)
        values = col[: self._n]
        present = np.isfinite(values)
        if present.all():
            return self.steps, values
        return self.steps[present], values[present]

    def last_scalar(self, name: str) -> float | None:
        """The most recent finite value of ``name``, or None."""
        _, values = self.scalar(name)
        return float(values[-1]) if len(values) else None

    def settled(self, name: str, tail: float = SETTLE_TAIL) -> float | None:
        """The value ``name`` settled to (:func:`settled_mean` of its records), or None."""
        return settled_mean(self.scalar(name)[1], tail)

    def final_errors(self, tail: float = SETTLE_TAIL) -> dict[str, float | None]:
        """The settled training error and the last test error: what a run is judged by."""
        return {"train_error": self.settled("train_error", tail), "test_error": self.last_scalar("test_error")}

    def vector(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(steps, matrix[record, index]) of the records carrying a per-block / per-layer metric."""
        series = self._vectors.get(name)
        if series is None or not series.n:
            return np.zeros(0, np.int64), np.zeros((0, 0))
        return series.steps[: series.n], series.values[: series.n]

    def latest_vector(self, name: str) -> np.ndarray | None:
        """The newest values of a per-block / per-layer metric, in depth order."""
        series = self._vectors.get(name)
        if series is None or not series.n:
            return None
        return series.values[series.n - 1]


#: What Fig. 7 draws: the test-batch responses, BN in eval mode, as the paper measured them
#: (:mod:`resviz.core.train.responses`) ...
FIG7_METRIC = "test_response_std"
#: ... and what a run without them falls back on (one trained before the metric existed, or a
#: live run before its first evaluation): the probed training batch, BN in training mode.
FIG7_FALLBACK = "response_std"


def fig7_responses(history: RunHistory) -> tuple[np.ndarray | None, str | None]:
    """(the latest response stds Fig. 7 draws for a run, the metric they are), or (None, None).

    The report, the paper experiment's figure and claims, and the app's panel all choose
    by this rule, and say which metric they drew.
    """
    for name in (FIG7_METRIC, FIG7_FALLBACK):
        values = history.latest_vector(name)
        if values is not None:
            return values, name
    return None, None


def load_history(run_dir: str | Path, label: str | None = None, *, require: bool = False) -> RunHistory:
    """Read a whole run folder into a :class:`RunHistory`.

    Its label is the run's name (:attr:`~resviz.core.train.config.TrainConfig.label`),
    followed by the folder's name where the two differ: ``resnet20 (20240101-run)``.
    """
    reader = RunReader(run_dir)
    try:
        records, events = reader.read_all(require=require)
    finally:
        reader.close()
    spec = spec_of(reader.config)
    if label is None:
        name = spec.label(reader.config.get("shortcut")) if spec is not None else reader.name
        label = name if name == reader.name else f"{name} ({reader.name})"
    history = RunHistory(label, plain=spec is not None and spec.plain, layout=reader.layout)
    history.extend(records)
    history.add_events(events)
    return history


def _resized(arr: np.ndarray, capacity: int, fill: float) -> np.ndarray:
    shape = (capacity,) + arr.shape[1:]
    out = np.full(shape, fill, dtype=arr.dtype)
    out[: len(arr)] = arr
    return out


class _VectorSeries:
    """Steps and a [record, index] matrix of one vector metric, grown by doubling."""

    def __init__(self) -> None:
        self.n = 0
        self.steps = np.zeros(_START_CAPACITY, dtype=np.int64)
        self.values = np.full((_START_CAPACITY, 0), np.nan)

    def append(self, step: int, vec: np.ndarray) -> None:
        vec = np.asarray(vec, dtype=np.float64).ravel()
        if self.n == len(self.steps):
            self.steps = _resized(self.steps, 2 * self.n, 0)
            self.values = _resized(self.values, 2 * self.n, np.nan)
        if vec.size > self.values.shape[1]:  # wider than before: pad earlier rows with NaN
            wider = np.full((len(self.steps), vec.size), np.nan)
            wider[:, : self.values.shape[1]] = self.values
            self.values = wider
        self.steps[self.n] = step
        self.values[self.n, : vec.size] = vec
        self.values[self.n, vec.size :] = np.nan
        self.n += 1
