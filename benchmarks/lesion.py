"""The full lesion study of resnet56 (27 blocks, both kinds) on 1,000 test images at 32x32.

Issue 5's target: under 2 minutes on this CPU with the prefix reuse (a lesion at block i
changes nothing before block i). Also times the study without reuse (every lesion through
the whole net) for the ratio, and checks both give the same errors.

Images are the first ``--images`` of the shared CIFAR-10 test folder when it is present
(``$RESVIZ_SHARED_DATA`` or ../shared/data), else random ones: the time does not depend
on the pixels. Weights are random (He init) unless ``--checkpoint`` is given. Prints JSON.

    python benchmarks/lesion.py [--images 1000] [--arch resnet56] [--skip-naive]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import add_common_options, apply_threads, cifar_images, machine  # noqa: E402  (benchmarks/ is on sys.path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--arch", default="resnet56")
    parser.add_argument("--skip-naive", action="store_true", help="do not time the study without prefix reuse")
    add_common_options(parser, "trained weights")
    args = parser.parse_args()

    import torch

    apply_threads(args)

    from resviz.core.data import ImageSet
    from resviz.core.inspect import lesion_study, load_model
    from resviz.core.inspect.preprocess import Preprocess
    from resviz.core.models import build_model

    torch.manual_seed(0)
    if args.checkpoint:
        loaded = load_model(args.checkpoint)
        model, preprocess, weights = loaded.model, loaded.preprocess, f"trained: {args.checkpoint}"
    else:
        model = build_model(args.arch).eval()
        preprocess, weights = Preprocess.normalized(32), "random init (He)"
    images, labels, source = cifar_images(args.images)
    data = ImageSet(images, labels)
    n_blocks = len(model.blocks())

    lesion_study(model, data, preprocess, limit=8)  # warm-up: first-call allocations, lazy init
    reused = lesion_study(model, data, preprocess)
    out = {
        "benchmark": "lesion",
        "arch": model.arch_name,
        "blocks": n_blocks,
        "images": len(data),
        "data": source,
        "weights": weights,
        **machine(args),
        "with_prefix_reuse_s": round(reused.seconds, 1),
        "target_s": 120,
        "meets_target": reused.seconds < 120,
        # In block evaluations per image: L + L(L+1) with reuse, L(2L+1) without.
        "work_ratio_expected": round((n_blocks * (2 * n_blocks + 1)) / (n_blocks + n_blocks * (n_blocks + 1)), 3),
        "intact_error": round(reused.intact_error, 2),
        "intact_wrong": reused.intact_wrong,
    }
    if not args.skip_naive:
        naive = lesion_study(model, data, preprocess, reuse_prefix=False)
        out["without_prefix_reuse_s"] = round(naive.seconds, 1)
        out["speedup"] = round(naive.seconds / reused.seconds, 3)
        out["same_errors"] = (naive.residual_wrong, naive.shortcut_wrong) == (reused.residual_wrong, reused.shortcut_wrong)
    out["load_average_1min_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
