"""The lesion study's state in the Inspect tab: its result, whether it still holds, its thread.

A study of a deep net takes a minute, so it runs in a thread of its own, on its own copy of
the weights with the switches as they were when it started (the user goes on poking at the
net meanwhile). Its result then describes those switches: once the net's switches move away
from them, the result is *stale* and the chart says so (:class:`~.study.Study`).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from . import tasks
from .jobs import Job
from .results import Switches
from .study import Study

if TYPE_CHECKING:
    from ...core.data import DataSet
    from ...core.inspect import LesionResult, LoadedModel

__all__ = ["LesionStudy"]


class LesionStudy(Study):
    """Veit et al.'s lesion study (arXiv:1605.06431) of the net shown, run in the background."""

    label = "lesion study"

    def __init__(self, parent=None) -> None:
        super().__init__("lesion", parent)

    def run(self, loaded: LoadedModel, data: DataSet, switches: Switches, limit: int | None) -> Job | None:
        """Study ``loaded`` with ``switches`` on ``limit`` test images of ``data``; None while
        another study runs."""
        fn = partial(
            tasks.lesion_study, loaded=loaded, data=data, switches=switches, limit=limit, copy_of=self._inspector_for
        )
        return self._submit(fn, switches)

    def _done_message(self, result: LesionResult) -> str:
        return f"lesion study of {result.arch} on {result.n_images} test images in {result.seconds:.1f} s"
