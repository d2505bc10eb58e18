"""How each loaded model wants its inputs, and the image "as the net sees it".

Three recipes, one per kind of weights (issue 5, "Load a model"):

* ours: scale to [0, 1] and subtract the per-pixel mean of the training images stored in
  the checkpoint (the paper, section 4.2);
* pytorch_resnet_cifar10 (akamaster): ``Normalize(mean=[0.485, 0.456, 0.406],
  std=[0.229, 0.224, 0.225])`` on 32 x 32 images, as its ``trainer.py`` does;
* torchvision ImageNet weights: resize the shorter side (256, or what the weights' own
  ``transforms()`` say, e.g. 232 for ResNet50 V2), centre-crop 224, normalise.

The geometric part (resize the shorter side, centre crop) runs on ``uint8`` tensors, so the
same pixels are what the app shows and what the net gets before normalisation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from .images import DecodedImage

__all__ = ["Preprocess", "PreparedImage", "IMAGENET_MEAN", "IMAGENET_STD"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class Preprocess:
    """Resize, centre-crop and normalise images for one model."""

    size: int  # the square side the net takes (16, 32, 224 ...)
    resize: int | None = None  # the shorter side before the crop; None: straight to ``size``
    mean: tuple[float, ...] | None = None  # per-channel Normalize
    std: tuple[float, ...] | None = None
    pixel_mean: Tensor | None = field(default=None, repr=False)  # C x H x W, in [0, 1]
    description: str = ""

    @classmethod
    def per_pixel_mean(cls, mean: Tensor) -> Preprocess:
        """Ours: subtract the stored training mean (C x H x W in [0, 1])."""
        mean = mean.detach().float().cpu()
        side = int(mean.shape[-1])
        return cls(side, pixel_mean=mean, description=f"{side}x{side}, minus the per-pixel training mean")

    @classmethod
    def normalized(
        cls,
        size: int,
        *,
        resize: int | None = None,
        mean: tuple[float, ...] = IMAGENET_MEAN,
        std: tuple[float, ...] = IMAGENET_STD,
    ) -> Preprocess:
        """Per-channel ``Normalize(mean, std)``, after an optional resize and crop."""
        geometry = f"resize {resize}, centre-crop {size}" if resize else f"{size}x{size}"
        return cls(size, resize, tuple(mean), tuple(std), description=f"{geometry}, normalised (ImageNet mean/std)")

    @classmethod
    def unit(cls, size: int) -> Preprocess:
        """Only scale to [0, 1]: for weights that say nothing of how they were trained."""
        return cls(size, description=f"{size}x{size}, scaled to [0, 1] (no mean recorded)")

    # -- geometry ---------------------------------------------------------------------

    def geometry(self, images: Tensor) -> Tensor:
        """uint8 N x 3 x H x W -> uint8 N x 3 x size x size: shorter side, then centre crop."""
        from torchvision.transforms.v2 import functional as TF

        h, w = images.shape[-2:]
        short = self.resize or self.size
        if min(h, w) != short:
            images = TF.resize(images, [short], antialias=True)
        if tuple(images.shape[-2:]) != (self.size, self.size):
            images = TF.center_crop(images, [self.size, self.size])
        return images

    def normalise(self, images: Tensor) -> Tensor:
        """uint8 N x 3 x size x size (after :meth:`geometry`) -> the float input of the net."""
        x = images.float().div_(255.0)
        if self.pixel_mean is not None:
            x = x.sub_(self.pixel_mean.to(x.device))
        if self.mean is not None:
            mean = torch.tensor(self.mean, device=x.device).view(1, -1, 1, 1)
            std = torch.tensor(self.std, device=x.device).view(1, -1, 1, 1)
            x = x.sub_(mean).div_(std)
        return x

    def batch(self, images: Tensor) -> Tensor:
        """A data set's uint8 N x 3 x H x W batch as the net's float input."""
        return self.normalise(self.geometry(images))

    def prepare(self, image: DecodedImage | np.ndarray) -> PreparedImage:
        """One image as the net's 1 x 3 x size x size input and as it sees it (uint8)."""
        if not isinstance(image, DecodedImage):
            image = DecodedImage.from_array(image)
        t = torch.from_numpy(np.array(image.rgb, dtype=np.uint8, order="C")).permute(2, 0, 1).unsqueeze(0)
        seen = self.geometry(t)
        display = seen[0].permute(1, 2, 0).contiguous().numpy()
        return PreparedImage(self.normalise(seen), display, image, f"{image.digest}:{self.key}")

    @property
    def key(self) -> str:
        """What distinguishes two recipes (the preprocessing's part of cache keys)."""
        pm = None if self.pixel_mean is None else round(float(self.pixel_mean.double().sum()), 6)
        return f"{self.size}/{self.resize}/{self.mean}/{self.std}/{pm}"

    def to_dict(self) -> dict:
        """JSON-friendly summary (the per-pixel mean is summarised, not listed)."""
        return {
            "size": self.size,
            "resize": self.resize,
            "mean": self.mean,
            "std": self.std,
            "per_pixel_mean": self.pixel_mean is not None,
            "description": self.description,
        }


@dataclass
class PreparedImage:
    """An image ready for one model: its input tensor and the pixels the net sees."""

    tensor: Tensor  # 1 x 3 x size x size float
    display: np.ndarray  # size x size x 3 uint8, before normalisation
    source: DecodedImage
    digest: str  # image pixels + preprocessing: the image's part of cache keys
