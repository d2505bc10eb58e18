"""The 10-crop test of the paper's Table 2 ("we adopt the standard 10-crop testing [21]").

Each test image is resized to a shorter side of 256 (``ImageNetRecipe.at(size).test_resize``
for nets of another input size), and the net sees its four corner crops and its centre crop
and the same five of the mirrored image (:func:`~resviz.core.data.recipes.ten_crop_boxes`,
torchvision's TenCrop order); the prediction is the mean of the ten softmax outputs, as in
AlexNet [21]. Images are decoded per batch in DataLoader workers, straight from the folder,
so a split of any size is tested without being held in memory; unreadable ones are skipped
and counted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..data.recipes import ImageNetRecipe, ten_crop_boxes
from ..data.stream import default_workers
from ..inputs import IMAGE_FORMATS

__all__ = ["TenCropResult", "ten_crops", "ten_crop_error"]


@dataclass(frozen=True)
class TenCropResult:
    n_images: int
    wrong: int
    wrong5: int | None
    skipped: int

    @property
    def error(self) -> float:
        return 100.0 * self.wrong / max(self.n_images, 1)

    @property
    def top5_error(self) -> float | None:
        return None if self.wrong5 is None else 100.0 * self.wrong5 / max(self.n_images, 1)

    def to_dict(self) -> dict:
        return {
            "ten_crop": True,
            "n_images": self.n_images,
            "error": self.error,
            "wrong": self.wrong,
            "top5_error": self.top5_error,
            "wrong5": self.wrong5,
            "skipped": self.skipped,
        }


def ten_crops(image, recipe: ImageNetRecipe) -> np.ndarray:
    """A PIL image's ten crops as uint8 10 x H x W x 3 (the order of :func:`ten_crop_boxes`)."""
    from PIL import Image

    im = image.convert("RGB")
    im = im.resize(recipe.resized(*im.size, recipe.test_resize), Image.BILINEAR)
    c = recipe.crop
    out = []
    for left, top, flip in ten_crop_boxes(*im.size, c):
        crop = im.crop((left, top, left + c, top + c))
        if flip:
            crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        out.append(np.array(crop, dtype=np.uint8))
    return np.stack(out)


class _TenCropItems(torch.utils.data.Dataset):
    def __init__(self, paths: np.ndarray, labels: np.ndarray, recipe: ImageNetRecipe) -> None:
        self.paths, self.labels, self.recipe = paths, labels, recipe

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int):
        from PIL import Image

        try:
            with Image.open(os.fsdecode(self.paths[i]), formats=IMAGE_FORMATS) as im:
                if im.size[0] * im.size[1] > Image.MAX_IMAGE_PIXELS:
                    return None, int(self.labels[i])
                return torch.from_numpy(ten_crops(im, self.recipe)).permute(0, 3, 1, 2), int(self.labels[i])
        except Exception:  # unreadable: skipped and counted
            return None, int(self.labels[i])


def _collate(items):
    kept = [it for it in items if it[0] is not None]
    images = torch.stack([it[0] for it in kept]) if kept else torch.zeros(0, 10, 3, 1, 1, dtype=torch.uint8)
    return images, torch.tensor([it[1] for it in kept], dtype=torch.int64), len(items) - len(kept)


@torch.no_grad()
def ten_crop_error(
    model: torch.nn.Module,
    preprocess,
    folder: str | Path,
    *,
    split: str = "test",
    workers: int | None = None,
    batch_images: int = 25,
    device: torch.device | str = "cpu",
) -> TenCropResult:
    """Top-1 (and top-5) error of ``model`` on ``folder/split`` by 10-crop testing.

    ``preprocess`` (an inspector Preprocess) gives the input size and turns the uint8 crops
    into the net's input (per-pixel mean, or ImageNet's mean and std).
    """
    from ..data.streamset import _listing

    _, paths, labels = _listing(Path(folder).expanduser(), split, None)
    recipe = ImageNetRecipe.at(preprocess.size)
    loader = torch.utils.data.DataLoader(
        _TenCropItems(paths, labels, recipe),
        batch_size=batch_images,
        num_workers=default_workers() if workers is None else workers,
        collate_fn=_collate,
    )
    model.eval()
    n = wrong = wrong5 = skipped = 0
    top5 = None
    for images, y, bad in loader:
        skipped += bad
        if not len(y):
            continue
        b = len(y)
        x = preprocess.normalise(images.flatten(0, 1).to(device))
        probs = model(x).float().softmax(dim=1).view(b, 10, -1).mean(dim=1)  # the mean of ten softmaxes
        y = y.to(device)
        wrong += int((probs.argmax(dim=1) != y).sum())
        if probs.shape[1] > 5:
            top5 = True
            wrong5 += int((probs.topk(5, dim=1).indices != y[:, None]).all(dim=1).sum())
        n += b
    return TenCropResult(n, wrong, wrong5 if top5 else None, skipped)
