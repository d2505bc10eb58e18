"""A loss-landscape sweep against the same number of plain evaluations (issue #13).

Target: a 21 x 21 grid on 1,000 training images (441 evaluations) runs at >= 0.9x the speed
of 441 plain evaluations of the same net on the same images: setting the weights in place
(``torch._foreach`` ops) and the loss must cost next to nothing beside the forward passes.

The sides are interleaved point by point (ABAB): from the sweep's progress callback, after
each grid point, one plain evaluation (forward and arg-max over the same, already
normalised images) runs on a second copy of the net, and its time is taken out of the
sweep's, so the sweep's own time includes its set-up (directions, preprocessing) and the
final restore. On this project's shared 2-core CPU a full run takes an hour; ``--grid`` and
``--images`` make it shorter (fewer images make the fixed per-point cost weigh *more*, so a
smaller run is the harder test). Prints JSON.

    python benchmarks/landscape.py [--grid 21] [--images 1000] [--arch resnet20] [--threads N]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import add_common_options, apply_threads, cifar_images, machine  # noqa: E402  (benchmarks/ is on sys.path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=int, default=21)
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--arch", default="resnet20")
    parser.add_argument("--batch-size", type=int, default=500)
    add_common_options(parser, "trained weights")
    args = parser.parse_args()

    import torch

    apply_threads(args)
    from resviz.core.data import ImageSet
    from resviz.core.inspect import load_model
    from resviz.core.inspect.preprocess import Preprocess
    from resviz.core.landscape import loss_landscape
    from resviz.core.models import build_model

    torch.manual_seed(0)
    if args.checkpoint:
        loaded = load_model(args.checkpoint)
        model, preprocess, weights = loaded.model.eval(), loaded.preprocess, f"trained: {args.checkpoint}"
    else:
        model, preprocess, weights = build_model(args.arch).eval(), Preprocess.normalized(32), "random init (He)"
    plain = copy.deepcopy(model)
    images, labels, source = cifar_images(args.images, split="train")
    data = ImageSet(images, labels)
    batches = [preprocess.batch(images[i : i + args.batch_size]) for i in range(0, len(images), args.batch_size)]
    plain_s = [0.0]

    def plain_evaluation(done: int, total: int) -> None:
        t = time.perf_counter()
        with torch.inference_mode():
            for x in batches:
                plain(x).argmax(1)
        plain_s[0] += time.perf_counter() - t

    loss_landscape(model, data, preprocess, dims=1, grid=2, n_images=args.batch_size)  # warm-up
    load_start = os.getloadavg()[0]
    t = time.perf_counter()
    result = loss_landscape(
        model,
        data,
        preprocess,
        dims=2,
        grid=args.grid,
        n_images=args.images,
        batch_size=args.batch_size,
        progress=plain_evaluation,
    )
    wall = time.perf_counter() - t
    ours = wall - plain_s[0]
    points = result.loss.size
    speed = plain_s[0] / ours  # ours relative to plain: 1.0 is as fast
    print(
        json.dumps(
            {
                "benchmark": "landscape",
                "arch": getattr(model, "arch_name", args.arch),
                "grid": f"{args.grid}x{args.grid}",
                "evaluations": points,
                "images": result.n_images,
                "data": source,
                "weights": weights,
                "torch": torch.__version__,
                "cpu": platform.processor() or platform.machine(),
                **machine(args),
                "load_average_1min_start": round(load_start, 2),
                "interleaving": "per grid point: sweep point, then one plain evaluation on a copy of the net",
                "sweep_s": round(ours, 2),
                "plain_evaluations_s": round(plain_s[0], 2),
                "speed_sweep_to_plain": round(speed, 3),
                "target_speed": 0.9,
                "meets_target": speed >= 0.9,
                "centre_loss": round(result.centre()[0], 4),
                "load_average_1min_end": round(os.getloadavg()[0], 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
