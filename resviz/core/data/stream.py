"""The streaming image pipeline: images decoded per batch in DataLoader worker processes.

For a split too large to hold decoded (ImageNet's 1.28 million images are ~190 GB at
224 x 224; :mod:`.folder` keeps whole splits as one uint8 tensor), and for the paper's
ImageNet recipe, whose scale augmentation needs each full image (:mod:`.recipes`). Only the
file paths (one numpy bytes array, so forked workers share it without copy-on-write) and
labels stay in memory; the workers decode, resize, crop and flip each image of a batch.

The batch order is resviz's rule (:class:`~resviz.core.data.augment.BatchStream`,
:mod:`resviz.core.train.distributed`): one seeded permutation per epoch shared by every
rank, a partial last batch dropped, and each rank takes its ``batch / world_size`` slice of
every global batch. :class:`SharedBatchOrder` draws exactly BatchStream's permutations (a
CPU generator with the run's seed), and its state is BatchStream's (order, position,
generator), so a checkpoint resumes under any number of processes, mid-epoch, without
repeating or skipping an image. The augmentation of each image is drawn from a seed of
(run seed, epoch, position in the epoch), never from a worker's state: the same crops
whatever the number of workers or ranks, and after a resume.

The DataLoader runs ahead of training (``prefetch_factor`` batches per worker), so the
state saved is that of the last batch *handed to training*, not the last one dispatched:
each dispatched batch's state waits in a queue until its images come back, in order.

Unreadable images are skipped and counted (:attr:`StreamBatches.skipped`), as the
in-memory loader does: the batch they were in is that much smaller.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator

import numpy as np
import torch

from ..errors import DataError
from ..inputs import IMAGE_FORMATS
from .recipes import FixedSizeRecipe, ImageNetRecipe

__all__ = ["SharedBatchOrder", "StreamBatches", "FolderItems", "collate_items", "decode_item", "default_workers"]


def default_workers() -> int:
    """DataLoader workers when ``--workers`` is not given: the cores this process may use,
    less one for the training loop, at most 8 (beyond that PIL decoding rarely pays on one node)."""
    from ..cores import usable_cores

    return max(0, min(8, usable_cores() - 1))


def decode_item(path: str, recipe: ImageNetRecipe | FixedSizeRecipe, seed: tuple[int, ...] | None) -> np.ndarray | None:
    """One image as uint8 H x W x 3 at ``recipe.crop``: the random training crop when ``seed``
    is given (scale augmentation, crop, flip; :meth:`ImageNetRecipe.train_geometry`), else
    the centre test crop. None for an unreadable image or one over Pillow's pixel limit."""
    from PIL import Image

    try:
        with Image.open(path, formats=IMAGE_FORMATS) as im:
            w, h = im.size
            if w * h > Image.MAX_IMAGE_PIXELS:  # a decompression bomb (folder.py's rule)
                return None
            if seed is not None:
                size, (left, top), flip = recipe.train_geometry(w, h, np.random.default_rng(seed))
            else:
                size, (left, top) = recipe.test_geometry(w, h)
                flip = False
            im = im.convert("RGB").resize(size, Image.BILINEAR)
            im = im.crop((left, top, left + recipe.crop, top + recipe.crop))
            if flip:
                im = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            return np.array(im, dtype=np.uint8)  # a writable copy: torch.from_numpy needs one
    except Exception:  # PIL raises many types for broken files; all mean "unreadable"
        return None


class FolderItems(torch.utils.data.Dataset):
    """Images by index, decoded in the worker that asks: an item is ``index`` (the test crop)
    or ``(index, seed, epoch, position)`` (the training crop drawn from that seed)."""

    def __init__(self, paths: np.ndarray, labels: np.ndarray, recipe: ImageNetRecipe | FixedSizeRecipe) -> None:
        self.paths, self.labels, self.recipe = paths, labels, recipe

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, item):
        index, seed = (item, None) if isinstance(item, (int, np.integer)) else (item[0], tuple(item[1:]))
        path = os.fsdecode(self.paths[index])
        array = decode_item(path, self.recipe, seed)
        return (None if array is None else torch.from_numpy(array).permute(2, 0, 1)), int(self.labels[index]), index


def collate_items(items: list) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
    """(uint8 images N x C x H x W, labels, dataset indices, how many were unreadable)."""
    kept = [it for it in items if it[0] is not None]
    if kept:
        images = torch.stack([it[0] for it in kept])
    else:
        images = torch.zeros(0, dtype=torch.uint8)
    labels = torch.tensor([it[1] for it in kept], dtype=torch.int64)
    indices = torch.tensor([it[2] for it in kept], dtype=torch.int64)
    return images, labels, indices, len(items) - len(kept)


