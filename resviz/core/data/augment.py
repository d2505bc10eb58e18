"""Batch preprocessing on the training device: mean subtraction, pad-and-crop, flips.

The paper's recipe (section 4.2) as tensor ops over a whole uint8 batch, so nothing runs
per image in Python and, on a GPU, nothing crosses to the host: random offsets and flip
masks are drawn with a generator that lives on the same device as the images.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .base import Augment, ImageSet

__all__ = ["normalise", "augment_batch", "lighting", "BatchStream", "eval_batches"]


def normalise(images: Tensor, mean: Tensor) -> Tensor:
    """uint8 N x C x H x W -> float in [0, 1] minus the per-pixel training mean."""
    return images.float().div_(255.0).sub_(mean)


def augment_batch(x: Tensor, augment: Augment, generator: torch.Generator | None = None) -> Tensor:
    """Pad ``augment.pad`` zeros per side, crop back at a random offset, maybe flip.

    ``x`` is a float batch already normalised, so the zero padding is the mean colour,
    as in the paper. Labels are untouched: the batch keeps its order.
    """
    n, c, h, w = x.shape
    p = augment.pad
    if p > 0:
        padded = F.pad(x, (p, p, p, p))
        offsets = torch.randint(0, 2 * p + 1, (2, n), device=x.device, generator=generator)
        # Two gathers (rows, then columns) with per-sample offsets: a crop at a random
        # position for every image at once, ~10x faster on a CPU than one advanced index.
        rows = (offsets[0, :, None] + torch.arange(h, device=x.device))[:, None, :, None]
        x = padded.gather(2, rows.expand(n, c, h, w + 2 * p))
        cols = (offsets[1, :, None] + torch.arange(w, device=x.device))[:, None, None, :]
        x = x.gather(3, cols.expand(n, c, h, w))
    if augment.flip:
        flip = torch.rand(n, device=x.device, generator=generator) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(3), x)
    if augment.lighting > 0:
        x = lighting(x, augment.lighting, generator)
    return x.contiguous()


def lighting(x: Tensor, std: float, generator: torch.Generator | None = None) -> Tensor:
    """AlexNet's PCA colour augmentation (the paper's section 3.4, [21]): every pixel of image
    i gets ``eigvec @ (alpha_i * eigval)`` added, ``alpha_i ~ N(0, std)`` per component
    (fb.resnet.torch's ``Lighting``; :mod:`.recipes` holds the ImageNet eigen-decomposition)."""
    from .recipes import PCA_EIGVAL, PCA_EIGVEC

    alpha = torch.randn(x.shape[0], 3, device=x.device, generator=generator) * std
    eigval = torch.tensor(PCA_EIGVAL, device=x.device)
    eigvec = torch.tensor(PCA_EIGVEC, device=x.device)
    rgb = (alpha * eigval) @ eigvec.T  # N x 3: row i is eigvec @ (alpha_i * eigval)
    return x + rgb.to(x.dtype)[:, :, None, None]


class BatchStream:
    """Endless random mini-batches from a split held on the training device.

    ``batch_size`` is the global batch; under data parallelism each of ``world_size`` ranks
    gets ``batch_size // world_size`` images of it.

    Each epoch is one random permutation; a partial last batch is dropped so every step
    sees ``batch_size`` images. The generator's state is all there is to checkpoint.
    """

    def __init__(
        self, data: ImageSet, batch_size: int, generator: torch.Generator, rank: int = 0, world_size: int = 1
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch size must be at least 1")
        self.data = data
        self.batch_size = min(batch_size, len(data))
        self.generator = generator
        # Data parallel: every rank draws the same permutation and takes its slice of each
        # global batch (DistributedSampler's semantics), so the order never depends on N.
        self.rank, self.world_size = rank, world_size
        self.rank_batch = self.batch_size // world_size
        self._order: Tensor | None = None
        self._pos = 0

    def __iter__(self) -> BatchStream:
        return self

    def __next__(self) -> tuple[Tensor, Tensor]:
        if self._order is None or self._pos + self.batch_size > len(self._order):
            self._order = torch.randperm(len(self.data), device=self.data.images.device, generator=self.generator)
            self._pos = 0
        start = self._pos + self.rank * self.rank_batch
        idx = self._order[start : start + self.rank_batch]
        self._pos += self.batch_size
        return self.data.images[idx], self.data.labels[idx]

    def state_dict(self) -> dict:
        """The epoch's order, the position in it, and the generator's state."""
        return {
            "order": None if self._order is None else self._order.cpu(),
            "pos": self._pos,
            "generator": self.generator.get_state(),
        }

    def load_state_dict(self, state: dict) -> None:
        order = state.get("order")
        self._order = None if order is None else order.to(self.data.images.device)
        self._pos = int(state.get("pos", 0))
        if state.get("generator") is not None:
            self.generator.set_state(state["generator"])


def eval_batches(data: ImageSet, batch_size: int = 500):
    """The split in order, in chunks: (uint8 images, labels) pairs for evaluation (a streamed
    split, :class:`~resviz.core.data.streamset.StreamSplit`, decodes its own)."""
    if hasattr(data, "eval_batches"):
        yield from data.eval_batches(batch_size)
        return
    for i in range(0, len(data), batch_size):
        yield data.images[i : i + batch_size], data.labels[i : i + batch_size]
