"""A folder of images in ImageFolder layout: ``train/<class>/*`` and ``test/<class>/*``.

Images are decoded once, resized to ``size`` x ``size`` RGB, and kept as one uint8 tensor;
the decoded tensors are also cached on disk (keyed by every file's path, size and mtime),
so the next launch skips decoding altogether. Unreadable images are **skipped and
counted**: the count and the first names land in :attr:`DataSet.notes`.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from ..errors import DataError
from ..paths import cache_dir
from .base import Augment, DataSet, ImageSet

__all__ = ["load_folder", "IMAGE_EXTENSIONS"]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp", ".gif")
_CACHE_VERSION = 1


def _list_split(split_dir: Path) -> dict[str, list[os.DirEntry]]:
    classes: dict[str, list[os.DirEntry]] = {}
    for entry in sorted(os.scandir(split_dir), key=lambda e: e.name):
        if entry.is_dir() and not entry.name.startswith("."):
            files = [
                f
                for f in os.scandir(entry.path)
                if f.is_file() and f.name.lower().endswith(IMAGE_EXTENSIONS)
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
        with Image.open(path) as im:
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
    # Pillow releases the GIL while decoding, so threads decode in parallel.
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
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


def _cache_key(root: Path, listing: dict[str, dict[str, list[os.DirEntry]]], size: int) -> str:
    h = hashlib.sha256(f"{_CACHE_VERSION}|{root.resolve()}|{size}".encode())
    for split, classes in listing.items():
        for name, files in classes.items():
            for f in files:
                st = f.stat()
                h.update(f"{split}/{name}/{f.name}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:32]


def load_folder(root: str | Path, size: int = 32, use_cache: bool = True) -> DataSet:
    """The images under ``root/train`` and ``root/test`` as a :class:`DataSet`."""
    root = Path(root).expanduser()
    if not root.exists():
        raise DataError(f"data folder {root} does not exist")
    if not root.is_dir():
        raise DataError(f"{root} is a file, not a folder with train/ and test/ subfolders")
    for split in ("train", "test"):
        if not (root / split).is_dir():
            raise DataError(
                f"{root / split} is missing: a data folder needs train/ and test/ subfolders, "
                "each with one subfolder of images per class"
            )
    listing = {split: _list_split(root / split) for split in ("train", "test")}
    train_classes, test_classes = list(listing["train"]), list(listing["test"])
    if train_classes != test_classes:
        only_train = sorted(set(train_classes) - set(test_classes))
        only_test = sorted(set(test_classes) - set(train_classes))
        raise DataError(
            f"train/ and test/ under {root} have different classes "
            f"(only in train: {only_train or 'none'}; only in test: {only_test or 'none'})"
        )
    cache_file = cache_dir() / "folders" / f"{_cache_key(root, listing, size)}.pt"
    if use_cache and cache_file.is_file():
        try:
            blob = torch.load(cache_file, weights_only=True)
            return _assemble(root, train_classes, blob)
        except Exception:
            pass  # a stale or broken cache is rebuilt below
    blob: dict = {}
    for split in ("train", "test"):
        images, skipped = _decode_split(root, train_classes, listing[split], size)
        blob[split] = {"images": images.images, "labels": images.labels, "skipped": skipped}
    if use_cache:
        _write_cache(cache_file, blob)
    return _assemble(root, train_classes, blob)


def _write_cache(path: Path, blob: dict) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        torch.save(blob, tmp)
        os.replace(tmp, path)
    except OSError:
        pass  # an unwritable cache only costs decoding again next time


def _assemble(root: Path, classes: list[str], blob: dict) -> DataSet:
    notes = []
    skipped = blob["train"]["skipped"] + blob["test"]["skipped"]
    if skipped:
        shown = ", ".join(skipped[:3]) + (" ..." if len(skipped) > 3 else "")
        notes.append(f"skipped {len(skipped)} unreadable image(s): {shown}")
    return DataSet(
        root.name or str(root),
        ImageSet(blob["train"]["images"], blob["train"]["labels"]),
        ImageSet(blob["test"]["images"], blob["test"]["labels"]),
        classes,
        augment=Augment(pad=4, flip=True),
        notes=notes,
    )
