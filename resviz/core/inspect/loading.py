"""Load a trained net for inspection, from whatever file the user has (issue 5, "Load a model").

Accepted: resviz checkpoints (:mod:`resviz.core.checkpoint`), bare ``.pt``/``.pth``/
``.safetensors`` state dicts of our nets or torchvision's, pytorch_resnet_cifar10
checkpoints, a run folder (its newest checkpoint), and torchvision weights by enum name.
The architecture is inferred from the weights unless given; the class names come from the
checkpoint, the caller (a data set) or torchvision's weight meta; and each loaded model
carries the :class:`Preprocess` its inputs need.

Loading never runs code from the file: ``torch.load(weights_only=True)`` or safetensors,
after the file's sizes are checked (:mod:`.weightsfile`); a resviz checkpoint's fields are
checked for type and against the net (:mod:`.fields`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import Tensor

from ..archs import parse_arch
from ..checkpoint import CHECKPOINT_FORMAT, check_finite_weights
from ..errors import CheckpointError, ConfigError
from ..inputs import usable_path
from ..models import ResNet, build_model
from ..zoo import is_zoo_name
from .fields import check_tensors, checkpoint_fields
from .hub import fetch_weights, imagenet_categories, is_weights_name, resolve_weights
from .preprocess import Preprocess
from .statedict import StateLayout, describe_state, fit_state_dict, infer_layout, to_our_layout
from .weightsfile import read_weights_file

__all__ = ["LoadedModel", "load_model", "read_weights_file", "CIFAR10_CLASSES"]

#: torchvision's CIFAR-10 class order, which pytorch_resnet_cifar10 trained on.
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
_WEIGHT_SUFFIXES = (".pt", ".pth", ".safetensors", ".th", ".ckpt", ".bin")


@dataclass
class LoadedModel:
    """A net ready for inspection, with its class names and input recipe."""

    model: ResNet  # in eval mode
    arch: str
    classes: list[str]
    preprocess: Preprocess
    source: str  # the path or weights name it came from
    layout: str  # resviz, state-dict, torchvision, pytorch_resnet_cifar10
    notes: list[str] = field(default_factory=list)
    #: The training settings a resviz checkpoint records (its ``data``, ``data_root``,
    #: ``image_size`` ...), so the app can open the test images the net was trained on.
    config: dict[str, Any] | None = None

    @property
    def needs_data_mean(self) -> bool:
        """Whether :meth:`with_data` would take the data set's per-pixel mean (the file has none)."""
        p = self.preprocess
        return self.layout in ("state-dict", "resviz") and p.pixel_mean is None and p.mean is None

    def with_data(self, classes: list[str], mean: Tensor | None) -> LoadedModel:
        """Fill in what the file did not record from the data set it is used with.

        Class names replace numbered placeholders when the head has as many classes; the
        per-pixel mean replaces "scale to [0, 1]" for bare state dicts of our CIFAR nets.
        """
        notes = list(self.notes)
        names = self.classes
        if all(c == f"class {i}" for i, c in enumerate(names)) and len(classes) == len(names):
            names = list(classes)
        preprocess = self.preprocess
        if self.needs_data_mean and mean is not None:
            preprocess = Preprocess.per_pixel_mean(mean)
            notes = [n for n in notes if "no input mean" not in n] + ["input mean taken from the data set"]
        return LoadedModel(self.model, self.arch, names, preprocess, self.source, self.layout, notes, self.config)

    def describe(self) -> str:
        """One line for the status bar and the CLI."""
        plain = " (plain)" if self.model.is_plain else ""
        return (
            f"{self.arch}{plain}, {self.model.family}, option {self.model.shortcut_option} shortcuts, "
            f"{len(self.classes)} classes, {self.layout} from {self.source}; input: {self.preprocess.description}"
        )