class SharedBatchOrder:
    """BatchStream's batch order over indices: one permutation per epoch from ``generator``,
    the partial last batch dropped, rank ``rank`` taking its slice of each global batch."""

    def __init__(self, n: int, batch_size: int, generator: torch.Generator, rank: int = 0, world_size: int = 1):
        if n < 1:
            raise DataError("the training split holds no images")
        if batch_size < 1:
            raise ValueError("batch size must be at least 1")
        self.n = n
        self.batch_size = min(batch_size, n)
        self.generator = generator
        self.rank, self.world_size = rank, world_size
        self.rank_batch = self.batch_size // world_size
        self._order: torch.Tensor | None = None
        self._pos = 0
        self._epoch = -1

    def next(self) -> tuple[torch.Tensor, int, int]:
        """This rank's indices of the next global batch, the epoch, and their first position in it."""
        if self._order is None or self._pos + self.batch_size > len(self._order):
            self._order = torch.randperm(self.n, generator=self.generator)
            self._pos = 0
            self._epoch += 1
        start = self._pos + self.rank * self.rank_batch
        self._pos += self.batch_size
        return self._order[start : start + self.rank_batch], self._epoch, start

    def state_dict(self) -> dict:
        """BatchStream's state (the epoch's order, the position, the generator) and the epoch."""
        return {"order": self._order, "pos": self._pos, "generator": self.generator.get_state(), "epoch": self._epoch}

    def load_state_dict(self, state: dict) -> None:
        order = state.get("order")
        self._order = None if order is None else order.cpu()
        self._pos = int(state.get("pos", 0))
        self._epoch = int(state.get("epoch", 0 if order is not None else -1))
        if state.get("generator") is not None:
            self.generator.set_state(state["generator"].cpu())


class StreamBatches:
    """Endless training batches of one rank, decoded by ``workers`` processes (0: in this one).

    Behaves as :class:`~resviz.core.data.augment.BatchStream` does for the trainer: ``next()``
    gives (uint8 images, labels) on ``device``; ``state_dict`` / ``load_state_dict`` hold
    where the order stands after the last batch handed out.
    """

    def __init__(
        self,
        items: FolderItems,
        batch_size: int,
        seed: int,
        *,
        rank: int = 0,
        world_size: int = 1,
        workers: int = 0,
        device: torch.device | str = "cpu",
    ) -> None:
        self.items, self.seed, self.workers = items, seed, workers
        self.device = torch.device(device)
        self.order = SharedBatchOrder(len(items), batch_size, torch.Generator().manual_seed(seed), rank, world_size)
        self.batch_size, self.rank_batch = self.order.batch_size, self.order.rank_batch
        self._handed = self.order.state_dict()
        self._pending: deque[dict] = deque()
        self._iter: Iterator | None = None
        #: Unreadable images skipped so far, and the dataset indices of the last batch.
        self.skipped = 0
        self.last_indices: torch.Tensor | None = None

    def _index_batches(self) -> Iterator[list]:
        while True:
            idx, epoch, start = self.order.next()
            self._pending.append(self.order.state_dict())
            yield [(int(i), self.seed, epoch, start + k) for k, i in enumerate(idx.tolist())]

    def _loader(self) -> Iterator:
        cuda = self.device.type == "cuda"
        loader = torch.utils.data.DataLoader(
            self.items,
            batch_sampler=self._index_batches(),
            num_workers=self.workers,
            collate_fn=collate_items,
            pin_memory=cuda,  # page-locked host batches, so the copy below is asynchronous
            prefetch_factor=4 if self.workers else None,
        )
        return iter(loader)

    def __iter__(self) -> StreamBatches:
        return self

    def __next__(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self._iter is None:
            self._pending.clear()
            self._iter = self._loader()
        while True:
            images, labels, indices, bad = next(self._iter)
            self._handed = self._pending.popleft()
            self.skipped += bad
            if len(labels):  # a batch of unreadable images only: the next one
                break
        self.last_indices = indices
        return images.to(self.device, non_blocking=True), labels.to(self.device, non_blocking=True)

    def state_dict(self) -> dict:
        return dict(self._handed)

    def load_state_dict(self, state: dict) -> None:
        self._handed = dict(state)
        self.close()

    def close(self) -> None:
        """Stop the workers and rewind the order to the last batch handed out (a later
        ``next`` starts them again from there: nothing dispatched ahead is lost or repeated)."""
        it, self._iter = self._iter, None
        # Now, not when the iterator is garbage-collected: a collection that comes later, in
        # the middle of other work, waited 5 s per worker of each forgotten stream (torch's
        # join timeout; 40-50 s seen in the tests). _shutdown_workers is what its __del__ calls.
        shutdown = getattr(it, "_shutdown_workers", None)
        if shutdown is not None:
            shutdown()
        self._pending.clear()
        self.order.load_state_dict(self._handed)
