"""The in-memory shape every data set takes: uint8 image tensors and integer labels.

Images are decoded once and kept as ``uint8`` N x C x H x W (a quarter of float32's memory),
so a small set (digits, CIFAR-10: 180 MB) fits on the training device whole and batches are
cut, converted and augmented there (see :mod:`resviz.core.data.augment`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import torch
from torch import Tensor

__all__ = ["ImageSet", "Augment", "DataSet"]


@dataclass
class ImageSet:
    """One split: ``images`` uint8 N x C x H x W, ``labels`` int64 N."""

    images: Tensor
    labels: Tensor

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.dim() != 4:
            raise ValueError("images must be a uint8 tensor of shape N x C x H x W")
        if self.labels.shape != (self.images.shape[0],):
            raise ValueError("labels must hold one class index per image")
        self.labels = self.labels.long()

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def to(self, device: torch.device | str) -> ImageSet:
        """The same split on ``device`` (a no-op where it already is)."""
        return ImageSet(self.images.to(device), self.labels.to(device))


@dataclass(frozen=True)
class Augment:
    """The paper's training augmentation (section 4.2), applied to whole batches.

    ``pad`` pixels of zeros on each side, then a random crop back to the input size, and a
    horizontal flip with probability 1/2 when ``flip`` is set. ``lighting`` is the std of
    the ImageNet recipe's PCA colour augmentation (section 3.4, AlexNet's; 0 = none; see
    :mod:`resviz.core.data.recipes`).
    """

    pad: int = 4
    flip: bool = True
    lighting: float = 0.0


@dataclass
class DataSet:
    """A named data set: train and test splits, class names, the per-pixel training mean."""

    name: str
    train: ImageSet
    test: ImageSet
    classes: list[str]
    augment: Augment = field(default_factory=Augment)
    #: Things the loader wants the user to know (skipped files, resized images ...).
    notes: list[str] = field(default_factory=list)
    #: The per-pixel mean of the training images, C x H x W in [0, 1]: computed from the
    #: train split unless given (a loader that read only the test split may know it from a
    #: cache, or leave it None when nothing needs it).
    mean: Tensor | None = None

    def __post_init__(self) -> None:
        if self.train.images.shape[1:] != self.test.images.shape[1:]:
            raise ValueError("train and test images differ in shape")
        # The paper subtracts the per-pixel mean of the training images (section 4.2).
        if self.mean is None and len(self.train):
            self.mean = self.train.images.float().mean(dim=0).div_(255.0)

    def to(self, device: torch.device | str) -> DataSet:
        """This data set with its images, labels and mean on ``device`` (itself where they are).

        A lockstep group moves its data set once and hands the same object to every net
        (issue #11): one copy on the device, however many nets read it.
        """
        device = torch.empty(0, device=device).device  # "cuda" -> "cuda:0", as tensors report it
        if self.train.images.device == device and self.mean.device == device:
            return self
        moved = copy.copy(self)
        moved.train, moved.test, moved.mean = self.train.to(device), self.test.to(device), self.mean.to(device)
        return moved

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """C, H, W of every image."""
        c, h, w = self.train.images.shape[1:]
        return int(c), int(h), int(w)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def describe(self) -> str:
        """One line for status bars and logs."""
        c, h, w = self.image_shape
        train = f"{len(self.train)} train" if len(self.train) else "no train (test split only)"
        return f"{self.name}: {train} / {len(self.test)} test images, {self.num_classes} classes, {c}x{h}x{w}"
