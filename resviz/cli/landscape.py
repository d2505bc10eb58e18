"""``resviz landscape``: the training loss around trained weights (Li et al. 2018)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._inspect import add_data_options, load, note_line, progress_printer
from ._numbers import finite_float

_MAX_GRID = 101  # 10,201 evaluations in 2D: hours on a CPU, minutes on a GPU
_MAX_IMAGES = 100_000


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "landscape",
        help="loss landscape around trained weights (1D curves or 2D contours), nets side by side",
        description=(
            "Evaluate the training loss and error around the trained weights along filter-normalised "
            "random directions (Li et al. 2018, arXiv:1712.09913, section 4) and draw 1D curves or 2D "
            "contour plots; several nets (a residual net and its plain twin) side by side on one colour "
            "scale, along the same seed's directions. BN runs in eval mode on the running statistics."
        ),
    )
    p.add_argument(
        "--checkpoint",
        action="append",
        required=True,
        metavar="C",
        help="a checkpoint, state dict or run folder (as for eval); repeat for more nets",
    )
    p.add_argument(
        "--arch",
        action="append",
        metavar="A",
        help="the architecture of each --checkpoint (once for all, or once each)",
    )
    p.add_argument("--offline", action="store_true", help="never download torchvision weights")
    p.add_argument("--threads", type=int, metavar="N", help="CPU threads for torch")
    add_data_options(p, required=True)
    p.add_argument(
        "--dims", type=int, default=2, metavar="1|2", help="1: curves along one direction; 2: contours (default)"
    )
    p.add_argument("--grid", type=int, default=21, metavar="G", help="points per axis from -span to span (default 21)")
    p.add_argument(
        "--span", type=finite_float, default=1.0, metavar="S", help="how far along each direction (default 1.0)"
    )
    p.add_argument("--images", type=int, default=1000, metavar="N", help="training images per point (default 1000)")
    p.add_argument(
        "--seed", type=int, default=0, help="the directions' seed: the same seed, the same directions (default 0)"
    )
    p.add_argument("--out", required=True, metavar="FIG.png", help="where to write the figure (PNG, SVG or PDF)")
    p.add_argument("--csv", metavar="F.csv", help="also write every grid point as CSV")
    p.add_argument("--json", metavar="F.json", help="also write the grids as JSON")
    p.set_defaults(run=run)


def _check(args: argparse.Namespace) -> list[str | None]:
    """Every option checked before any model loads; returns one --arch per checkpoint."""
    from ..core.errors import ConfigError
    from ..core.limits import check_finite, check_threads
    from ..core.outputs import check_output

    check_threads(args.threads)
    if args.dims not in (1, 2):
        raise ConfigError(f"--dims must be 1 or 2, not {args.dims}")
    if not 2 <= args.grid <= _MAX_GRID:
        raise ConfigError(f"--grid must be a whole number from 2 to {_MAX_GRID}, not {args.grid}")
    span = check_finite(args.span, "--span")
    if not 0 < span <= 100:
        raise ConfigError(f"--span must be above 0 and at most 100, not {args.span}")
    if not 1 <= args.images <= _MAX_IMAGES:
        raise ConfigError(f"--images must be a whole number from 1 to {_MAX_IMAGES}, not {args.images}")
    if not 0 <= args.seed < 2**63:
        raise ConfigError(f"--seed must be a whole number from 0 to 2**63 - 1, not {args.seed}")
    archs = args.arch or [None]
    if len(archs) == 1:
        archs = archs * len(args.checkpoint)
    if len(archs) != len(args.checkpoint):
        raise ConfigError(
            f"give --arch once for all nets or once per --checkpoint ({len(args.checkpoint)}), not {len(archs)} times"
        )
    inputs = list(args.checkpoint) + ([args.data] if Path(args.data).exists() else [])
    outputs = [(o, p) for o, p in (("--out", args.out), ("--csv", args.csv), ("--json", args.json)) if p is not None]
    for i, (option, given) in enumerate(outputs):
        # The path written (a figure name without a suffix gains .png) is the one checked (issue #17).
        path = str(
            check_output(given, inputs=inputs, what=f"{option} file", kind="figure" if option == "--out" else None)
        )
        setattr(args, option[2:], path)
        outputs[i] = (option, path)
        for other, earlier in outputs[:i]:
            if Path(path).expanduser().resolve() == Path(earlier).expanduser().resolve():
                raise ConfigError(f"{other} and {option} name the same file {path}; give each its own")
    return archs


def run(args: argparse.Namespace) -> int:
    from ..core.errors import ResvizError
    from ..core.inspect.evaluation import check_classes
    from ..core.inspect.figures import save_figure
    from ..core.landscape import landscape_figure, landscapes_csv, landscapes_json, loss_landscape
    from ..core.outputs import atomic_output

    archs = _check(args)
    results, names = [], []
    for checkpoint, arch in zip(args.checkpoint, archs, strict=True):
        one = argparse.Namespace(
            checkpoint=checkpoint,
            arch=arch,
            offline=args.offline,
            threads=args.threads,
            data=args.data,
            data_root=args.data_root,
        )
        loaded, data = load(one, splits=("train",))  # the landscape is of the training loss
        for note in check_classes(loaded.model, loaded.classes, data.classes, data.name):
            note_line(note)
        arch = loaded.model.current_arch
        name = arch if arch not in names else f"{arch} ({Path(checkpoint).name})"
        names.append(name)
        result = loss_landscape(
            loaded.model,
            data.train,
            loaded.preprocess,
            dims=args.dims,
            grid=args.grid,
            span=args.span,
            n_images=args.images,
            seed=args.seed,
            name=name,
            progress=progress_printer(f"landscape of {name}"),
        )
        results.append(result)
        loss, err = result.centre()
        finite = result.loss[result.loss == result.loss]
        print(
            f"{name}: {result.loss.size} points on {result.n_images} training images in {result.seconds:.1f} s; "
            f"centre loss {loss:.4f}, error {err:.2f}%; loss from {finite.min():.4f} to {finite.max():.4f}"
        )
    save_figure(landscape_figure(results), args.out)
    note_line(f"wrote {args.out}")
    for path, text in ((args.csv, landscapes_csv), (args.json, landscapes_json)):
        if path:
            try:
                with atomic_output(path) as tmp:
                    tmp.write_text(text(results))
            except OSError as exc:
                raise ResvizError(f"cannot write {path}: {exc.strerror or exc}") from None
            note_line(f"wrote {path}")
    return 0
