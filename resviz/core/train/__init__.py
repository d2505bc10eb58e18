"""The training engine: one loop for the app's worker thread, the CLI and torchrun.

Exports resolve lazily (PEP 562) so that ``resviz.core.train.config`` and ``.records``
can be imported without torch, which the app needs before torch has finished loading.
"""

from __future__ import annotations

from ..._lazy import lazy_exports

_EXPORTS = {
    "TrainConfig": "config",
    "Record": "records",
    "Event": "records",
    "StatusChange": "records",
    "Sink": "records",
    "SCALAR_METRICS": "records",
    "VECTOR_METRICS": "records",
    "Trainer": "trainer",
    "TrainControl": "control",
    "QueueSink": "control",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
