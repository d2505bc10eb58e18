"""Durations as people read them: the app's ETA and the CLI's progress bar and summary."""

from __future__ import annotations

import math

__all__ = ["format_duration", "format_long_duration"]


def format_duration(seconds: float | None, *, clock: bool = False) -> str:
    """``12s``, ``3m07s``, ``1h02m``; with ``clock``: ``0:12``, ``3:07``, ``1:02:00``.

    ``?`` when the time is unknown (None, NaN, infinite; a negative ETA on the clock).
    """
    if seconds is None or not math.isfinite(seconds) or (clock and seconds < 0):
        return "?"
    h, rest = divmod(max(0, int(round(seconds))), 3600)
    m, s = divmod(rest, 60)
    if clock:
        return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
    if h:
        return f"{h}h{m:02d}m"
    if m:
        return f"{m}m{s:02d}s"
    return f"{s}s"


def format_long_duration(seconds: float | None) -> str:
    """:func:`format_duration`, but beyond two days in days (``18.5 days``): a CPU's estimate
    for the paper's full schedule reads better so than as ``444h20m``."""
    if seconds is not None and math.isfinite(seconds) and seconds > 2 * 86400:
        return f"{seconds / 86400:.1f} days"
    return format_duration(seconds)
