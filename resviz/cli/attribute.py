"""``resviz attribute``: a Captum attribution of one image, overlaid on it, as a figure."""

from __future__ import annotations

import argparse
import os

from ..core.inspect.methods import METHODS
from ._inspect import add_data_options, add_model_options, check_common, inputs_of, load, note_line
from ._numbers import finite_float

_METHOD_NAMES = tuple(METHODS)  # torch-free: resviz --help stays fast


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
    p.add_argument(
        "--image",
        required=True,
        metavar="I",
        help="an image file (PNG, JPEG, BMP, WebP, TIFF, GIF), or a sample photograph: "
        "sample:chelsea, sample:coffee, sample:astronaut, sample:rocket, sample:camera (from scikit-image)",
    )
    # Checked in run(), not by argparse choices, so a typo gets resviz's one-line error.
    p.add_argument("--method", required=True, metavar="M", help="the attribution method: " + ", ".join(_METHOD_NAMES))
    p.add_argument(
        "--level",
        metavar="low|mid|high",
        help="the level for layer and neuron methods (gradcam, conductance ...; default: all three)",
    )
    p.add_argument(
        "--channel",
        type=int,
        metavar="N",
        help="neuron methods (neuron-gradient, neuron-ig): the channel of --level to explain "
        "(default: the level's most active channel on this image)",
    )
    p.add_argument("--target", metavar="K", help="class index or name to explain (default: the top-1 prediction)")
    p.add_argument("--out", metavar="FIG.png", help="where to write the figure (PNG, SVG or PDF)")
    p.add_argument(
        "--npz",
        "--npy",
        dest="npz",
        metavar="FILE.npz",
        help="write the raw numbers as a NumPy archive (np.load): the input, every class's probability, "
        "and per level the attribution as Captum returned it and its heatmap",
    )
    p.add_argument("--json", metavar="FILE.json", help="write the same raw numbers as JSON")
    p.add_argument("--steps", type=int, default=50, help="Integrated Gradients steps, 1 to 1000 (default 50)")
    p.add_argument("--cmap", help="matplotlib colour map (default: inferno, or RdBu_r for signed maps)")
    p.add_argument("--alpha", type=finite_float, default=0.5, help="heatmap opacity from 0 to 1 (default 0.5)")
    add_data_options(p, required=False)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..core.archs import LEVELS
    from ..core.errors import ConfigError
    from ..core.limits import check_ig_steps
    from ..core.outputs import check_output

    # Every option before any work: a bad one costs nothing, and nothing is written.
    check_common(args)
    from ..core.inspect import Inspector, attribution_figure, decode_image, method_spec, save_figure

    spec = method_spec(args.method)
    if args.level is not None and args.level not in LEVELS:
        raise ConfigError(f"unknown level {args.level!r}: choose one of {', '.join(LEVELS)}")
    if not 0.0 <= args.alpha <= 1.0:  # NaN fails this too
        raise ConfigError(f"--alpha must be between 0 and 1, not {args.alpha}")
    if args.channel is not None and not spec.uses_channel:
        raise ConfigError(f"--channel is for neuron methods (neuron-gradient, neuron-ig), not {spec.name}")
    if args.channel is not None and args.level is None:
        raise ConfigError("--channel needs --level: channel numbers differ from level to level")
    check_ig_steps(args.steps)
    if not (args.out or args.npz or args.json):
        raise ConfigError("say where to write: --out FIG.png, --npz FILE.npz and/or --json FILE.json")
    if args.out:
        # The path written (a name without a suffix gains .png) is the one checked and named (issue #17).
        args.out = str(check_output(args.out, inputs=inputs_of(args), what="figure", kind="figure"))
    for path, what in ((args.npz, "array archive"), (args.json, "JSON file")):
        if path:
            check_output(path, inputs=inputs_of(args), what=what)
    outputs = [p for p in (args.out, args.npz, args.json) if p]
    if len({os.path.abspath(p) for p in outputs}) < len(outputs):
        raise ConfigError("--out, --npz and --json must be different files")
    from ..core.samples import is_sample_name, sample_path

    # before loading the net: a bad image fails fast
    image = decode_image(sample_path(args.image)) if is_sample_name(args.image) else decode_image(args.image)
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
    maps = [
        inspector.attribute(prepared, spec.name, lvl, args.target, n_steps=args.steps, channel=args.channel)
        for lvl in levels
    ]
    target = maps[0]
    written = [p for p in (args.npz, args.json) if p]
    if written:
        _write_raw(args, inspector, prepared, predictions, maps)
    if args.out:
        panels = [(_caption(spec.label, m), m.heatmap()) for m in maps]
        what = f" for class {target.target} ({target.target_name})" if spec.uses_target else ""
        title = f"{loaded.arch}: {spec.label}{what}"
        fig = attribution_figure(prepared.display, panels, title=title, cmap=args.cmap, alpha=args.alpha)
        written.insert(0, str(save_figure(fig, args.out)))
    where = ", ".join(written)
    if spec.uses_channel:
        print(
            "explained " + ", ".join(f"channel {m.channel} of the {m.level} level" for m in maps) + f"; wrote {where}"
        )
    elif spec.uses_target:
        print(f"explained class {target.target} ({target.target_name}); wrote {where}")
    else:
        print(f"wrote {where}")
    return 0


def _write_raw(args: argparse.Namespace, inspector, prepared, predictions, maps) -> None:
    """--npz / --json: the numbers behind the figure (resviz.core.inspect.raw)."""
    import numpy as np

    from ..core.inspect.raw import attribution_arrays, save_json, save_npz

    everything = inspector.look(prepared, k=len(inspector.classes), top_channels=0).predictions
    probabilities = np.zeros(len(inspector.classes), dtype=np.float32)
    for p in everything:
        probabilities[p.index] = p.probability
    arrays = attribution_arrays(
        net_input=prepared.tensor[0].detach().cpu().numpy(),
        display=prepared.display,
        probabilities=probabilities,
        classes=inspector.classes,
        maps=maps,
    )
    if args.npz:
        save_npz(args.npz, arrays)
    if args.json:
        save_json(args.json, arrays, predictions)


def _caption(label: str, m) -> str:
    level = f", {m.level} level" if m.level else ""
    channel = f", channel {m.channel}" if m.channel is not None else ""
    return label + level + channel
