"""Attribution results cached per (model state, image, method, level, target).

The model's part of the key is a fingerprint of its weights *and* its per-block switches,
so switching a shortcut off or loading other weights makes new keys (issue 5). Hashing
all weights takes ~0.1 s for ResNet-50; the digest is kept and recomputed only when some
tensor's storage or in-place version counter changed (an optimizer step bumps it).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

import numpy as np
import torch
from torch import nn

from ..models import ResNet

__all__ = ["ModelFingerprint", "weights_digest", "AttributionCache"]


def weights_digest(model: nn.Module) -> str:
    """A hash of every parameter and buffer (names, dtypes, shapes and values)."""
    h = hashlib.blake2b(digest_size=16)
    for name, t in model.state_dict().items():
        t = t.detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy())
    return h.hexdigest()


class ModelFingerprint:
    """The model state part of cache keys: weights digest plus switches."""

    def __init__(self, model: ResNet) -> None:
        self.model = model
        # The tensors are collected once (walking the modules costs ~0.1 ms a call, which
        # the attribution benchmark notices); load_state_dict and optimizer steps change
        # them in place, which bumps their version counters.
        self._tensors = list(model.state_dict(keep_vars=True).values())
        self._versions: tuple | None = None
        self._digest = ""

    def _tensor_versions(self) -> tuple:
        return tuple((t.data_ptr(), t._version) for t in self._tensors)

    def __call__(self) -> str:
        """The fingerprint now: changes with any weight and any switch."""
        versions = self._tensor_versions()
        if versions != self._versions:
            self._digest = weights_digest(self.model)
            self._versions = versions
        switches = "".join("1" if s else "0" for s in self.model.shortcuts())
        residuals = "".join("1" if r else "0" for r in self.model.residuals())
        return f"{self._digest}:{switches}:{residuals}"


class AttributionCache:
    """A thread-safe LRU of numpy results, bounded in bytes."""

    def __init__(self, max_bytes: int = 256 * 2**20) -> None:
        self.max_bytes = int(max_bytes)
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._sizes: dict[Hashable, int] = {}
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(model_state: str, image: str, method: str, level: str | None, target: int, **options: Any) -> tuple:
        """The cache key; ``options`` are the method's settings that change its result."""
        return (model_state, image, method, level, int(target), tuple(sorted(options.items())))

    def get(self, key: Hashable) -> Any | None:
        """The cached value (and mark it recently used), or None."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
            self.misses += 1
            return None

    def put(self, key: Hashable, value: Any) -> None:
        """Store ``value``; evicts the least recently used entries beyond ``max_bytes``."""
        size = _nbytes(value)
        with self._lock:
            if key in self._items:
                self._bytes -= self._sizes.pop(key)
                del self._items[key]
            self._items[key] = value
            self._sizes[key] = size
            self._bytes += size
            while self._bytes > self.max_bytes and len(self._items) > 1:
                old, _ = self._items.popitem(last=False)
                self._bytes -= self._sizes.pop(old)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._sizes.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)


def _nbytes(value: Any) -> int:
    if isinstance(value, np.ndarray) or isinstance(getattr(value, "nbytes", None), int):
        return int(value.nbytes)  # arrays, and results that say their size (features.TopActivations)
    return sum(int(getattr(v, "nbytes", 0)) for v in getattr(value, "__dict__", {}).values()) or 64
