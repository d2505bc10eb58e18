"""CIFAR-10 through torchvision (Krizhevsky 2009), the data set of the paper's section 4.2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..download import RemoteFile, fetch
from ..errors import DataError, ResvizError
from .base import Augment, DataSet, ImageSet

__all__ = ["load_cifar10", "CIFAR10_ARCHIVE", "CIFAR10_REMOTE"]

CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
#: The archive as its authors publish it; its SHA-256 as the TensorFlow Datasets checksums
#: record it (torchvision checks the MD5 c58f30108f718f92721af3b95e74349a when it extracts).
CIFAR10_REMOTE = RemoteFile(
    "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    CIFAR10_ARCHIVE,
    "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
    size=170_498_071,
)


def _fetch_archive(root: Path, progress=None) -> None:
    """Download the archive with resviz's downloader (SHA-256, resume, one-line errors) so that
    torchvision only has to extract it."""
    if (root / "cifar-10-batches-py").is_dir():
        return
    fetch(CIFAR10_REMOTE, root, progress=progress)


def _split(root: Path, train: bool, download: bool) -> tuple[ImageSet, list[str]]:
    from torchvision.datasets import CIFAR10  # heavy import, only when asked

    ds = CIFAR10(str(root), train=train, download=download)
    images = torch.from_numpy(np.ascontiguousarray(ds.data.transpose(0, 3, 1, 2)))  # NHWC -> NCHW
    labels = torch.as_tensor(ds.targets, dtype=torch.int64)
    return ImageSet(images, labels), list(ds.classes)


def load_cifar10(root: str | Path, download: bool = False, train: bool = True) -> DataSet:
    """CIFAR-10's 50,000 training and 10,000 test images from ``root``.

    With ``download`` torchvision fetches the archive; without it, or offline, the error
    says where the files must be. ``train=False`` reads the test batch only (the train
    split is then empty and the data set has no mean).
    """
    root = Path(root).expanduser()
    try:
        if download:
            _fetch_archive(root)
        test, classes = _split(root, False, download)
        if train:
            train_split, _ = _split(root, True, download)
        else:
            train_split = ImageSet(
                torch.zeros((0, *test.images.shape[1:]), dtype=torch.uint8), torch.zeros(0, dtype=torch.int64)
            )
    except ResvizError:
        raise  # the downloader's message names the URL and the folder already
    except Exception as exc:  # torchvision raises RuntimeError, URLError, OSError ...
        what = "could not download CIFAR-10" if download else "CIFAR-10 is not in"
        raise DataError(
            f"{what} {root}: {exc}. Put {CIFAR10_ARCHIVE} (from "
            f"https://www.cs.toronto.edu/~kriz/cifar.html) or its extracted "
            f"cifar-10-batches-py/ folder in {root}" + ("" if download else ", or allow downloading")
        ) from exc
    return DataSet("cifar10", train_split, test, classes, augment=Augment(pad=4, flip=True))
