"""Ranges of the numbers a user can give, checked before any work starts (issue #9).

Torch-free, so the CLI and the app validate settings before the slow import of torch.
Each limit sits far above any real use and far below what breaks the machine: found by
attack, ``--threads 100000`` made OpenMP segfault.
"""

from __future__ import annotations

import math

from .errors import ConfigError

__all__ = ["MAX_THREADS", "check_threads", "check_finite"]

#: More threads than any machine resviz runs on has cores; OpenMP crashes far above it.
MAX_THREADS = 512


def check_threads(value: int | None, option: str = "--threads") -> int | None:
    """``value`` when it is None or a whole number in [1, MAX_THREADS]; else ConfigError."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_THREADS:
        raise ConfigError(f"{option} must be a whole number from 1 to {MAX_THREADS}, not {value!r}")
    return value


def check_finite(value: float, option: str) -> float:
    """``value`` when it is a finite number; NaN and infinities get a ConfigError naming ``option``."""
    try:
        ok = math.isfinite(float(value))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ConfigError(f"{option} must be a finite number, not {value!r}")
    return float(value)
