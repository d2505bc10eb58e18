"""torchvision's ImageNet ResNet weights by enum name (``ResNet50_Weights.DEFAULT``).

The file is looked for in the torch hub cache (``torch.hub.get_dir()/checkpoints``), where
torchvision itself keeps it, and downloaded there when allowed, by :mod:`resviz.core.download`
(SHA-256 checked against the prefix in the file's name, cached or downloaded). Offline and
uncached the message names the file, where to get it and the folder to put it in. Loading
uses ``weights_only=True``: a file from the internet never runs code.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..download import RemoteFile, fetch, hub_cache_dir
from ..errors import CheckpointError

__all__ = [
    "HubWeights",
    "is_weights_name",
    "resolve_weights",
    "hub_checkpoint_dir",
    "imagenet_categories",
    "fetch_weights",
    "remote_file",
]

_NAME = re.compile(r"^ResNet(\d+)_Weights(\.[A-Za-z0-9_]+)?$")
#: torch.hub.HASH_REGEX: ``resnet18-f37072fd.pth`` -> the first 8 hex digits of its SHA-256.
_HASH_IN_NAME = re.compile(r"-([a-f0-9]{8,64})\.")


def is_weights_name(text: str) -> bool:
    """True for ``ResNet50_Weights.DEFAULT`` and the like (not a file path)."""
    return bool(_NAME.match(str(text).strip())) and not Path(str(text)).exists()


def hub_checkpoint_dir() -> Path:
    """Where torch keeps downloaded weights: ``$TORCH_HOME/hub/checkpoints``."""
    return hub_cache_dir()


@dataclass(frozen=True)
class HubWeights:
    """A torchvision weights enum member, and what it says about inputs and classes."""

    name: str  # ResNet50_Weights.IMAGENET1K_V2
    depth: int
    url: str
    categories: tuple[str, ...]
    resize: int
    crop: int
    mean: tuple[float, ...]
    std: tuple[float, ...]

    @property
    def filename(self) -> str:
        return os.path.basename(self.url)


def resolve_weights(text: str) -> HubWeights:
    """The weights an enum name means (``.DEFAULT`` resolves to the current best)."""
    from torchvision.models import get_weight

    m = _NAME.match(str(text).strip())
    if not m:
        raise CheckpointError(f"{text!r} is not a torchvision ResNet weights name such as ResNet50_Weights.DEFAULT")
    name = text.strip() if m.group(2) else f"{text.strip()}.DEFAULT"
    try:
        weights = get_weight(name)
    except (ValueError, KeyError, AttributeError) as exc:
        raise CheckpointError(
            f"torchvision has no weights called {name}: ResNet18/34/50/101/152_Weights.DEFAULT "
            f"or .IMAGENET1K_V1/V2 ({exc})"
        ) from None
    t = weights.transforms()
    return HubWeights(
        name=str(weights),
        depth=int(m.group(1)),
        url=weights.url,
        categories=tuple(weights.meta["categories"]),
        resize=int(t.resize_size[0]),
        crop=int(t.crop_size[0]),
        mean=tuple(float(v) for v in t.mean),
        std=tuple(float(v) for v in t.std),
    )


def remote_file(weights: HubWeights) -> RemoteFile:
    """The file behind ``weights``: torchvision's file names carry the start of their SHA-256
    (``torch.hub.HASH_REGEX``), which :func:`~resviz.core.download.fetch` checks."""
    m = _HASH_IN_NAME.search(weights.filename)
    if m is None:  # every ResNet weight file torchvision publishes has one
        raise CheckpointError(f"{weights.filename} carries no hash in its name: resviz will not load it unverified")
    return RemoteFile(weights.url, weights.filename, m.group(1))


def fetch_weights(weights: HubWeights, *, download: bool = True, progress=None, cancel=None) -> Path:
    """The cached, verified weights file, downloaded first when allowed and missing."""
    return fetch(remote_file(weights), offline=not download, progress=progress, cancel=cancel)


def imagenet_categories() -> list[str]:
    """The 1,000 ImageNet class names torchvision ships with its weights' meta (offline)."""
    from torchvision.models import ResNet18_Weights

    return list(ResNet18_Weights.IMAGENET1K_V1.meta["categories"])
