"""The loss landscape of the net shown (and its plain or residual twin), in the background.

Li et al. 2018 (arXiv:1712.09913, Fig. 5) draw ResNet-56 beside the same net trained without
shortcuts: the residual net's training loss around its weights is smooth, the plain net's
chaotic, which is the optimisation difficulty He et al. 2016 (section 4.1) blame for the
degradation problem. A sweep costs ``grid`` (x ``grid``) evaluations of the training loss,
minutes on a CPU, so it runs in a thread of its own (:class:`~.study.Study`), on its own
copy of the net with the switches as they were, and loads the twin there too.

The landscape is of the *training* loss, while the Inspect tab reads only the test split of a
folder or CIFAR-10 (issue #9): the study reads the training split itself, in its thread, once
per data choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from . import tasks
from .jobs import Job
from .results import Switches, TwinLandscapes
from .study import Study

if TYPE_CHECKING:
    from ...core.data import DataSet
    from ...core.inspect import Inspector, LoadedModel
    from .sources import DataChoice

__all__ = ["LandscapeStudy", "LandscapeSettings"]


@dataclass(frozen=True)
class LandscapeSettings:
    """The sweep: 1 or 2 directions, points per axis, how far, how many training images,
    and the directions' seed (the same seed, the same directions for both nets)."""

    dims: int = 2
    grid: int = 11
    span: float = 1.0
    images: int = 500
    seed: int = 0

    @property
    def points(self) -> int:
        return self.grid**self.dims


class LandscapeStudy(Study):
    """Loss landscapes of the net shown and, with one click, of its twin."""

    label = "loss landscape"

    def __init__(self, parent=None) -> None:
        super().__init__("landscape", parent)
        self._twin: tuple[str, tuple, Inspector] | None = None  # (path, data key, copy): the thread's only
        self._train: tuple[tuple, DataSet] | None = None  # (data choice and size, training split): the same

    def run(
        self,
        loaded: LoadedModel,
        data: DataSet,
        choice: DataChoice | None,
        switches: Switches,
        settings: LandscapeSettings,
        *,
        twin: Path | None = None,
        twin_note: str = "",
    ) -> Job | None:
        """Sweep ``loaded`` with ``switches`` (and the net in ``twin``, a checkpoint) on the
        training images of ``data`` (loaded by ``choice``); None while another sweep runs."""
        fn = partial(
            tasks.landscapes,
            loaded=loaded,
            switches=switches,
            settings=settings,
            twin=twin,
            twin_note=twin_note,
            train_of=partial(self._train_for, loaded, data, choice),
            copy_of=self._inspector_for,
            twin_of=self._twin_for,
        )
        return self._submit(fn, switches)

    def _done_message(self, result: TwinLandscapes) -> str:
        r = result.landscapes[0]
        nets = " and ".join(x.name for x in result.landscapes)
        return f"loss landscape of {nets}: {r.loss.size} points on {r.n_images:,} training images each"

    def _train_for(self, loaded: LoadedModel, data: DataSet, choice: DataChoice | None) -> DataSet:
        """``data`` when it has its training split (the built-in digits), else that split read
        now, in the study thread, sized for ``loaded`` (kept for the next sweep)."""
        if len(data.train) or choice is None:
            return data
        from ...core.data import load_dataset
        from ...core.inspect.datasets import data_size_for

        size = choice.size or data_size_for(loaded, choice.spec)
        key = (choice.spec, choice.root, size)
        if self._train is None or self._train[0] != key:
            self._train = None  # the old split goes before the new one is read
            self._train = (key, load_dataset(choice.spec, root=choice.root, size=size, splits=("train",)))
        return self._train[1]

    def _twin_for(self, path: Path, data: DataSet) -> Inspector:
        """The twin's copy, loaded in the study thread and completed from ``data`` (kept
        while the same file and images are asked for)."""
        from ...core.inspect import Inspector, load_model
        from ...core.inspect.evaluation import check_classes

        key = (data.name, len(data.train))
        if self._twin is None or self._twin[:2] != (str(path), key):
            loaded = load_model(path).with_data(data.classes, data.mean)
            check_classes(loaded.model, loaded.classes, data.classes, data.name)
            self._twin = (str(path), key, Inspector(loaded, cache=self.core_cache()))
        return self._twin[2]
