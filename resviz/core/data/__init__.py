"""Data sets as uint8 tensors, and the paper's augmentation as batch ops on the device."""

from __future__ import annotations

from pathlib import Path

from ..errors import DataError
from ..inputs import usable_path
from ..paths import cache_dir
from .augment import BatchStream, augment_batch, eval_batches, normalise
from .base import Augment, DataSet, ImageSet

__all__ = [
    "Augment",
    "BatchStream",
    "DataSet",
    "ImageSet",
    "augment_batch",
    "eval_batches",
    "load_dataset",
    "normalise",
    "DATASET_NAMES",
]

#: The data sets known by name; anything else is taken as a folder path.
DATASET_NAMES = ("digits", "cifar10")


def load_dataset(
    spec: str | Path,
    *,
    root: str | Path | None = None,
    download: bool = False,
    size: int | None = None,
    splits: tuple[str, ...] = ("train", "test"),
    mean: bool = True,
    recipe: str = "cifar",
    stream: bool | None = False,
    workers: int | None = None,
) -> DataSet:
    """Load ``digits``, ``cifar10`` (from ``root``) or an ImageFolder-layout folder path.

    ``size`` sets the side of the square images for digits (default 16) and folders
    (default 32); CIFAR-10 is always 32. ``splits=("test",)`` reads only the test split of
    CIFAR-10 and folders (the inspector's eval and lesion study), and ``mean=False`` then
    spares reading the train split for its per-pixel mean too (``DataSet.mean`` is None).
    Digits are embedded and always whole.

    A folder streams from disk (:mod:`.streamset`) with ``recipe="imagenet"`` (section 3.4's
    scale augmentation, at ``size`` default 224) or ``stream=True``; ``stream=None`` decides
    by whether the decoded splits fit in memory (:func:`~.streamset.choose_stream`, the
    trainer's default), ``stream=False`` (the default here) holds them in memory. The choice
    and its reason are a line of :attr:`DataSet.notes` whenever it was asked for.
    ``workers`` decode a streamed folder (default: :func:`~.stream.default_workers`).
    """
    name = str(spec)
    if name == "digits":
        from .digits import load_digits

        return load_digits(size=size or 16)
    if name == "cifar10":
        from .cifar10 import load_cifar10

        return load_cifar10(root or cache_dir() / "cifar10", download=download, train="train" in splits or mean)
    from .folder import load_folder

    usable_path(name, error=DataError)  # a name too long or unreadable: one line (issue #17)
    if not Path(name).expanduser().exists() and "/" not in name and "\\" not in name:
        raise DataError(
            f"unknown data set {name!r}: use digits, cifar10, or the path of a folder "
            "with train/ and test/ class subfolders"
        )
    if recipe == "imagenet" or stream is not False:  # issue #22: the streaming pipeline
        from .streamset import choose_stream, count_images, load_stream_folder

        size = size or (224 if recipe == "imagenet" else 32)
        choice = choose_stream(count_images(Path(name).expanduser()), size, stream=stream, recipe=recipe)
        if choice.stream:
            return load_stream_folder(name, size, workers=workers, recipe=recipe, notes=(choice.reason,))
        data = load_folder(name, size=size, splits=splits, mean=mean)
        data.notes.insert(0, choice.reason)
        return data
    return load_folder(name, size=size or 32, splits=splits, mean=mean)
