"""The training engine: one loop for the app's worker thread, the CLI and torchrun.

Exports resolve lazily (PEP 562) so that ``resviz.core.train.config`` and ``.records``
can be imported without torch, which the app needs before torch has finished loading.
"""

from __future__ import annotations

import importlib
from typing import Any

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


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
