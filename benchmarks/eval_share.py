"""The share of a degradation experiment's time spent evaluating, before and after issue #18. Prints JSON.

    python benchmarks/eval_share.py                                   # plain/resnet 20 and 56, 300 iterations
    python benchmarks/eval_share.py --depths 8,14 --iters 600 --threads 1

Before, every evaluation of ``resviz experiment degradation`` (10 per net, ``eval_every =
iters // 10``) read the whole test split (10,000 CIFAR-10 images) under ``no_grad`` in
batches of 500, and Fig. 7's probed pass read 500 more. Now (``core.train.evaluation``) the
first nine read the fixed 1,000-image subset and only the last the whole split, Fig. 7's
probed pass counts the errors of its 500 (they lie inside both), and the passes run under
``inference_mode`` in batches of 100 on the CPU. Running the experiment twice to compare
takes an hour on a shared 2-core CPU, so this times the parts in one process, alternating
them so drifts in load hit both, and adds them up for both plans:

- one training step of each net (batch 128, forward, backward, SGD, channels-last as the
  trainer runs it);
- before: the old pass over ``--subset`` images plus the 500-image probed pass; the whole
  split is 10,000 / ``--subset`` such passes (batches of 500, no per-image work);
- after: the trainer's own :class:`~resviz.core.train.evaluation.TestEvaluation` on a
  10,000-image split, once on the subset and once on the whole split.

Images are random: the times do not depend on the pixels.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from _common import machine  # noqa: E402  (benchmarks/ is on sys.path when run)

from resviz.core.archs import arch_name  # noqa: E402
from resviz.core.data import normalise  # noqa: E402
from resviz.core.data.base import ImageSet  # noqa: E402
from resviz.core.models import build_model  # noqa: E402
from resviz.core.train.distributed import SINGLE  # noqa: E402
from resviz.core.train.evaluation import TestEvaluation  # noqa: E402
from resviz.core.train.responses import RESPONSE_IMAGES, measure_responses  # noqa: E402


def _nets(depths: list[int]) -> list[str]:
    return [arch_name(d, plain) for plain in (True, False) for d in depths]


def _step_seconds(model, x, y, opt) -> float:
    t0 = time.perf_counter()
    loss = torch.nn.functional.cross_entropy(model(x), y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return time.perf_counter() - t0


@torch.no_grad()
def _old_eval_seconds(model, images, labels, mean) -> float:
    """The evaluation before issue #18: no_grad, batches of 500, then Fig. 7's pass apart."""
    t0 = time.perf_counter()
    model.eval()
    for i in range(0, len(images), 500):
        (model(normalise(images[i : i + 500], mean)).argmax(dim=1) != labels[i : i + 500]).sum()
    model.train()
    measure_responses(model, images[:RESPONSE_IMAGES], mean)
    return time.perf_counter() - t0


def _new_eval_seconds(evaluation: TestEvaluation, full: bool) -> float:
    t0 = time.perf_counter()
    evaluation.run(full)
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--depths", default="20,56")
    p.add_argument("--iters", type=int, default=300)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--subset", type=int, default=1000)
    p.add_argument("--test-images", type=int, default=10_000)
    p.add_argument("--evaluations", type=int, default=10)
    p.add_argument("--repeats", type=int, default=2, help="timed rounds after a warm-up (the median is used)")
    p.add_argument("--threads", type=int)
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(args.batch, 3, 32, 32, generator=g).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (args.batch,), generator=g)
    split = ImageSet(
        torch.randint(0, 256, (args.test_images, 3, 32, 32), dtype=torch.uint8, generator=g),
        torch.arange(args.test_images) % 10,  # balanced classes, as CIFAR-10's test split
    )
    mean = torch.full((3, 1, 1), 0.5)
    names = _nets([int(d) for d in args.depths.split(",")])
    models = {n: build_model(n, num_classes=10).to(memory_format=torch.channels_last).train() for n in names}
    opts = {n: torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4) for n, m in models.items()}
    evals = {
        n: TestEvaluation(m, split, mean, SINGLE, subset=args.subset, channels_last=True) for n, m in models.items()
    }
    sub_images, sub_labels = split.images[evals[names[0]].subset_index], split.labels[evals[names[0]].subset_index]
    step: dict[str, list[float]] = {n: [] for n in names}
    old: dict[str, list[float]] = {n: [] for n in names}
    new: dict[str, list[float]] = {n: [] for n in names}
    for r in range(args.repeats + 1):  # round 0 warms up and is dropped
        for n in names:
            s = _step_seconds(models[n], x, y, opts[n])
            o = _old_eval_seconds(models[n], sub_images, sub_labels, mean)
            e = _new_eval_seconds(evals[n], full=False)
            if r:
                step[n].append(s)
                old[n].append(o)
                new[n].append(e)
    new_full = {n: _new_eval_seconds(evals[n], full=True) for n in names}
    step_s = {n: statistics.median(v) for n, v in step.items()}
    old_s = {n: statistics.median(v) for n, v in old.items()}
    new_s = {n: statistics.median(v) for n, v in new.items()}
    # the old evaluation of the whole split: the plain pass over all of it, and the 500 probed
    old_full = {n: v * (args.test_images + RESPONSE_IMAGES) / (args.subset + RESPONSE_IMAGES) for n, v in old_s.items()}
    train = args.iters * sum(step_s.values())
    before = args.evaluations * sum(old_full.values())
    after = (args.evaluations - 1) * sum(new_s.values()) + sum(new_full.values())
    print(
        json.dumps(
            {
                "machine": machine(),
                "nets": names,
                "iters": args.iters,
                "batch": args.batch,
                "step_seconds": {n: round(v, 4) for n, v in step_s.items()},
                "subset_eval_seconds_before": {n: round(v, 4) for n, v in old_s.items()},
                "subset_eval_seconds_after": {n: round(v, 4) for n, v in new_s.items()},
                "full_eval_seconds_after": {n: round(v, 3) for n, v in new_full.items()},
                "subset_images": args.subset,
                "test_images": args.test_images,
                "train_seconds": round(train, 1),
                "eval_seconds_before": round(before, 1),
                "eval_seconds_after": round(after, 1),
                "eval_share_before": round(before / (train + before), 4),
                "eval_share_after": round(after / (train + after), 4),
                "note": "modelled from the measured parts; the machine may be shared (see load_average)",
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
