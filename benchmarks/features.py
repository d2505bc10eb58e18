"""What-a-channel-sees pass against one plain evaluation of the same images (issue #13).

Target: the pass over the 10,000 CIFAR-10 test images (forward hooks on the three levels,
top-k kept on the device, then the receptive-field crops) costs at most 1.3x one plain
evaluation (forward and arg-max, as ``resviz eval``) of the same images.

A whole pass takes minutes on a shared 2-core CPU, so the two sides are interleaved batch
by batch (ABAB): from the pass's progress callback, after each of its batches, the same
batch is evaluated plainly on a second copy of the net (the first carries the hooks), and
that time is taken out of the pass's. The pass's own time therefore includes everything it
does: hooks, top-k, the final transfer, the crops. Prints JSON.

    python benchmarks/features.py [--images 10000] [--arch resnet20] [--checkpoint C] [--threads N]
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
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--arch", default="resnet20")
    parser.add_argument("--batch-size", type=int, default=250)
    add_common_options(parser, "trained weights")
    args = parser.parse_args()

    import torch

    apply_threads(args)
    from resviz.core.data import ImageSet
    from resviz.core.inspect import load_model
    from resviz.core.inspect.features import top_activations
    from resviz.core.inspect.preprocess import Preprocess
    from resviz.core.models import build_model

    torch.manual_seed(0)
    if args.checkpoint:
        loaded = load_model(args.checkpoint)
        model, preprocess, weights = loaded.model.eval(), loaded.preprocess, f"trained: {args.checkpoint}"
    else:
        model, preprocess, weights = build_model(args.arch).eval(), Preprocess.normalized(32), "random init (He)"
    plain = copy.deepcopy(model)  # the plain side: no hooks on it
    images, labels, source = cifar_images(args.images)
    data = ImageSet(images, labels)
    bs = args.batch_size
    plain_s = [0.0]
    wrong = [0]

    def plain_batch(done: int, total: int) -> None:
        t = time.perf_counter()
        start = (done - 1) // bs * bs
        with torch.inference_mode():  # as evaluation.evaluate: preprocess, forward, arg-max
            x = preprocess.batch(data.images[start:done])
            wrong[0] += int((plain(x).argmax(1) != data.labels[start:done]).sum())
        plain_s[0] += time.perf_counter() - t

    top_activations(model, ImageSet(images[:bs], labels[:bs]), preprocess, batch_size=bs)  # warm-up
    load_start = os.getloadavg()[0]
    t = time.perf_counter()
    result = top_activations(model, data, preprocess, limit=None, batch_size=bs, progress=plain_batch)
    wall = time.perf_counter() - t
    ours = wall - plain_s[0]
    ratio = ours / plain_s[0]
    print(
        json.dumps(
            {
                "benchmark": "features",
                "arch": getattr(model, "arch_name", args.arch),
                "images": result.n_images,
                "data": source,
                "weights": weights,
                "torch": torch.__version__,
                "cpu": platform.processor() or platform.machine(),
                **machine(args),
                "load_average_1min_start": round(load_start, 2),
                "interleaving": f"per batch of {bs}: pass batch, then the same batch evaluated plainly",
                "pass_s": round(ours, 2),
                "plain_evaluation_s": round(plain_s[0], 2),
                "ratio_pass_to_plain": round(ratio, 3),
                "target_ratio": 1.3,
                "meets_target": ratio <= 1.3,
                "patches_per_level": {lv.level: "x".join(map(str, lv.patches.shape)) for lv in result.levels},
                "plain_test_error": round(100.0 * wrong[0] / result.n_images, 2),
                "load_average_1min_end": round(os.getloadavg()[0], 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
