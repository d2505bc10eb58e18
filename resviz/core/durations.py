"""Durations as people read them: the app's ETA and the CLI's progress bar and summary."""

from __future__ import annotations

import math

__all__ = ["format_duration"]


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
