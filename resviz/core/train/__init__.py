"""The training engine: one loop for the app's worker thread, the CLI and torchrun.

Exports resolve lazily (PEP 562) so that ``resviz.core.train.config`` can be imported
without torch, which the app needs before torch has finished loading. What the loop emits
(records, events, sinks) is :mod:`resviz.core.records`, below both this package and
:mod:`resviz.core.runs`.
"""

from __future__ import annotations

from ..._lazy import lazy_exports

_EXPORTS = {
    "TrainConfig": "config",
    "Trainer": "trainer",
    "TrainControl": "control",
    "QueueSink": "control",
    "GroupControl": "control",
    "LockstepGroup": "group",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
