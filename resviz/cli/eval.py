"""``resviz eval``: the test error (and top-5 error) of a trained net on a data set."""

from __future__ import annotations

import argparse
import json

from ._inspect import (
    add_data_options,
    add_model_options,
    check_common,
    load_with_test_split,
    progress_printer,
    subset_line,
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="test error of a checkpoint on a data set",
        description="Print the test error of a trained net (top-1, and top-5 when it has more than 5 classes).",
    )
    add_model_options(p)
    add_data_options(p, required=True)
    p.add_argument(
        "--limit", type=int, metavar="N", help="only N test images: a fixed subset with each class in its share"
    )
    p.add_argument(
        "--ten-crop",
        action="store_true",
        help="the paper's 10-crop test (Table 2): corners, centre and their mirrors of the image resized to "
        "256 (scaled for other input sizes), softmax averaged; --data must be a folder, streamed from disk",
    )
    p.add_argument("--workers", type=int, help="--ten-crop: DataLoader worker processes that decode the images")
    p.add_argument(
        "--json", action="store_true", help="print the result as JSON (errors, counts and the mean cross-entropy loss)"
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    check_common(args)
    if args.ten_crop:
        return _run_ten_crop(args)
    from ..core.inspect import Inspector

    loaded, data = load_with_test_split(args)
    result = Inspector(loaded).evaluate(
        data.test, limit=args.limit, classes=data.classes, progress=progress_printer("evaluating")
    )
    if args.json:
        print(json.dumps({"model": loaded.describe(), "data": data.name, **result.to_dict()}, indent=2))
        return 0
    print(loaded.describe())
    top5 = "" if result.top5_error is None else f", top-5 error {result.top5_error:.2f}% ({result.wrong5:,} wrong)"
    loss = "" if result.loss is None else f", loss {result.loss:.4f}"
    print(f"test error {result.error:.2f}% ({result.wrong:,} wrong){top5}{loss}")
    print(f"on {subset_line(result, data.name)}")
    return 0


def _run_ten_crop(args: argparse.Namespace) -> int:
    """The 10-crop test (issue #22), streamed from the folder: the split is never held decoded."""
    import os

    from ..core.errors import ConfigError

    if not os.path.isdir(args.data) or args.limit is not None:
        raise ConfigError("--ten-crop tests a folder with train/ and test/ class subfolders, whole (no --limit)")
    from ..core.inspect import load_model
    from ..core.inspect.tencrop import ten_crop_error

    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    from .zoo import download_progress

    loaded = load_model(
        args.checkpoint, arch=args.arch, download=not args.offline, progress=download_progress("downloading")
    )
    result = ten_crop_error(loaded.model, loaded.preprocess, args.data, workers=args.workers)
    if args.json:
        print(json.dumps({"model": loaded.describe(), "data": args.data, **result.to_dict()}, indent=2))
        return 0
    print(loaded.describe())
    top5 = "" if result.top5_error is None else f", top-5 error {result.top5_error:.2f}% ({result.wrong5:,} wrong)"
    print(f"10-crop test error {result.error:.2f}% ({result.wrong:,} wrong){top5}")
    skipped = f"; {result.skipped} unreadable image(s) skipped" if result.skipped else ""
    print(f"on {result.n_images:,} test images of {args.data}{skipped}")
    return 0
