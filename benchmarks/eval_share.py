"""The share of a degradation experiment's time spent evaluating, before and after issue #18. Prints JSON.

    python benchmarks/eval_share.py                                   # plain/resnet 20 and 56, 300 iterations
    python benchmarks/eval_share.py --depths 8,14 --iters 600 --threads 1

Before, every evaluation of ``resviz experiment degradation`` (10 per net, ``eval_every =
iters // 10``) read the whole test split (10,000 CIFAR-10 images); now the first nine read
the fixed 1,000-image subset and only the last the whole split. Running the experiment
twice to compare takes hours on a shared 2-core CPU (the whole split alone costs each
56-layer net as much as ~10 training steps), so this measures the parts in one process,
alternating them so drifts in load hit both: one training step of each net (batch 128,
forward, backward, SGD, channels-last as the trainer runs it) and one evaluation pass of
``--subset`` test images; then it adds them up for both plans. An evaluation costs in
proportion to its images (batches of 500, no per-image work), so the whole split is 10,000
/ ``--subset`` subset passes. Fig. 7's response pass (a probed forward pass over 500 test
images at every evaluation) and the telemetry are left out of both (they are the same before
and after; counted as 500 more evaluated images they add half a subset pass per evaluation
at 1,000). Images are random:
the times do not depend on the pixels.
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
from resviz.core.models import build_model  # noqa: E402


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
def _eval_seconds(model, images) -> float:
    model.eval()
    t0 = time.perf_counter()
    for i in range(0, len(images), 500):
        model(images[i : i + 500]).argmax(dim=1)
    model.train()
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
    test = torch.randn(args.subset, 3, 32, 32, generator=g).contiguous(memory_format=torch.channels_last)
    names = _nets([int(d) for d in args.depths.split(",")])
    models = {n: build_model(n, num_classes=10).to(memory_format=torch.channels_last).train() for n in names}
    opts = {n: torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4) for n, m in models.items()}
    step: dict[str, list[float]] = {n: [] for n in names}
    ev: dict[str, list[float]] = {n: [] for n in names}
    for r in range(args.repeats + 1):  # round 0 warms up and is dropped
        for n in names:
            s, e = _step_seconds(models[n], x, y, opts[n]), _eval_seconds(models[n], test)
            if r:
                step[n].append(s)
                ev[n].append(e)
    step_s = {n: statistics.median(v) for n, v in step.items()}
    subset_s = {n: statistics.median(v) for n, v in ev.items()}
    full_s = {n: v * args.test_images / args.subset for n, v in subset_s.items()}
    train = args.iters * sum(step_s.values())
    before = args.evaluations * sum(full_s.values())
    after = (args.evaluations - 1) * sum(subset_s.values()) + sum(full_s.values())
    print(
        json.dumps(
            {
                "machine": machine(),
                "nets": names,
                "iters": args.iters,
                "batch": args.batch,
                "step_seconds": {n: round(v, 4) for n, v in step_s.items()},
                "subset_eval_seconds": {n: round(v, 4) for n, v in subset_s.items()},
                "subset_images": args.subset,
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
