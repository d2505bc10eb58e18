"""The one parser of floating-point flags: every ``type=finite_float`` of the CLI goes through it.

``float()`` accepts ``inf``, ``nan`` and ``1e999`` (= inf): ``screenshot --seconds inf``
waited forever and ``--seconds nan`` was taken (issue #17). Refused here, before any
command runs, in argparse's own words ("argument --seconds: ...").
"""

from __future__ import annotations

import argparse
import math

__all__ = ["finite_float"]


def finite_float(text: str) -> float:
    """``float(text)`` when it is a finite number; argparse reports anything else."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, not {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, not {text!r}")
    return value
