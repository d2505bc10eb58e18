"""``resviz attribute``: a Captum attribution of one image, overlaid on it, as a figure."""

from __future__ import annotations

import argparse

from ._inspect import add_data_options, add_model_options, load, note_line

_METHOD_NAMES = ("gradcam", "guided-gradcam", "ig", "saliency", "inputxgrad", "guided-backprop", "occlusion")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "attribute",
        help="attribution figure of one image (Grad-CAM, IG, saliency ...)",
        description=(
            "Write a figure: the image as the net sees it and a Captum attribution overlaid on it. "
            "Grad-CAM methods attribute to a level; without --level all three are drawn side by side."
        ),
    )
    add_model_options(p)
    p.add_argument("--image", required=True, metavar="I", help="an image file (PNG, JPEG, BMP, WebP, TIFF, GIF)")
    # Checked in run(), not by argparse choices, so a typo gets resviz's one-line error.
    p.add_argument("--method", required=True, metavar="|".join(_METHOD_NAMES), help="the attribution method")
    p.add_argument("--level", metavar="low|mid|high", help="the level for gradcam / guided-gradcam (default: all three)")
    p.add_argument("--target", metavar="K", help="class index or name to explain (default: the top-1 prediction)")
    p.add_argument("--out", required=True, metavar="FIG.png", help="where to write the figure (PNG, SVG or PDF)")
    p.add_argument("--steps", type=int, default=50, help="Integrated Gradients steps (default 50)")
    p.add_argument("--cmap", help="matplotlib colour map (default: inferno, or RdBu_r for signed maps)")
    p.add_argument("--alpha", type=float, default=0.5, help="heatmap opacity from 0 to 1 (default 0.5)")
    add_data_options(p, required=False)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..core.archs import LEVELS
    from ..core.errors import ConfigError
    from ..core.inspect import Inspector, attribution_figure, decode_image, method_spec, save_figure

    spec = method_spec(args.method)
    if args.level is not None and args.level not in LEVELS:
        raise ConfigError(f"unknown level {args.level!r}: choose one of {', '.join(LEVELS)}")
    if not 0.0 <= args.alpha <= 1.0:
        raise ConfigError(f"--alpha must be between 0 and 1, not {args.alpha}")
    if args.steps < 1:
        raise ConfigError(f"--steps must be at least 1, not {args.steps}")
    image = decode_image(args.image)  # before loading the net: a bad image fails fast
    for note in image.notes:
        note_line(f"{image.name}: {note}")
    loaded, _ = load(args)
    inspector = Inspector(loaded)
    prepared = inspector.prepare(image)
    predictions = inspector.look(prepared, top_channels=0).predictions
    for p in predictions:
        print(f"{p.probability:7.2%}  {p.index:>4}  {p.name}")
    if spec.uses_level:
        levels = [args.level] if args.level else list(LEVELS)
    else:
        if args.level:
            note_line(f"{spec.label} attributes to the input pixels; --level is not used")
        levels = [None]
    maps = [inspector.attribute(prepared, spec.name, lvl, args.target, n_steps=args.steps) for lvl in levels]
    target = maps[0]
    panels = [(f"{spec.label}" + (f", {m.level} level" if m.level else ""), m.heatmap()) for m in maps]
    title = f"{loaded.arch}: {spec.label} for class {target.target} ({target.target_name})"
    fig = attribution_figure(prepared.display, panels, title=title, cmap=args.cmap, alpha=args.alpha)
    save_figure(fig, args.out)
    print(f"explained class {target.target} ({target.target_name}); wrote {args.out}")
    return 0
