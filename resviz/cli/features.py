"""``resviz features``: what each channel sees (Zeiler & Fergus 2014), as a figure."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ._inspect import add_data_options, add_model_options, load, note_line, progress_printer


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "features",
        help="what each channel sees: its top test images, cropped to the receptive field",
        description=(
            "One pass over the test split records, for every channel of the low, mid and high "
            "levels, the k images where it responds most (Zeiler & Fergus 2014, arXiv:1311.2901), "
            "and draws each as the patch under the unit's receptive field; the most active "
            "channels of each level side by side."
        ),
    )
    add_model_options(p)
    add_data_options(p, required=True)
    p.add_argument("--level", metavar="low|mid|high", help="only this level (default: all three side by side)")
    p.add_argument(
        "--channels", type=int, default=8, metavar="N", help="channels drawn per level, most active first (default 8)"
    )
    p.add_argument("--k", type=int, default=9, metavar="K", help="patches per channel (default 9)")
    p.add_argument(
        "--limit",
        type=int,
        default=10_000,
        metavar="N",
        help="test images to look at (default 10000; spread over the split)",
    )
    p.add_argument("--out", required=True, metavar="FIG.png", help="where to write the figure (PNG, SVG or PDF)")
    p.add_argument("--json", action="store_true", help="print each level's field and top channels as JSON")
    p.set_defaults(run=run)


def _check(args: argparse.Namespace) -> None:
    from ..core.archs import LEVELS
    from ..core.errors import ConfigError
    from ..core.limits import check_threads
    from ..core.outputs import check_output

    inputs = [args.checkpoint] + ([args.data] if Path(args.data).exists() else [])
    # The path written (a name without a suffix gains .png) is the one checked and named (issue #17).
    args.out = str(check_output(args.out, inputs=inputs, what="figure", kind="figure"))
    check_threads(args.threads)
    if args.level is not None and args.level not in LEVELS:
        raise ConfigError(f"unknown level {args.level!r}: choose one of {', '.join(LEVELS)}")
    for option, value, top in (
        ("--channels", args.channels, 4096),
        ("--k", args.k, 100),
        ("--limit", args.limit, 10**7),
    ):
        if not 1 <= value <= top:
            raise ConfigError(f"{option} must be a whole number from 1 to {top}, not {value}")


def run(args: argparse.Namespace) -> int:
    from ..core.archs import LEVELS
    from ..core.inspect.feature_figures import features_figure
    from ..core.inspect.features import top_activations
    from ..core.inspect.figures import save_figure

    _check(args)  # before loading anything: a bad option fails fast
    loaded, data = load(args)
    levels = [args.level] if args.level else list(LEVELS)
    result = top_activations(
        loaded.model,
        data.test,
        loaded.preprocess,
        levels=levels,
        k=args.k,
        limit=args.limit,
        progress=progress_printer("looking"),
    )
    fig = features_figure(result, channels=args.channels, title=f"{loaded.arch} on {data.name}")
    save_figure(fig, args.out)
    summary = []
    for lv in result.levels:
        top = [int(c) for c in lv.ranked(args.channels)]
        summary.append(
            {
                "level": lv.level,
                "module": lv.module,
                "channels": lv.channels,
                "field": lv.field.size,
                "jump": lv.field.jump,
                "map": list(lv.map_size),
                "constant_zero": [int(c) for c in lv.dead.nonzero()[0]],
                "top_channels": top,
                "top_means": [round(float(lv.mean[c]), 4) for c in top],
            }
        )
    if args.json:
        print(
            json.dumps(
                {
                    "model": loaded.describe(),
                    "data": data.name,
                    "images": result.n_images,
                    "k": result.k,
                    "seconds": round(result.seconds, 2),
                    "levels": summary,
                },
                indent=2,
            )
        )
    else:
        print(f"{loaded.describe()}\n{result.n_images} test images of {data.name} in {result.seconds:.1f} s")
        for s in summary:
            dead = f", {len(s['constant_zero'])} constant zero" if s["constant_zero"] else ""
            print(
                f"{s['level']:>4} ({s['module']}): field {s['field']} px, jump {s['jump']}, "
                f"{s['channels']} channels{dead}; most active {', '.join(map(str, s['top_channels']))}"
            )
    note_line(f"wrote {args.out}")
    return 0
