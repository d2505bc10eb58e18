"""What a loaded net comes with, worked out in the inspector's worker thread.

Its test images (the data set it was trained on when the checkpoint records it, else the
last choice, else the built-in digits; the gallery's thumbnails), and the thread's own
settings: torch's CPU threads and an early matplotlib import. Everything here that
touches torch imports it inside the function (the tab is built before torch loads).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..preferences import training_threads

__all__ = [
    "DataChoice",
    "Gallery",
    "GALLERY_SIZE",
    "default_data",
    "complete",
    "gallery_of",
    "apply_switches",
    "leave_the_gui_a_core",
    "warm_display",
]

#: Test images offered in the gallery (the first ones of the split).
GALLERY_SIZE = 240


@dataclass(frozen=True)
class DataChoice:
    """Which test images go with the net: ``digits``, ``cifar10`` or a folder path."""

    spec: str
    root: str | None = None  # where cifar10 lives (None: resviz's cache)
    size: int | None = None  # image side (None: what suits the net)

    @property
    def label(self) -> str:
        if self.spec in ("digits", "cifar10"):
            return {"digits": "digits (built in)", "cifar10": "CIFAR-10"}[self.spec]
        return Path(self.spec).name or self.spec


@dataclass
class Gallery:
    """The first test images of a data set, as thumbnails and labels."""

    name: str
    images: np.ndarray  # N x H x W x 3 uint8
    labels: list[int]
    classes: list[str]


def default_data(raw, fallback: DataChoice | None) -> DataChoice:
    """The data the net was trained on when its checkpoint says, else the last choice, else digits."""
    from ...core.inspect.datasets import trained_data

    trained = trained_data(raw)
    if trained is not None:
        return DataChoice(*trained)
    if raw.layout == "pytorch_resnet_cifar10":
        return DataChoice("cifar10")
    return fallback or DataChoice("digits")


def complete(raw, choice: DataChoice):
    """The net completed from its test images; digits when those cannot be loaded."""
    from ...core.errors import ResvizError
    from ...core.inspect.datasets import load_data_for

    try:
        loaded, dataset = load_data_for(raw, choice.spec, root=choice.root, size=choice.size)
        return loaded, dataset, choice, []
    except ResvizError as exc:
        if choice.spec == "digits":
            raise
        digits = DataChoice("digits")
        loaded, dataset = load_data_for(raw, "digits")
        return loaded, dataset, digits, [f"{exc}; showing the digits test images instead"]


def gallery_of(dataset) -> Gallery:
    """The first :data:`GALLERY_SIZE` test images of ``dataset`` as H x W x 3 thumbnails."""
    images = dataset.test.images[:GALLERY_SIZE]
    if images.shape[1] == 1:
        images = images.expand(-1, 3, -1, -1)
    return Gallery(
        dataset.name,
        images.permute(0, 2, 3, 1).contiguous().numpy(),
        [int(v) for v in dataset.test.labels[:GALLERY_SIZE]],
        list(dataset.classes),
    )


def apply_switches(inspector, switches: Sequence[tuple[bool, bool]]) -> None:
    """Set every block's (shortcut, residual) switches of ``inspector`` as listed."""
    inspector.reset()
    for i, (shortcut, residual) in enumerate(switches):
        inspector.set_shortcut(i, shortcut)
        inspector.set_residual(i, residual)


def leave_the_gui_a_core() -> None:
    """Torch's CPU threads as a training run in the app gets them (``training_threads``).

    The setting is process-wide, and the same reason holds: on a small machine shared with
    other work, two OpenMP threads that lose a core wait on each other. Measured here under
    load (benchmarks' machine, 2 cores): Grad-CAM at three levels plus Saliency of resnet56
    at 32 x 32 took 0.05 s with one thread and 12 s with two.
    """
    threads = training_threads()
    if threads is not None:
        import torch

        torch.set_num_threads(threads)


def warm_display() -> None:
    """Import matplotlib here, not on the GUI thread at the first overlay (~0.5 s)."""
    import matplotlib.cm  # noqa: F401
