"""A folder of images in ImageFolder layout: ``train/<class>/*`` and ``test/<class>/*``.

Images are decoded once, resized to ``size`` x ``size`` RGB, and kept as one uint8 tensor;
the decoded tensors are also cached on disk, one file per split (keyed by every file's
path, size and mtime), so the next launch skips decoding altogether. Only the splits asked
for are read: ``resviz eval`` and ``lesion`` need the test split alone, and decoding (or
loading from cache) the 50,000 training images of CIFAR-10 to read its 10,000 test images
took most of their time (issue #9). The per-pixel training mean, which a bare state dict
needs, has its own small cache entry, so it is decoded at most once.

Only the formats of :data:`~resviz.core.inputs.IMAGE_FORMATS` are opened (Pillow's rarely
used decoders have a history of bombs and bugs), and an image that claims more pixels than
Pillow's bomb limit is skipped. Unreadable images are **skipped and counted**: the count and
the first names land in :attr:`DataSet.notes`.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from ..cores import usable_cores
from ..errors import DataError
from ..inputs import IMAGE_FORMATS, what_it_is, why_unreadable
from ..paths import cache_dir
from .base import Augment, DataSet, ImageSet

__all__ = ["load_folder", "IMAGE_EXTENSIONS", "SPLITS"]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp", ".gif")
SPLITS = ("train", "test")
_CACHE_VERSION = 2  # 2: one file per split, and the training mean on its own


def _scandir(folder: str | Path) -> list[os.DirEntry]:
    """The entries of a split or class folder, or one line saying why it cannot be read."""
    try:
        with os.scandir(folder) as it:
            return sorted(it, key=lambda e: e.name)
    except OSError as exc:  # unreadable, a link loop, vanished (issue #17: a traceback before)
        raise DataError(f"the data folder's {why_unreadable(folder, exc)}") from None


def _is(entry: os.DirEntry, kind: str, unreadable: list[str]) -> bool:
    """``entry.is_dir()`` / ``is_file()``; an entry that cannot be looked at (a symbolic link
    loop: ELOOP) is skipped and its path counted in ``unreadable``."""
    try:
        return entry.is_dir() if kind == "dir" else entry.is_file()
    except OSError:
        unreadable.append(entry.path)
        return False


def _list_split(split_dir: Path, unreadable: list[str] | None = None) -> dict[str, list[os.DirEntry]]:
    unreadable = [] if unreadable is None else unreadable
    classes: dict[str, list[os.DirEntry]] = {}
    for entry in _scandir(split_dir):
        if not entry.name.startswith(".") and _is(entry, "dir", unreadable):
            files = [
                f
                for f in _scandir(entry.path)
                if f.name.lower().endswith(IMAGE_EXTENSIONS) and _is(f, "file", unreadable)
            ]
            if not files:
                raise DataError(f"class folder {entry.path} holds no images")
            classes[entry.name] = sorted(files, key=lambda f: f.name)
    if not classes:
        raise DataError(f"{split_dir} holds no class subfolders")
    return classes


def _decode(path: str, size: int) -> np.ndarray | None:
    from PIL import Image

    try:
        with Image.open(path, formats=IMAGE_FORMATS) as im:
            w, h = im.size
            if w * h > Image.MAX_IMAGE_PIXELS:  # a decompression bomb: Pillow only warns up to 2x
                return None
            im = im.convert("RGB")
            if im.size != (size, size):
                im = im.resize((size, size), Image.BILINEAR)
            return np.asarray(im, dtype=np.uint8)
    except Exception:  # PIL raises many types for broken files; all mean "unreadable"
        return None


def _decode_split(
    root: Path, classes: list[str], files: dict[str, list[os.DirEntry]], size: int
) -> tuple[ImageSet, list[str]]:
    paths, labels = [], []
    for label, name in enumerate(classes):
        for f in files[name]:
            paths.append(f.path)
            labels.append(label)
    # Pillow releases the GIL while decoding, so threads decode in parallel. Its bomb
    # warning (between 1x and 2x the pixel limit) is an error while they run: the image is
    # skipped and counted, rather than decoded with a warning on the terminal.
    with warnings.catch_warnings():
        from PIL import Image

        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with ThreadPoolExecutor(max_workers=min(8, usable_cores())) as pool:
            arrays = list(pool.map(lambda p: _decode(p, size), paths, chunksize=256))
    keep = [i for i, a in enumerate(arrays) if a is not None]
    skipped = [os.path.relpath(paths[i], root) for i, a in enumerate(arrays) if a is None]
    if not keep:
        raise DataError(f"none of the {len(paths)} images under {root} could be read")
    images = torch.from_numpy(np.stack([arrays[i] for i in keep])).permute(0, 3, 1, 2).contiguous()
    kept_labels = torch.tensor([labels[i] for i in keep], dtype=torch.int64)
    missing = sorted(set(range(len(classes))) - set(kept_labels.tolist()))
    if missing:
        raise DataError(f"no readable image in class folder(s) {', '.join(classes[m] for m in missing)}")
    return ImageSet(images, kept_labels), skipped


def _cache_key(root: Path, split: str, classes: dict[str, list[os.DirEntry]], size: int) -> str:
    h = hashlib.sha256(f"{_CACHE_VERSION}|{root.resolve()}|{size}|{split}".encode())
    for name, files in classes.items():
        for f in files:
            st = f.stat()
            h.update(f"{name}/{f.name}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:32]


def _class_names(split_dir: Path) -> list[str]:
    """The class subfolders of a split, by name (no file listed yet)."""
    return [e.name for e in _scandir(split_dir) if not e.name.startswith(".") and _is(e, "dir", [])]


def load_folder(
    root: str | Path, size: int = 32, use_cache: bool = True, *, splits: tuple[str, ...] = SPLITS, mean: bool = True
) -> DataSet:
    """The images under ``root/train`` and ``root/test`` as a :class:`DataSet`.

    ``splits`` names the splits to read; one left out is an empty :class:`ImageSet`.
    ``mean`` asks for the training mean even when the train split is not read (from its
    cache entry, else by decoding the train split once); without it, and without the train
    split, :attr:`DataSet.mean` is None.
    """
    root = Path(root).expanduser()
    try:
        os.stat(root)
    except OSError as exc:  # missing, a link loop, unreadable: each in its own words
        raise DataError(f"data folder {why_unreadable(root, exc)}") from None
    if not root.is_dir():
        kind = what_it_is(os.stat(root).st_mode)
        raise DataError(f"{root} is {kind}, not a folder with train/ and test/ subfolders")
    unknown = [s for s in splits if s not in SPLITS]
    if unknown or not splits:
        raise ValueError(f"splits must be some of {SPLITS}, not {splits}")
    for split in SPLITS:
        if not (root / split).is_dir():
            raise DataError(
                f"{root / split} is missing: a data folder needs train/ and test/ subfolders, "
                "each with one subfolder of images per class"
            )
    wanted = [s for s in SPLITS if s in splits or (s == "train" and mean)]
    unreadable: list[str] = []  # entries that cannot be looked at (link loops): skipped and counted
    listing = {split: _list_split(root / split, unreadable) for split in wanted}
    train_classes, test_classes = (list(listing[s]) if s in listing else _class_names(root / s) for s in SPLITS)
    if train_classes != test_classes:
        only_train = sorted(set(train_classes) - set(test_classes))
        only_test = sorted(set(test_classes) - set(train_classes))
        raise DataError(
            f"train/ and test/ under {root} have different classes "
            f"(only in train: {only_train or 'none'}; only in test: {only_test or 'none'})"
        )
    keys = {split: _cache_key(root, split, listing[split], size) for split in wanted}
    folder_cache = cache_dir() / "folders"
    train_mean = None
    if "train" in wanted:
        cached = _read_cache(folder_cache / f"{keys['train']}.mean.pt", use_cache)
        train_mean = cached.get("mean") if cached is not None else None
        if not isinstance(train_mean, torch.Tensor):
            train_mean = None
            splits = tuple(dict.fromkeys((*splits, "train")))  # no mean cached: read the train split this once
    blob: dict = {}
    for split in (s for s in SPLITS if s in splits):
        blob[split] = _read_cache(folder_cache / f"{keys[split]}.pt", use_cache)
        if blob[split] is None:
            images, skipped = _decode_split(root, train_classes, listing[split], size)
            blob[split] = {"images": images.images, "labels": images.labels, "skipped": skipped}
            if use_cache:
                _write_cache(folder_cache / f"{keys[split]}.pt", blob[split])
        if split == "train" and train_mean is None:
            train_mean = _training_mean(blob[split]["images"])
            if use_cache:
                _write_cache(folder_cache / f"{keys[split]}.mean.pt", {"mean": train_mean})
    dataset = _assemble(root, train_classes, blob, train_mean, size)
    if unreadable:
        shown = ", ".join(unreadable[:3]) + (" ..." if len(unreadable) > 3 else "")
        dataset.notes.append(f"skipped {len(unreadable)} entr(ies) that cannot be read (link loops?): {shown}")
    return dataset


def _training_mean(images: torch.Tensor) -> torch.Tensor:
    """The per-pixel mean of the training images in [0, 1] (the paper, section 4.2)."""
    return images.float().mean(dim=0).div_(255.0)


def _read_cache(path: Path, use_cache: bool) -> dict | None:
    if not use_cache or not path.is_file():
        return None
    try:
        blob = torch.load(path, weights_only=True)
        return blob if isinstance(blob, dict) else None
    except Exception:
        return None  # a stale or broken cache is rebuilt


def _write_cache(path: Path, blob: dict) -> None:
    from ..write_errors import discard, is_torch_short_write

    tmp = path.with_suffix(f".tmp{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(blob, tmp)
        os.replace(tmp, path)
    except OSError:
        pass  # an unwritable cache only costs decoding again next time
    except RuntimeError as exc:
        if not is_torch_short_write(exc):  # a full disk inside torch's zip writer (issue #17)
            raise
    finally:
        discard(tmp)


def _assemble(root: Path, classes: list[str], blob: dict, mean: torch.Tensor | None, size: int) -> DataSet:
    notes = []
    skipped = [name for split in SPLITS if split in blob for name in blob[split]["skipped"]]
    if skipped:
        shown = ", ".join(skipped[:3]) + (" ..." if len(skipped) > 3 else "")
        notes.append(f"skipped {len(skipped)} unreadable image(s): {shown}")
    splits = {}
    for split in SPLITS:
        if split in blob:
            splits[split] = ImageSet(blob[split]["images"], blob[split]["labels"])
        else:
            splits[split] = ImageSet(
                torch.zeros(0, 3, size, size, dtype=torch.uint8), torch.zeros(0, dtype=torch.int64)
            )
    return DataSet(
        root.name or str(root),
        splits["train"],
        splits["test"],
        classes,
        augment=Augment(pad=4, flip=True),
        notes=notes,
        mean=mean,
    )
