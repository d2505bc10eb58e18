"""The embedded default data set: scikit-learn's 8x8 handwritten digits.

1,797 real images (UCI ML digits, Alpaydin & Kaynak 1998) that ship inside scikit-learn,
so the app trains on first launch with no download. They are upsampled to ``size`` x
``size`` (16 by default: a 6n+2 CIFAR net then runs on 16/8/4 maps, four times faster
than at 32) and repeated over three channels so the CIFAR nets take them unchanged.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .base import Augment, DataSet, ImageSet

__all__ = ["load_digits", "DIGITS_TEST_FRACTION"]

#: The share of each class held out for testing, fixed so every run splits alike.
DIGITS_TEST_FRACTION = 0.2


def _stratified_split(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        k = int(round(len(idx) * fraction))
        test.append(idx[:k])
        train.append(idx[k:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def load_digits(size: int = 16, seed: int = 0) -> DataSet:
    """The digits set as a :class:`DataSet`, split 80/20 per class with a fixed seed."""
    from sklearn.datasets import load_digits as sk_digits  # heavy import, only when asked

    bunch = sk_digits()
    pixels = torch.from_numpy(bunch.images.astype(np.float32) / 16.0)  # 0..16 -> 0..1
    labels = torch.from_numpy(bunch.target.astype(np.int64))
    images = pixels.unsqueeze(1)
    if size != 8:
        images = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False)
    images = (images.clamp(0, 1) * 255).round().to(torch.uint8).repeat(1, 3, 1, 1)
    train_idx, test_idx = _stratified_split(bunch.target, DIGITS_TEST_FRACTION, seed)
    train = ImageSet(images[train_idx], labels[train_idx])
    test = ImageSet(images[test_idx], labels[test_idx])
    # Pad scaled to the image size (4 at 32, 2 at 16). No flips: a mirrored 2 or 7 is not
    # a digit, unlike a mirrored CIFAR-10 cat.
    augment = Augment(pad=max(1, size // 8), flip=False)
    return DataSet("digits", train, test, [str(d) for d in range(10)], augment=augment)
