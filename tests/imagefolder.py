"""A small ImageFolder of generated JPEGs of mixed sizes, for the streaming pipeline's tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

#: (width, height) in turn: landscape, portrait and square images, as ImageNet has.
SIZES = ((64, 48), (44, 60), (52, 52))


def make_image_folder(
    root: Path, classes: int = 4, train_per_class: int = 6, test_per_class: int = 2, seed: int = 0
) -> Path:
    """``root/{train,test}/cNN/iNNN.jpg``; each class has its own mean colour (so it is learnable)."""
    rng = np.random.default_rng(seed)
    k = 0
    for split, per_class in (("train", train_per_class), ("test", test_per_class)):
        for c in range(classes):
            folder = root / split / f"c{c:02d}"
            folder.mkdir(parents=True, exist_ok=True)
            base = np.array([(c * 60) % 256, (c * 110 + 40) % 256, (255 - c * 50) % 256])
            for i in range(per_class):
                w, h = SIZES[k % len(SIZES)]
                k += 1
                noise = rng.integers(-40, 41, size=(h, w, 3))
                pixels = np.clip(base + noise, 0, 255).astype(np.uint8)
                Image.fromarray(pixels).save(folder / f"i{i:03d}.jpg", quality=90)
    return root
