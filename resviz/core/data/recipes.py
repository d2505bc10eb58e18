"""The paper's ImageNet recipe (section 3.4), per image: what a streaming worker does.

He et al. 2016, section 3.4: "The image is resized with its shorter side randomly sampled
in [256, 480] for scale augmentation [41]. A 224x224 crop is randomly sampled from an image
or its horizontal flip, with the per-pixel mean subtracted [21]. The standard color
augmentation in [21] is used." Testing: "for comparison studies we adopt the standard
10-crop testing [21]"; the single-crop error we report during training is the 224 centre
crop of the image resized to a shorter side of 256 (torchvision's reference evaluation).

* The colour augmentation of [21] (AlexNet) is PCA lighting: each image gets
  ``eigvec @ (alpha * eigval)`` added to every pixel, ``alpha ~ N(0, 0.1)`` per component,
  with the ImageNet RGB eigen-decomposition fb.resnet.torch uses (its ``Lighting(0.1, ...)``).
  fb.resnet.torch also jitters brightness, contrast and saturation (0.4); the paper does not
  say it does, so that is left out. Lighting is applied on the device to the whole batch
  (:func:`~resviz.core.data.augment.augment_batch`), after the per-pixel mean is subtracted
  (it is an offset per image, so the order does not matter).
* The optimiser settings are the paper's: batch 256, SGD momentum 0.9, weight decay 1e-4,
  lr 0.1 "divided by 10 when the error plateaus". A fixed schedule stands in for the plateau
  rule: divided by 10 at epochs 30 and 60 of 90, as torchvision's reference recipe does
  (the paper trained "for up to 60 x 10^4 iterations"; 90 epochs of ImageNet are 450k).

A recipe at a smaller image size (tests, a quick look) scales every length by size / 224.
Everything here is torch-free but PIL and numpy, so it runs the same in worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "RECIPES",
    "ImageNetRecipe",
    "FixedSizeRecipe",
    "PCA_EIGVAL",
    "PCA_EIGVEC",
    "LIGHTING_STD",
    "recipe_train_settings",
    "ten_crop_boxes",
    "centre_box",
]

#: What ``--recipe`` accepts: the CIFAR recipe (section 4.2: pad 4 and crop, flip, images
#: kept in memory) and the ImageNet recipe (section 3.4, streamed from the folder).
RECIPES = ("cifar", "imagenet")

#: The ImageNet RGB eigenvalues and eigenvectors of [21] as fb.resnet.torch gives them
#: (datasets/imagenet.lua, ``pca``), for pixels in [0, 1].
PCA_EIGVAL = (0.2175, 0.0188, 0.0045)
PCA_EIGVEC = (
    (-0.5675, 0.7192, 0.4009),
    (-0.5808, -0.0045, -0.8140),
    (-0.5836, -0.6948, 0.4203),
)
#: The std of the lighting coefficients alpha (AlexNet: 0.1).
LIGHTING_STD = 0.1

#: Epochs of the fixed schedule that stands in for the paper's plateau rule.
EPOCHS = 90
MILESTONE_EPOCHS = (30, 60)


@dataclass(frozen=True)
class ImageNetRecipe:
    """Lengths of the recipe in pixels: the paper's at ``crop`` 224, scaled for others."""

    crop: int = 224
    scale_low: int = 256
    scale_high: int = 480
    test_resize: int = 256

    @classmethod
    def at(cls, crop: int = 224) -> ImageNetRecipe:
        """The recipe for ``crop`` x ``crop`` inputs: every length times crop / 224."""
        f = crop / 224
        return cls(crop, max(crop, round(256 * f)), max(crop, round(480 * f)), max(crop, round(256 * f)))

    # -- geometry (pure arithmetic, tested by hand) ------------------------------------

    @staticmethod
    def resized(w: int, h: int, short: int) -> tuple[int, int]:
        """The size with the shorter side ``short`` and the aspect kept (torchvision's Resize(int))."""
        if w <= h:
            return short, int(short * h / w)
        return int(short * w / h), short

    def train_geometry(self, w: int, h: int, rng: np.random.Generator) -> tuple[tuple[int, int], tuple[int, int], bool]:
        """(resized size, crop's top-left, flip): the scale augmentation, random crop and flip."""
        short = int(rng.integers(self.scale_low, self.scale_high + 1))
        rw, rh = self.resized(w, h, short)
        left = int(rng.integers(0, rw - self.crop + 1))
        top = int(rng.integers(0, rh - self.crop + 1))
        flip = bool(rng.random() < 0.5)
        return (rw, rh), (left, top), flip

    def test_geometry(self, w: int, h: int) -> tuple[tuple[int, int], tuple[int, int]]:
        """(resized size, crop's top-left): the centre crop of the image resized to ``test_resize``."""
        rw, rh = self.resized(w, h, self.test_resize)
        return (rw, rh), centre_box(rw, rh, self.crop)


@dataclass(frozen=True)
class FixedSizeRecipe:
    """The CIFAR recipe's per-image part, for a folder streamed with it (one too large for
    memory): every image resized to ``crop`` x ``crop``, as the in-memory loader does; the
    4-pixel pad, crop and flip of section 4.2 then run on the batch (data.augment)."""

    crop: int = 32

    def train_geometry(self, w: int, h: int, rng: np.random.Generator) -> tuple[tuple[int, int], tuple[int, int], bool]:
        return (self.crop, self.crop), (0, 0), False

    def test_geometry(self, w: int, h: int) -> tuple[tuple[int, int], tuple[int, int]]:
        return (self.crop, self.crop), (0, 0)


def centre_box(w: int, h: int, crop: int) -> tuple[int, int]:
    """Top-left of the centred ``crop`` x ``crop`` box, rounded as torchvision's CenterCrop does."""
    return int(round((w - crop) / 2.0)), int(round((h - crop) / 2.0))


def ten_crop_boxes(w: int, h: int, crop: int) -> list[tuple[int, int, bool]]:
    """The 10 crops of [21]: (left, top, flipped) for the four corners and the centre, then
    the same five of the horizontally flipped image (torchvision's TenCrop order)."""
    if crop > min(w, h):
        raise ValueError(f"a {crop} px crop does not fit a {w}x{h} image")
    cl, ct = centre_box(w, h, crop)
    five = [(0, 0), (w - crop, 0), (0, h - crop), (w - crop, h - crop), (cl, ct)]
    return [(x, y, False) for x, y in five] + [(x, y, True) for x, y in five]


def recipe_train_settings(recipe: str, train_images: int) -> dict:
    """The TrainConfig values a recipe sets (those the user did not give): the ImageNet one's
    batch 256, lr 0.1 / 10 at epochs 30 and 60 of 90; the CIFAR one sets nothing (its values
    are TrainConfig's defaults)."""
    if recipe != "imagenet":
        return {}
    batch = 256
    iters = max(1, EPOCHS * train_images // batch)
    return {
        "batch_size": batch,
        "lr": 0.1,
        "momentum": 0.9,
        "weight_decay": 1e-4,
        "iters": iters,
        "lr_milestones": [m / EPOCHS for m in MILESTONE_EPOCHS],
        # The drops are fractions of this recipe's own budget (epochs 30 and 60 of 90), never the
        # CIFAR schedule's 32k and 48k that "paper" (issue #18) means for a short CIFAR run.
        "schedule": "scaled",
        "image_size": 224,
    }
