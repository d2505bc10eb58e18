"""Throughput that means something when nets train in lockstep (issue #18).

A lockstep group (:mod:`resviz.core.train.group`) steps its nets in turn from one thread, so
a net's images over the wall clock between two of its records counts the other nets' steps
as its own time: four nets that stepped together read 69, 54, 33 and 29 img/s. What does
mean something is the group's images per second and each net's share of the step time:
each trainer records ``step_seconds`` (its own time in training steps since its previous
record) and ``eval_seconds`` (each evaluation's time), and this module adds them up.
Torch-free: the CLI's progress display and the app's status bar use it alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["NetTime", "GroupThroughput", "group_throughput"]


@dataclass
class NetTime:
    """One net's time: over its latest record interval, and in total so far."""

    name: str
    images: int  # trained in the latest interval (steps x batch)
    step_seconds: float  # its own step time in that interval
    total_step_seconds: float
    total_eval_seconds: float


@dataclass
class GroupThroughput:
    images_per_s: float  # the group's training images per second of step time
    share: dict[str, float]  # each net's share of the latest interval's step time
    eval_seconds: float
    eval_share: float  # of the time spent stepping and evaluating

    def text(self, name: str | None = None) -> str:
        """``group 812 img/s · plain56 34 % of step time · evaluating 6 %`` (``name``: that net's
        share only; else every net's)."""
        if name is not None:
            shares = f"{name} {self.share.get(name, 0.0):.0%} of step time"
        else:
            shares = "step time " + ", ".join(f"{n} {s:.0%}" for n, s in self.share.items())
        return (
            f"group {self.images_per_s:,.0f} img/s · {shares} · evaluating {self.eval_seconds:,.0f} s "
            f"({self.eval_share:.0%})"
        )


def group_throughput(nets: Sequence[NetTime]) -> GroupThroughput | None:
    """The group's numbers, or None before any net has recorded its step time."""
    stepping = sum(n.step_seconds for n in nets)
    if stepping <= 0:
        return None
    images = sum(n.images for n in nets)
    total_step = sum(n.total_step_seconds for n in nets)
    total_eval = sum(n.total_eval_seconds for n in nets)
    return GroupThroughput(
        images_per_s=images / stepping,
        share={n.name: n.step_seconds / stepping for n in nets},
        eval_seconds=total_eval,
        eval_share=total_eval / (total_eval + total_step) if total_eval + total_step > 0 else 0.0,
    )