def load_model(
    source: str | Path,
    *,
    arch: str | None = None,
    classes: list[str] | None = None,
    mean: Tensor | None = None,
    download: bool = True,
    progress: Any = None,
    cancel: Any = None,
) -> LoadedModel:
    """Load ``source``: a weights file, a run folder, a torchvision weights name or ``zoo:NAME``.

    ``arch`` overrides the inferred architecture (``plain20`` loads ``resnet20`` weights
    with the shortcuts off). ``classes`` and ``mean`` (C x H x W in [0, 1]) stand in for
    what the file does not record, typically from the data set it was trained on.
    ``progress(bytes_done, bytes_total)`` and ``cancel`` (:func:`resviz.core.download.fetch`)
    follow a download.
    """
    if is_zoo_name(source):
        return _load_zoo(str(source), arch=arch, download=download, progress=progress, cancel=cancel)
    if isinstance(source, str) and is_weights_name(source):
        return _load_hub(source, arch=arch, download=download, progress=progress, cancel=cancel)
    path = _weights_path(usable_path(source, error=CheckpointError))  # a name too long: one line (issue #17)
    obj = read_weights_file(path)
    label = path.name
    if isinstance(obj, dict) and obj.get("format") == CHECKPOINT_FORMAT:
        return _load_ours(obj, path, arch=arch, classes=classes)
    state, akamaster = to_our_layout(_state_dict_of(obj, label))
    layout = _layout_or_fail(state, label, arch)
    model = _build_and_fit(layout, state, arch=arch, label=label)
    notes: list[str] = []
    if akamaster:
        kind = "pytorch_resnet_cifar10"
        names = classes or (CIFAR10_CLASSES if layout.num_classes == 10 else None)
        preprocess = Preprocess.normalized(32)
    elif layout.family == "imagenet":
        kind = "torchvision"
        names = classes or (imagenet_categories() if layout.num_classes == 1000 else None)
        preprocess = Preprocess.normalized(224, resize=256)
    else:
        kind = "state-dict"
        names = classes
        if mean is not None:
            preprocess = Preprocess.per_pixel_mean(mean)
        else:
            preprocess = Preprocess.unit(32)
            notes.append("the file records no input mean: images are only scaled to [0, 1]")
    return LoadedModel(
        model, model.arch_name, _class_names(names, layout.num_classes, notes), preprocess, str(path), kind, notes
    )


def _weights_path(path: Path) -> Path:
    """A file as given; for a run folder its latest checkpoint; for another folder its newest weights file."""
    if not path.is_dir():
        return path
    from ..runs.reader import RunReader, is_run_folder

    if is_run_folder(path):
        with RunReader(path) as run:
            checkpoints = run.checkpoints()  # in step order: the name, not the mtime, is authoritative
        if checkpoints:
            return checkpoints[-1]
    candidates = [
        p
        for folder in (path / "checkpoints", path)
        if folder.is_dir()
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in _WEIGHT_SUFFIXES
    ]
    if not candidates:
        raise CheckpointError(
            f"{path} is a folder with no checkpoint in it or in checkpoints/: choose a checkpoint file"
        )
    return max(candidates, key=lambda p: p.stat().st_mtime_ns)


def _state_dict_of(obj: Any, label: str) -> dict[str, Tensor]:
    """The tensor dict inside what ``torch.load`` gave (unwrapping ``state_dict``/``model``)."""
    if isinstance(obj, dict):
        for key in ("state_dict", "model", "model_state_dict"):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if isinstance(obj, dict) and not obj:
        raise CheckpointError(f"{label} holds no state dict: it is an empty dict")
    if not isinstance(obj, dict):
        raise CheckpointError(f"{label} holds no state dict (found a {type(obj).__name__})")
    tensors = {k: v for k, v in obj.items() if isinstance(k, str) and isinstance(v, Tensor)}
    if not tensors:
        raise CheckpointError(f"{label} holds no weights (a dict of {', '.join(map(str, list(obj)[:4]))} ...)")
    return tensors


def _layout_or_fail(state: dict[str, Tensor], label: str, arch: str | None) -> StateLayout:
    layout = infer_layout(state)
    if layout is None:
        wanted = f" as {arch}" if arch else ""
        raise CheckpointError(f"cannot load {label}{wanted}: it looks like {describe_state(state)}")
    return layout


