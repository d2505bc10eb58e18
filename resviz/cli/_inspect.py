"""What ``resviz eval``, ``attribute`` and ``lesion`` share: the model and data options.

Imports torch only inside functions, like every verb module (``resviz --help`` stays fast).
"""

from __future__ import annotations

import argparse
import os
import sys


def add_model_options(p: argparse.ArgumentParser) -> None:
    """``--checkpoint`` and ``--arch``, and ``--offline`` for torchvision weights."""
    p.add_argument(
        "--checkpoint",
        required=True,
        metavar="C",
        help="a resviz checkpoint, a .pt/.pth/.safetensors state dict, a pytorch_resnet_cifar10 "
        "checkpoint, a run folder, torchvision weights by name (ResNet50_Weights.DEFAULT), "
        "or a trained net of the zoo (zoo:resnet56-cifar10; resviz zoo lists them)",
    )
    p.add_argument(
        "--arch", metavar="A", help="the architecture (resnet20, plain56 ...); inferred from the weights when left out"
    )
    p.add_argument(
        "--offline", action="store_true", help="never download weights (zoo, torchvision); use the torch hub cache only"
    )
    p.add_argument(
        "--threads", type=int, metavar="N", help="CPU threads for torch (on a busy machine 1 can beat the default)"
    )


def add_data_options(p: argparse.ArgumentParser, *, required: bool) -> None:
    """``--data`` (digits, cifar10 or a folder) and ``--data-root`` for cifar10."""
    p.add_argument(
        "--data",
        required=required,
        metavar="D",
        help="digits, cifar10, or a folder with train/ and test/ class subfolders"
        + ("" if required else " (supplies class names and the input mean that a bare state dict lacks)"),
    )
    p.add_argument("--data-root", metavar="DIR", help="where cifar10 lives (default: resviz's cache folder)")


def check_common(args: argparse.Namespace) -> None:
    """The options every inspector verb shares, checked before torch is imported."""
    from ..core.limits import check_threads

    check_threads(args.threads)
    if getattr(args, "limit", None) is not None and args.limit < 1:
        from ..core.errors import ConfigError

        raise ConfigError(f"--limit must be at least 1, not {args.limit}")


def inputs_of(args: argparse.Namespace) -> list[str | None]:
    """The files a verb reads (for :func:`~resviz.core.outputs.check_output`); a data set
    given by name (digits, cifar10) is no file."""
    data = getattr(args, "data", None)
    return [args.checkpoint, getattr(args, "image", None), data if data and os.path.exists(data) else None]


def load(args: argparse.Namespace, *, splits: tuple[str, ...] = ("test",)):
    """The model, and the data set when ``--data`` was given (sized for the model): only
    the ``splits`` the verb uses are read (issue #9)."""
    from ..core.inspect import load_model
    from ..core.inspect.datasets import load_data_for

    check_common(args)
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    from .zoo import download_progress

    loaded = load_model(
        args.checkpoint, arch=args.arch, download=not args.offline, progress=download_progress("downloading")
    )
    data = None
    if getattr(args, "data", None):
        loaded, data = load_data_for(loaded, args.data, root=args.data_root, splits=splits)
    for note in loaded.notes + (data.notes if data else []):
        note_line(note)
    return loaded, data


def load_with_test_split(args: argparse.Namespace):
    """For eval and lesion: load model and data (only the test split), check they match."""
    from ..core.inspect.evaluation import check_classes

    loaded, data = load(args)
    for note in check_classes(loaded.model, loaded.classes, data.classes, data.name):
        note_line(note)
    return loaded, data


def subset_line(result, data_name: str) -> str:
    """``50 test images of digits (5 of each of the 10 classes)``: what a result was measured on."""
    from ..core.inspect.subset import describe_class_counts

    return f"{result.n_images:,} test images of {data_name} ({describe_class_counts(result.class_counts)})"


def note_line(text: str) -> None:
    """A remark that is not the result: to stderr, so stdout stays parseable."""
    print(f"resviz: {text}", file=sys.stderr)


def progress_printer(what: str):
    """A ``progress(done, total)`` callback that prints whole percents to a terminal."""
    if not sys.stderr.isatty():
        return None
    last = [-1]

    def progress(done: int, total: int) -> None:
        pct = int(100 * done / max(total, 1))
        if pct != last[0]:
            last[0] = pct
            end = "\n" if done >= total else ""
            print(f"\r{what}: {pct:3d}%", end=end, file=sys.stderr, flush=True)

    return progress
