"""torchvision's ImageNet ResNet weights by enum name (``ResNet50_Weights.DEFAULT``).

The file is looked for in the torch hub cache (``torch.hub.get_dir()/checkpoints``), where
torchvision itself keeps it, and downloaded there when allowed. Offline and uncached the
message names the file, where to get it and the folder to put it in. Loading uses
``weights_only=True``: a file from the internet never runs code.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import CheckpointError

__all__ = ["HubWeights", "is_weights_name", "resolve_weights", "hub_checkpoint_dir", "imagenet_categories"]

_NAME = re.compile(r"^ResNet(\d+)_Weights(\.[A-Za-z0-9_]+)?$")


def is_weights_name(text: str) -> bool:
    """True for ``ResNet50_Weights.DEFAULT`` and the like (not a file path)."""
    return bool(_NAME.match(str(text).strip())) and not Path(str(text)).exists()


def hub_checkpoint_dir() -> Path:
    """Where torch keeps downloaded weights: ``$TORCH_HOME/hub/checkpoints``."""
    import torch

    return Path(torch.hub.get_dir()) / "checkpoints"


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


def fetch_weights(weights: HubWeights, *, download: bool = True) -> Path:
    """The cached weights file, downloading it first when allowed and missing."""
    import torch

    folder = hub_checkpoint_dir()
    path = folder / weights.filename
    if path.is_file() and path.stat().st_size > 0:
        return path
    where = (
        f"download {weights.url} on a machine that is online and put it in {folder} (keep the name {weights.filename})"
    )
    if not download:
        raise CheckpointError(f"{weights.name} is not in the torch hub cache: {where}")
    tmp = folder / f".{weights.filename}.part{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # torchvision's file names carry the start of their sha256: check it, as
        # torch.hub.load_state_dict_from_url(check_hash=True) does.
        m = torch.hub.HASH_REGEX.search(weights.filename)
        torch.hub.download_url_to_file(weights.url, str(tmp), hash_prefix=m.group(1) if m else None, progress=False)
        os.replace(tmp, path)
    except Exception as exc:  # URLError, HTTPError, OSError, a hash mismatch ...
        reason = str(getattr(exc, "reason", None) or exc).splitlines()[0]
        raise CheckpointError(f"could not download {weights.name} ({reason}): {where}") from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def imagenet_categories() -> list[str]:
    """The 1,000 ImageNet class names torchvision ships with its weights' meta (offline)."""
    from torchvision.models import ResNet18_Weights

    return list(ResNet18_Weights.IMAGENET1K_V1.meta["categories"])
