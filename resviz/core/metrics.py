"""Error rates: one formula for every percentage resviz reports (issue #9).

The lesion study used to compute ``wrong * (100 / n)`` and ``resviz eval`` ``100 * wrong /
n``; the two differ in the last bit (``41.66666666666667`` against ``41.666666666666664``
for 50 of 120), so the same net's error compared unequal to itself on some machines.
Every error in percent now comes from :func:`error_percent`, results carry the exact
counts, and what is shown is rounded by :func:`display_percent` only at the edge.

Torch-free: the trainer's telemetry, the inspector and the CLI all use it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["error_percent", "display_percent", "DISPLAY_DECIMALS"]

#: Decimals of a percentage written to JSON and CSV (0.01 % is one image in 10,000).
DISPLAY_DECIMALS = 2


def error_percent(wrong, n: float):
    """``100 * wrong / n``: the share of ``n`` that is wrong, in percent (0 when ``n`` is 0).

    ``wrong`` may be a float (a count summed on a device and copied back as one), or an
    array of counts (a loss landscape's grid), which gives a float64 array computed in the
    same order, so each element equals the scalar result.
    """
    if np.ndim(wrong):
        counts = np.asarray(wrong, dtype=np.float64)
        return np.zeros_like(counts) if n <= 0 else 100.0 * counts / float(n)
    if n <= 0:
        return 0.0
    return 100.0 * float(wrong) / float(n)


def display_percent(value: float | None, decimals: int = DISPLAY_DECIMALS) -> float | None:
    """A percentage rounded for people (``24.900000000000002`` -> ``24.9``); None stays None."""
    return None if value is None else round(float(value), decimals)
