"""An ImageFolder split that stays on disk, and the rule that decides when a folder streams.

:class:`StreamSplit` stands where an :class:`~resviz.core.data.base.ImageSet` stands in a
:class:`~resviz.core.data.base.DataSet` (``len``, ``labels``, ``images[...]``, ``to``), so
the trainer, its evaluation and the Fig. 7 probe take it as they are; but ``images[...]``
decodes the asked-for images (the test crop) when indexed, training batches come from
:meth:`StreamSplit.batch_stream` (:class:`~resviz.core.data.stream.StreamBatches`) and the
test error from :meth:`StreamSplit.eval_batches`, both through DataLoader workers.

When to stream (:func:`choose_stream`): the in-memory loader holds a split decoded
(``n x 3 x S x S`` bytes) and, while it stacks the decoded images, that much again; it is
used while the decoded train and test splits take at most :data:`MEMORY_FRACTION` of the
memory available now (``MemAvailable`` of /proc/meminfo), else the folder streams. The
ImageNet recipe always streams (its scale augmentation needs the full images).
"""

from __future__ import annotations

import copy
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import ConfigError, DataError
from ..paths import cache_dir
from .base import Augment, DataSet
from .recipes import LIGHTING_STD, FixedSizeRecipe, ImageNetRecipe
from .stream import FolderItems, StreamBatches, collate_items, default_workers

__all__ = [
    "MEMORY_FRACTION",
    "MEAN_IMAGES",
    "StreamChoice",
    "StreamSplit",
    "available_memory",
    "choose_stream",
    "load_stream_folder",
]

#: The share of available memory the decoded splits may take and still be held in memory
#: (a quarter: the loader briefly holds them twice, and training needs the rest).
MEMORY_FRACTION = 0.25
#: Training images (a seeded sample) whose centre crops give the per-pixel mean of a
#: streamed folder: decoding all 1.28 million ImageNet images for it would take hours.
MEAN_IMAGES = 1000


class _LazyImages:
    """``split.images``: shape and device as a tensor's; indexing decodes the test crops (for
    the trainer's warm-up batch and the Fig. 7 probe's fixed test batch: a few hundred images)."""

    def __init__(self, split: StreamSplit) -> None:
        self._split = split

    @property
    def shape(self) -> torch.Size:
        c = self._split.recipe.crop
        return torch.Size((len(self._split), 3, c, c))

    @property
    def device(self) -> torch.device:
        return self._split.device

    def __getitem__(self, index) -> torch.Tensor:
        idx = np.arange(len(self._split))[index.cpu().numpy() if isinstance(index, torch.Tensor) else index]
        c = self._split.recipe.crop
        out = torch.zeros(len(np.atleast_1d(idx)), 3, c, c, dtype=torch.uint8)
        for k, i in enumerate(np.atleast_1d(idx)):
            image = self._split.items[int(i)][0]
            if image is not None:  # an unreadable one stays black: these few images warm up or probe
                out[k] = image
        return out.to(self.device)


class StreamSplit:
    """One split of an image folder, decoded per batch (see the module's doc)."""

    def __init__(
        self,
        paths: np.ndarray,
        labels: np.ndarray,
        recipe: ImageNetRecipe | FixedSizeRecipe,
        *,
        workers: int | None = None,
        device: torch.device | str = "cpu",
    ) -> None:
        self.items = FolderItems(paths, labels, recipe)
        self.recipe = recipe
        self.workers = default_workers() if workers is None else workers
        self.device = torch.device(device)
        self.labels = torch.from_numpy(np.asarray(labels, dtype=np.int64)).to(self.device)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def images(self) -> _LazyImages:
        return _LazyImages(self)

    def to(self, device: torch.device | str) -> StreamSplit:
        moved = copy.copy(self)
        moved.device = torch.device(device)
        moved.labels = self.labels.to(moved.device)
        return moved

    def shard(self, rank: int, world_size: int) -> StreamSplit:
        """Every ``world_size``-th image from ``rank`` (DistContext.shard's rule, for the test error)."""
        part = copy.copy(self)
        part.items = FolderItems(self.items.paths[rank::world_size], self.items.labels[rank::world_size], self.recipe)
        part.labels = self.labels[rank::world_size]
        return part

    def batch_stream(self, batch_size: int, seed: int, rank: int = 0, world_size: int = 1) -> StreamBatches:
        """Endless training batches of ``rank`` (the recipe's random crops)."""
        return StreamBatches(
            self.items, batch_size, seed, rank=rank, world_size=world_size, workers=self.workers, device=self.device
        )

    def eval_batches(self, batch_size: int = 500):
        """The split in order, as test crops: (uint8 images, labels) on the split's device.
        Unreadable images are left out (and so count neither right nor wrong)."""
        loader = torch.utils.data.DataLoader(
            self.items,
            batch_size=batch_size,
            num_workers=self.workers,
            collate_fn=collate_items,
            pin_memory=self.device.type == "cuda",
        )
        for images, labels, _, _ in loader:
            if len(labels):
                yield images.to(self.device, non_blocking=True), labels.to(self.device, non_blocking=True)


@dataclass(frozen=True)
class StreamChoice:
    """Whether a folder streams, and the one line that says why."""

    stream: bool
    reason: str


