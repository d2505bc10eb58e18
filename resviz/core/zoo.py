"""The zoo: trained ResNets anyone can fetch by name (issue #20).

Two families, both loaded exactly by :func:`resviz.core.inspect.load_model`:

- the paper's CIFAR-10 nets, ResNet-20 to ResNet-1202 (He et al. 2016, section 4.2, Table 6),
  as trained and published by Yerlan Idelbayev's pytorch_resnet_cifar10 (BSD-2-Clause;
  https://github.com/akamaster/pytorch_resnet_cifar10). Each file name carries the first
  8 hex digits of the file's SHA-256, which the download is checked against;
- torchvision's ImageNet ResNet-18 to ResNet-152, the weights ``ResNetNN_Weights.DEFAULT``
  resolves to (their file names carry a SHA-256 prefix too; torch.hub.HASH_REGEX).

Torch-free: ``resviz zoo`` lists it without importing torch. The published errors are
the projects' own (pytorch_resnet_cifar10's README table; torchvision's ``meta["_metrics"]``,
100 - acc@1); ``measured`` holds what ``resviz eval`` gives on the full test set, where it
was measured (this machine has no network, so none is yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .download import RemoteFile, cached_path, hub_cache_dir
from .errors import ConfigError

__all__ = ["ZooEntry", "ZOO", "zoo_entry", "is_zoo_name", "ZOO_PREFIX"]

#: ``--checkpoint zoo:resnet56-cifar10``.
ZOO_PREFIX = "zoo:"

_AKAMASTER = "https://github.com/akamaster/pytorch_resnet_cifar10/raw/master/pretrained_models/"
_TORCHVISION = "https://download.pytorch.org/models/"
_AKAMASTER_LICENCE = "BSD-2-Clause (Yerlan Idelbayev)"
_TORCHVISION_LICENCE = "BSD-3-Clause; ImageNet's terms apply to the weights"


@dataclass(frozen=True)
class ZooEntry:
    """One trained net: where it comes from, what it scores, and the file that holds it."""

    name: str  # resnet56-cifar10
    arch: str  # resnet56
    dataset: str  # CIFAR-10 or ImageNet
    published_error: float  # top-1 test error in %, as its publisher reports it
    size_mb: float  # the download, in MB (10^6 bytes; approximate for CIFAR, from the parameter count)
    file: RemoteFile
    source: str  # who trained and published it
    licence: str
    #: The torchvision weights enum whose transforms and class names go with the file.
    weights: str | None = None
    #: The top-1 test error ``resviz eval`` measured on the full test set; None: not measured.
    measured_error: float | None = None

    @property
    def family(self) -> str:
        return "imagenet" if self.dataset == "ImageNet" else "cifar"

    def cached(self, folder: Path | None = None) -> Path | None:
        """The file in torch's hub cache, if it is there (verified when loaded, not here)."""
        return cached_path(self.file, folder)


def _cifar(depth: int, prefix: str, error: float, params_m: float) -> ZooEntry:
    filename = f"resnet{depth}-{prefix}.th"
    return ZooEntry(
        name=f"resnet{depth}-cifar10",
        arch=f"resnet{depth}",
        dataset="CIFAR-10",
        published_error=error,
        size_mb=round(params_m * 4.0 + 0.05, 1),  # float32 weights; the file adds little
        file=RemoteFile(_AKAMASTER + filename, filename, prefix),
        source="pytorch_resnet_cifar10",
        licence=_AKAMASTER_LICENCE,
    )


def _imagenet(depth: int, filename: str, acc1: float, size_mb: float, weights: str) -> ZooEntry:
    return ZooEntry(
        name=f"resnet{depth}-imagenet",
        arch=f"resnet{depth}",
        dataset="ImageNet",
        published_error=round(100.0 - acc1, 3),
        size_mb=size_mb,
        file=RemoteFile(_TORCHVISION + filename, filename, filename.rsplit("-", 1)[1].split(".")[0]),
        source=f"torchvision {weights}",
        licence=_TORCHVISION_LICENCE,
        weights=weights,
    )


#: The zoo, in the order ``resviz zoo`` and the app list it. Errors: pytorch_resnet_cifar10's
#: README ("Test err(this impl.)"); torchvision 0.29's weights meta (acc@1, _file_size).
ZOO: dict[str, ZooEntry] = {
    e.name: e
    for e in (
        _cifar(20, "12fca82f", 8.27, 0.27),
        _cifar(32, "d509ac18", 7.37, 0.46),
        _cifar(44, "014dd654", 6.90, 0.66),
        _cifar(56, "4bfd9763", 6.61, 0.85),
        _cifar(110, "1d1ed7c2", 6.32, 1.7),
        _cifar(1202, "f3b1deed", 6.18, 19.4),
        _imagenet(18, "resnet18-f37072fd.pth", 69.758, 44.661, "ResNet18_Weights.IMAGENET1K_V1"),
        _imagenet(34, "resnet34-b627a593.pth", 73.314, 83.275, "ResNet34_Weights.IMAGENET1K_V1"),
        _imagenet(50, "resnet50-11ad3fa6.pth", 80.858, 97.79, "ResNet50_Weights.IMAGENET1K_V2"),
        _imagenet(101, "resnet101-cd907fc2.pth", 81.886, 170.53, "ResNet101_Weights.IMAGENET1K_V2"),
        _imagenet(152, "resnet152-f82ba261.pth", 82.284, 230.474, "ResNet152_Weights.IMAGENET1K_V2"),
    )
}


def is_zoo_name(text: object) -> bool:
    """True for ``zoo:resnet20-cifar10`` (any name: :func:`zoo_entry` says which exist)."""
    return isinstance(text, str) and text.strip().startswith(ZOO_PREFIX)


def zoo_entry(name: str) -> ZooEntry:
    """The entry called ``name`` (with or without ``zoo:``), or a ConfigError listing them."""
    key = name.strip().removeprefix(ZOO_PREFIX).strip().lower()
    entry = ZOO.get(key)
    if entry is None:
        raise ConfigError(f"the zoo has no net called {key!r}: choose one of {', '.join(ZOO)} (resviz zoo lists them)")
    return entry


def zoo_folder() -> Path:
    """Where the zoo's files live: torch's hub cache, shared with torchvision."""
    return hub_cache_dir()
