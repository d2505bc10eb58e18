"""Which test images ``--limit N`` means: a fixed, seeded, class-stratified subset (issue #9).

A folder lists its test images class by class, so the first 1,000 of CIFAR-10 are 1,000
airplanes, and ``--limit 100`` gave 32 % error where the whole set gives 18.97 %. The
subset instead gives every class its share of ``N`` (largest remainder, exact integer
arithmetic), and within a class takes the images that rank first under a fixed hash of
their index: the same images on every machine, in every run and every numpy or torch
version (no random generator whose stream could change), and no image twice.

Imports torch only inside functions: the app's lesion chart describes counts before torch loads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from torch import Tensor

__all__ = ["SUBSET_SEED", "stratified_subset", "limit_indices", "class_counts", "describe_class_counts"]

#: The seed of the subset's hash; fixed, so a limit means the same images everywhere.
SUBSET_SEED = 0


def _rank_keys(n: int, seed: int) -> np.ndarray:
    """splitmix64 of each index: a fixed pseudo-random order of ``range(n)`` (Steele et al. 2014)."""
    with np.errstate(over="ignore"):
        z = np.arange(n, dtype=np.uint64) + np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def _shares(counts: list[int], limit: int) -> list[int]:
    """``limit`` split over classes in proportion to ``counts`` (Hamilton's largest remainder)."""
    total = sum(counts)
    shares = [limit * c // total for c in counts]
    left = limit - sum(shares)
    # The largest remainders first; among equal ones, the lower class index.
    order = sorted(range(len(counts)), key=lambda k: (-(limit * counts[k] % total), k))
    for k in order[:left]:
        shares[k] += 1
    return shares


def stratified_subset(labels: Tensor, limit: int | None, *, seed: int = SUBSET_SEED) -> Tensor | None:
    """The indices (ascending) of ``limit`` images, each class by its share; None for all of them."""
    n = int(labels.shape[0])
    if limit is None or int(limit) >= n:
        return None
    limit = int(limit)
    y = labels.detach().cpu().numpy().astype(np.int64)
    keys = _rank_keys(n, seed)
    present = np.unique(y)
    members = [np.flatnonzero(y == c) for c in present]
    chosen = []
    for idx, share in zip(members, _shares([len(m) for m in members], limit), strict=True):
        if share:
            chosen.append(idx[np.argsort(keys[idx], kind="stable")[:share]])
    import torch

    picked = np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)
    return torch.from_numpy(picked)


def limit_indices(labels: Tensor, limit: int | None) -> np.ndarray:
    """The image indices ``--limit`` means for a split with ``labels``: all of them, or the
    stratified subset; one rule for eval, lesion, features and landscapes alike."""
    from ..errors import ConfigError

    n = int(labels.shape[0])
    if n < 1 or (limit is not None and int(limit) < 1):
        raise ConfigError("no images to look at (the split is empty or the limit is 0)")
    picked = stratified_subset(labels, limit)
    return np.arange(n, dtype=np.int64) if picked is None else picked.numpy().astype(np.int64)


def class_counts(labels: Tensor, classes: list[str] | None = None) -> dict[str, int]:
    """How many of ``labels`` fall in each class, by class name (or index), every class listed."""
    import torch

    n_classes = max(len(classes or []), int(labels.max()) + 1 if labels.numel() else 0)
    counts = torch.bincount(labels.detach().cpu().long(), minlength=n_classes).tolist()
    names = [classes[k] if classes and k < len(classes) else str(k) for k in range(n_classes)]
    return {name: int(c) for name, c in zip(names, counts, strict=True)}


def describe_class_counts(counts: dict[str, int], *, max_listed: int = 12, short: bool = False) -> str:
    """One line for people: ``10 of each of the 10 classes``, or each class's count.

    ``short`` (a chart title): ``10 per class`` or ``9 to 11 per class``.
    """
    values = list(counts.values())
    if not values:
        return "no classes"
    if short:
        lo, hi = min(values), max(values)
        return f"{lo:,} per class" if lo == hi else f"{lo:,} to {hi:,} per class"
    if len(set(values)) == 1:
        return f"{values[0]:,} of each of the {len(values)} classes"
    if len(values) <= max_listed:
        return "per class: " + ", ".join(f"{name} {c:,}" for name, c in counts.items())
    return f"{min(values):,} to {max(values):,} of each of the {len(values)} classes"