def _build_and_fit(layout: StateLayout, state: dict[str, Tensor], *, arch: str | None, label: str) -> ResNet:
    """Build ``arch`` (or the inferred net) with the file's head and shortcut option, load."""
    name = arch or layout.arch
    try:  # 50 and 152 are depths of both families: read the name in the file's family
        spec = parse_arch(name, layout.family)
    except ConfigError:
        try:
            spec = parse_arch(name)  # another family: fit_state_dict names the mismatch
        except ConfigError as exc:  # e.g. deeper than resnet1202 (parse_arch's bound, issue #9)
            raise CheckpointError(f"cannot load {label} as {name}: {exc}") from None
    model = build_model(spec.name, num_classes=layout.num_classes, shortcut=layout.shortcut, family=spec.family)
    fit_state_dict(model, state, arch=spec.name, label=label)
    check_finite_weights(model, label)  # a diverged net must not be shown as if it worked (issue #9)
    return model.eval()


def _load_ours(ckpt: dict[str, Any], path: Path, *, arch: str | None, classes: list[str] | None) -> LoadedModel:
    label = path.name
    fields = checkpoint_fields(ckpt, label)
    state = check_tensors(ckpt.get("model"), label)
    layout = _layout_or_fail(state, label, arch)
    if arch is None and fields.arch is not None:
        try:
            parse_arch(fields.arch)
        except ConfigError as exc:
            raise CheckpointError(
                f"{label} records the architecture {fields.arch!r}, which resviz does not know ({exc})"
            ) from None
    model = _build_and_fit(layout, state, arch=arch or fields.arch, label=label)
    fields.check_against(model)
    if arch is None:  # the switches as trained; an explicit --arch decides them itself
        model.set_shortcuts(True if fields.shortcuts is None else fields.shortcuts)
        model.set_residuals(True if fields.residuals is None else fields.residuals)
    notes: list[str] = []
    mean = fields.mean
    preprocess = Preprocess.per_pixel_mean(mean) if mean is not None else Preprocess.unit(32)
    if mean is None:
        notes.append("the checkpoint records no input mean: images are only scaled to [0, 1]")
    names = fields.classes or classes
    if fields.dataset:
        notes.append(f"trained on {fields.dataset} for {fields.step} steps")
    config = fields.config
    return LoadedModel(
        model,
        model.arch_name,
        _class_names(names, layout.num_classes, notes),
        preprocess,
        str(path),
        "resviz",
        notes,
        config,
    )


def _load_zoo(name: str, *, arch: str | None, download: bool, progress: Any, cancel: Any) -> LoadedModel:
    """A zoo entry: its verified file from torch's hub cache (downloaded when allowed)."""
    from ..download import fetch
    from ..zoo import zoo_entry

    entry = zoo_entry(name)
    path = fetch(entry.file, offline=not download, progress=progress, cancel=cancel)
    if entry.weights is not None:  # torchvision's: its transforms and class names from the enum
        return _load_hub_file(resolve_weights(entry.weights), path, arch=arch)
    loaded = load_model(path, arch=arch)
    loaded.notes.append(f"{entry.name} from the zoo ({entry.source}, {entry.licence})")
    return loaded


def _load_hub(name: str, *, arch: str | None, download: bool, progress: Any, cancel: Any) -> LoadedModel:
    weights = resolve_weights(name)
    return _load_hub_file(
        weights, fetch_weights(weights, download=download, progress=progress, cancel=cancel), arch=arch
    )


def _load_hub_file(weights: Any, path: Path, *, arch: str | None) -> LoadedModel:
    state, _ = to_our_layout(_state_dict_of(read_weights_file(path), path.name))
    layout = _layout_or_fail(state, weights.name, arch)
    model = _build_and_fit(layout, state, arch=arch, label=weights.name)
    preprocess = Preprocess.normalized(weights.crop, resize=weights.resize, mean=weights.mean, std=weights.std)
    return LoadedModel(model, model.arch_name, list(weights.categories), preprocess, weights.name, "torchvision")


def _class_names(names: list[str] | None, num_classes: int, notes: list[str]) -> list[str]:
    """The given names when they match the head, else ``class 0 .. class N-1``."""
    if names is not None and len(names) == num_classes:
        return [str(n) for n in names]
    if names is not None:
        notes.append(f"{len(names)} class names given for a {num_classes}-way head: numbering the classes instead")
    return [f"class {i}" for i in range(num_classes)]