def available_memory() -> int:
    """Bytes of memory available to a new allocation now (MemAvailable; else free pages)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 8 << 30  # unknown: assume a modest 8 GB


def choose_stream(
    images: int, size: int, *, stream: bool | None = None, recipe: str = "cifar", available: int | None = None
) -> StreamChoice:
    """In memory or streamed, for ``images`` images at ``size`` x ``size`` (see the module's doc)."""
    need = images * 3 * size * size
    avail = available_memory() if available is None else available
    budget = int(MEMORY_FRACTION * avail)
    measured = f"{images:,} images decoded at {size}x{size} take {need / 1e9:.2f} GB"
    room = f"{MEMORY_FRACTION:.0%} of the {avail / 1e9:.1f} GB available is {budget / 1e9:.2f} GB"
    if recipe == "imagenet":
        if stream is False:
            raise ConfigError(
                "the imagenet recipe's scale augmentation needs each full image, so it streams; "
                "drop --no-stream, or use --recipe cifar to hold fixed-size images in memory"
            )
        return StreamChoice(True, "streaming the folder: the imagenet recipe resizes each full image (section 3.4)")
    if stream is True:
        return StreamChoice(True, f"streaming the folder (--stream; {measured})")
    if stream is False:
        return StreamChoice(False, f"holding the folder in memory (--no-stream; {measured}, {room})")
    if need <= budget:
        return StreamChoice(False, f"holding the folder in memory: {measured}, within {room}")
    return StreamChoice(True, f"streaming the folder: {measured}, more than {room}")


def count_images(root: Path, splits: tuple[str, ...] = ("train", "test")) -> int:
    """Images under ``root/train`` and ``root/test`` (a listing; nothing is opened)."""
    from .folder import _list_split

    try:
        return sum(len(files) for split in splits for files in _list_split(Path(root) / split).values())
    except OSError:
        return 0  # a missing or unreadable folder: the loader says what is wrong with it


def _listing(root: Path, split: str, classes: list[str] | None) -> tuple[list[str], np.ndarray, np.ndarray]:
    from .folder import _list_split

    listing = _list_split(root / split)
    if classes is not None and list(listing) != classes:
        only_train = sorted(set(classes) - set(listing))
        only_test = sorted(set(listing) - set(classes))
        raise DataError(
            f"train/ and test/ under {root} have different classes "
            f"(only in train: {only_train or 'none'}; only in test: {only_test or 'none'})"
        )
    paths = [os.fsencode(f.path) for files in listing.values() for f in files]
    labels = [label for label, files in enumerate(listing.values()) for _ in files]
    # One fixed-width bytes array, not a list of str: forked workers read it without the
    # reference-count writes that copy a list's pages into every worker.
    return list(listing), np.array(paths, dtype=bytes), np.array(labels, dtype=np.int64)


def load_stream_folder(
    root: str | Path,
    size: int = 224,
    *,
    workers: int | None = None,
    recipe: str = "imagenet",
    use_cache: bool = True,
    notes: tuple[str, ...] = (),
) -> DataSet:
    """The folder as a streamed :class:`DataSet` with ``recipe`` at ``size``: ImageNet's
    (section 3.4, per image, PCA lighting on the batch), or CIFAR's (images resized to
    ``size`` x ``size`` as in memory, the pad-4 crop and flip on the batch).

    The per-pixel mean is that of the centre crops of :data:`MEAN_IMAGES` training images
    (a seeded sample), cached by the listing like :mod:`.folder`'s caches.
    """
    root = Path(root).expanduser()
    geometry = ImageNetRecipe.at(size) if recipe == "imagenet" else FixedSizeRecipe(size)
    classes, train_paths, train_labels = _listing(root, "train", None)
    _, test_paths, test_labels = _listing(root, "test", classes)
    train = StreamSplit(train_paths, train_labels, geometry, workers=workers)
    test = StreamSplit(test_paths, test_labels, geometry, workers=workers)
    mean = _stream_mean(root, train, use_cache)
    return DataSet(
        root.name or str(root),
        train,  # type: ignore[arg-type]  # an ImageSet in all the trainer asks of it
        test,  # type: ignore[arg-type]
        classes,
        augment=Augment(pad=0, flip=False, lighting=LIGHTING_STD)
        if recipe == "imagenet"
        else Augment(pad=4, flip=True),
        notes=list(notes),
        mean=mean,
    )


def _stream_mean(root: Path, train: StreamSplit, use_cache: bool) -> torch.Tensor:
    from .folder import _read_cache, _write_cache

    n = len(train)
    pick = np.sort(np.random.default_rng(0).permutation(n)[: min(MEAN_IMAGES, n)])
    # Keyed by the sampled files (their size and time) and the split's size, not by a stat
    # of every file: that takes minutes on ImageNet's 1.28 million.
    h = hashlib.sha256(f"stream-mean|1|{root.resolve()}|{train.recipe}|{n}".encode())
    for p in train.items.paths[pick]:
        st = os.stat(p)
        h.update(p + f"|{st.st_size}|{st.st_mtime_ns}\n".encode())
    path = cache_dir() / "folders" / f"{h.hexdigest()[:32]}.stream-mean.pt"
    cached = _read_cache(path, use_cache)
    if cached is not None and isinstance(cached.get("mean"), torch.Tensor):
        return cached["mean"]
    total = torch.zeros(train.images.shape[1:], dtype=torch.float64)
    count = 0
    sample = torch.utils.data.Subset(train.items, pick.tolist())
    loader = torch.utils.data.DataLoader(sample, batch_size=64, num_workers=train.workers, collate_fn=collate_items)
    for images, labels, _, _ in loader:
        total += images.double().sum(dim=0)
        count += len(labels)
    if not count:
        raise DataError(f"none of the {len(pick)} training images sampled under {root} could be read")
    mean = (total / count / 255.0).float()
    if use_cache:
        _write_cache(path, {"mean": mean})
    return mean
