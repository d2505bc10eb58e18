"""What the training loop emits: records of metrics and events, as plain Python data.

These names are the contract between the trainer, the run store, exports, plots and
tests (issue #3). Records carry Python floats and numpy arrays only, never tensors, so
any thread or process can hold them without touching the training device. The module
sits below :mod:`resviz.core.train` (which produces records) and :mod:`resviz.core.runs`
(which stores and reads them), so neither package imports the other for it (issue #10).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

__all__ = [
    "SCALAR_METRICS",
    "VECTOR_METRICS",
    "EVENT_KINDS",
    "STATUSES",
    "Record",
    "Event",
    "StatusChange",
    "Sink",
]

#: One value per record. ``test_error`` appears only in records where the test split
#: was evaluated (every ``eval_every`` steps and at the end), with ``test_images``, how many
#: test images it was measured on (the evaluation subset during training, the whole split
#: at the end; absent in runs from before it was recorded). ``step_seconds``: the seconds the
#: net spent in its own training steps since the previous record (in a lockstep group the
#: wall clock also runs while the other nets step); ``eval_seconds``: the evaluation's seconds.
SCALAR_METRICS: tuple[str, ...] = (
    "loss",
    "train_error",
    "test_error",
    "lr",
    "images_per_s",
    "test_images",
    "step_seconds",
    "eval_seconds",
)

#: One value per block or layer, in depth order:
#: ``residual_ratio[i]`` mean over the batch of |F(x)| / |shortcut(x)| for residual block i;
#: ``response_std[j]`` std of 3x3 layer j's output after BN, before addition and ReLU (Fig. 7);
#: ``grad_norm[j]`` L2 norm of the weight gradient of weighted layer j (convs and the head);
#: ``test_response_std[j]`` the same std as ``response_std``, measured as the paper's Fig. 7 is
#: (section 4.2): on a fixed batch of test images with BN in eval mode, at every evaluation
#: (:mod:`resviz.core.train.responses`). ``response_std`` is the probed training batch, BN in
#: training mode, every ``telemetry_every`` steps: there BN rescales every response to about
#: its |gamma|, so it shows BN's scales live rather than the trained net's responses (issue #12).
VECTOR_METRICS: tuple[str, ...] = ("residual_ratio", "response_std", "grad_norm", "test_response_std")

#: Things that happen at a step and that plots mark.
EVENT_KINDS: tuple[str, ...] = (
    "start",  # detail: device, arch, world_size ...
    "pause",
    "resume",  # also a run resumed from its checkpoint: detail {"from_checkpoint": True}
    "stop",
    "lr_drop",  # detail: {"lr": new learning rate}
    "warmup_end",
    "shortcuts",  # detail: {"shortcuts": [bool per block]}
    "checkpoint",  # detail: {"path": relative path}
    "finished",
    "failed",  # detail: {"reason": "..."}
)

#: A run's lifecycle; ``failed`` comes with a reason.
STATUSES: tuple[str, ...] = ("running", "paused", "finished", "stopped", "failed")


@dataclass
class Record:
    """The metrics measured at ``step`` (the number of optimizer steps done)."""

    step: int
    scalars: dict[str, float] = field(default_factory=dict)
    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    time: float = field(default_factory=time.time)


@dataclass
class Event:
    """Something that happened at ``step``: a pause, a shortcut switch, an lr drop ..."""

    step: int
    kind: str
    detail: dict[str, Any] = field(default_factory=dict)
    time: float = field(default_factory=time.time)


@dataclass
class StatusChange:
    """The run's status changed (``running``, ``paused``, ``finished``, ``stopped``, ``failed``)."""

    status: str
    reason: str | None = None
    step: int = 0
    time: float = field(default_factory=time.time)


class Sink(Protocol):
    """Where the trainer sends what it measures: a run store, a queue for the GUI ..."""

    def record(self, record: Record) -> None: ...

    def event(self, event: Event) -> None: ...

    def status(self, change: StatusChange) -> None: ...
