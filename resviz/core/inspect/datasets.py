"""The test images that go with a loaded net: the right data set at the right size.

Shared by the CLI verbs (``--data``) and the app's Inspect tab (its gallery and lesion
study), so both decode a data set at the size the net takes and complete a bare state
dict from it (class names, the per-pixel mean) in the same way.
"""

from __future__ import annotations

from pathlib import Path

from ..data import DataSet, load_dataset
from .loading import LoadedModel

__all__ = ["data_size_for", "load_data_for", "trained_data"]


def data_size_for(loaded: LoadedModel, spec: str) -> int | None:
    """The image side to decode ``spec`` at for this net (None: the data set's own).

    CIFAR-family nets take the side their input mean or preprocessing says (16 for nets
    trained on 16 x 16 digits); folders are decoded at the net's size so nothing is
    resized twice. CIFAR-10 is always 32, and digits stay 16 for ImageNet nets, whose
    preprocessing resizes anyway.

    A bare state dict records no input size, and a CIFAR net's weights do not fix one (the
    convolutions and the global average pool take any side): the data set's own size is
    the one it was trained at (issue #17: a digits net was evaluated at 32 x 32, upsampled
    from the 16 x 16 it learned on); its mean then sets the net's input.
    """
    if spec == "cifar10":
        return None
    if loaded.model.family == "cifar" and loaded.needs_data_mean:
        return None
    if loaded.model.family == "cifar" or spec != "digits":
        return loaded.preprocess.size
    return None


def trained_data(loaded: LoadedModel) -> tuple[str, str | None, int | None] | None:
    """(data, data_root, image_size) of the run that trained a resviz checkpoint, if recorded."""
    config = loaded.config or {}
    data = config.get("data")
    if not data:
        return None
    return str(data), config.get("data_root"), config.get("image_size")


def load_data_for(
    loaded: LoadedModel,
    spec: str | Path,
    *,
    root: str | Path | None = None,
    size: int | None = None,
    splits: tuple[str, ...] = ("test",),
) -> tuple[LoadedModel, DataSet]:
    """Load the test split of ``spec`` (digits, cifar10, a folder) sized for ``loaded``, and the
    net completed from it: class names and input mean where the weights file recorded none.

    Only the test split is read (what eval, the lesion study and the gallery use), and the
    training mean only when the net needs it: reading CIFAR-10's 50,000 training images to
    look at its 10,000 test images took most of ``resviz eval``'s time (issue #9). The
    returned data set's train split is empty unless ``spec`` is digits, or ``splits`` asks
    for it (the loss landscape is of the training loss).
    """
    spec = str(spec)
    data = load_dataset(
        spec, root=root, size=size or data_size_for(loaded, spec), splits=splits, mean=loaded.needs_data_mean
    )
    return loaded.with_data(data.classes, data.mean), data
