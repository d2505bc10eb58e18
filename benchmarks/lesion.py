"""The full lesion study of resnet56 (27 blocks, both kinds) on 1,000 test images at 32x32.

Issue #11's target is a ratio, since absolute CPU times differ several-fold between
machines: the study's time over that of ``2L + 1`` (55 for resnet56) plain eager
evaluations of the same images (the model as it is, NCHW, BN unfolded, batch 250), which
is what the study costs without any reuse. Goal: <= 0.35 (0.53 with the prefix reuse
alone). Plain evaluations are timed before and after the study (ABA) and their median
taken. ``--variants`` also times the study without BN folding and in NCHW, for the
decision in resviz/core/inference.py; ``--naive`` runs the whole reference study (no
reuse, no folding) and checks it gives the same wrong counts.

Measured 2026-12-01 (AMD EPYC, 2 shared cores, --threads 1, load 1.5-3, random weights):
the study took 62.3 s against 3.49 s per plain evaluation, a ratio of 0.325 (unfolded
NCHW 0.398, folded NCHW 0.416; work ratio of the block evaluations alone 0.491).

Images are the first ``--images`` of the shared CIFAR-10 test folder when it is present
(``$RESVIZ_SHARED_DATA`` or ../shared/data), else random ones: the time does not depend
on the pixels. Weights are random (He init) unless ``--checkpoint`` is given. Prints JSON.

    python benchmarks/lesion.py [--images 1000] [--arch resnet56] [--variants] [--naive]
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
    parser.add_argument("--variants", action="store_true", help="also time the study unfolded and folded-NCHW")
    parser.add_argument("--naive", action="store_true", help="also run the reference study (no reuse, no folding)")
    add_common_options(parser, "trained weights")
    args = parser.parse_args()

    import statistics
    import time

    import torch

    apply_threads(args)

    from resviz.core import inference
    from resviz.core.data import ImageSet
    from resviz.core.inspect import lesion_study, load_model
    from resviz.core.inspect.evaluation import evaluate
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
    evaluations = 2 * n_blocks + 1

    def plain_eval() -> float:
        t = time.perf_counter()
        evaluate(model, data, preprocess, fold=False)
        return time.perf_counter() - t

    def study(**kw):
        t = time.perf_counter()
        result = lesion_study(model, data, preprocess, **kw)
        return time.perf_counter() - t, result

    lesion_study(model, data, preprocess, limit=8)  # warm-up: first-call allocations, lazy init
    plain_eval()
    before = machine(args)
    evals = [plain_eval(), plain_eval()]
    studies = {"folded_channels_last": study()}
    evals += [plain_eval(), plain_eval()]
    if args.variants:
        studies["unfolded_nchw"] = study(fold=False)
        evals += [plain_eval()]
        inference.INFERENCE_CHANNELS_LAST = False
        studies["folded_nchw"] = study()
        inference.INFERENCE_CHANNELS_LAST = True
        evals += [plain_eval()]
    one_eval = statistics.median(evals)
    seconds, reused = studies["folded_channels_last"]
    out = {
        "benchmark": "lesion",
        "arch": model.arch_name,
        "blocks": n_blocks,
        "images": len(data),
        "data": source,
        "weights": weights,
        **before,
        "plain_eval_s": round(one_eval, 3),
        "plain_evals_s": [round(e, 3) for e in evals],
        "study_s": round(seconds, 1),
        "ratio_to_plain_evals": round(seconds / (evaluations * one_eval), 3),
        "plain_evaluations": evaluations,
        "target_ratio": 0.35,
        "meets_target": seconds / (evaluations * one_eval) <= 0.35,
        # In block evaluations per image: L + L(L-1) now, L(2L+1) without reuse.
        "work_ratio_expected": round((n_blocks + n_blocks * (n_blocks - 1)) / (n_blocks * (2 * n_blocks + 1)), 3),
        "intact_error": round(reused.intact_error, 2),
        "intact_wrong": reused.intact_wrong,
    }
    for name, (secs, _) in studies.items():
        out.setdefault("variants", {})[name] = {
            "study_s": round(secs, 1),
            "ratio_to_plain_evals": round(secs / (evaluations * one_eval), 3),
        }
    if args.naive:
        naive_s, naive = study(fold=False, reuse_prefix=False)
        out["naive_study_s"] = round(naive_s, 1)
        out["naive_over_plain_evals"] = round(naive_s / (evaluations * one_eval), 3)
        out["same_errors"] = (naive.residual_wrong, naive.shortcut_wrong) == (
            reused.residual_wrong,
            reused.shortcut_wrong,
        )
    out["load_average_end"] = [round(v, 2) for v in os.getloadavg()]
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
