"""What a channel sees, as the Inspect tab holds it: one feature pass per net, in the background.

Zeiler & Fergus (2014, arXiv:1311.2901, Fig. 2): for every channel of the low, mid and high
levels, the test images and places where it responds most, cropped to the unit's receptive
field (:func:`resviz.core.inspect.Inspector.top_activations`). One pass over up to 10,000
test images of the gallery's split takes seconds to a minute, so it runs in a thread of its
own on its own copy of the weights, with the switches as they were when it started; a
result is remembered per net and switches (:class:`~.study.Study`), and the core caches it
per model state, so the same net coming back shows it again at once.
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
    from ...core.inspect import LoadedModel
    from ...core.inspect.features import TopActivations

__all__ = ["FeatureStudy", "DEFAULT_IMAGES", "DEFAULT_K"]

#: The issue's pass: up to 10,000 test images (CIFAR-10's whole test split), 9 patches each.
DEFAULT_IMAGES = 10_000
DEFAULT_K = 9


class FeatureStudy(Study):
    """The top-``k`` patches of every channel at every level, for the net shown."""

    label = "feature pass"

    def __init__(self, parent=None) -> None:
        super().__init__("features", parent)

    def run(
        self, loaded: LoadedModel, data: DataSet, switches: Switches, *, limit: int, k: int = DEFAULT_K
    ) -> Job | None:
        """The pass over ``limit`` test images of ``data`` of ``loaded`` with ``switches``;
        None while another pass runs."""
        fn = partial(
            tasks.top_activations,
            loaded=loaded,
            data=data,
            switches=switches,
            limit=limit,
            k=k,
            copy_of=self._inspector_for,
        )
        return self._submit(fn, switches)

    def _done_message(self, result: TopActivations) -> str:
        return f"what each channel sees: {result.n_images:,} test images in {result.seconds:.1f} s"
