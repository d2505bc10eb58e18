"""A lockstep group's throughput against the same nets trained one after the other. Prints JSON.

    python benchmarks/lockstep.py                                   # plain20 + resnet20 on digits, batch 128
    python benchmarks/lockstep.py --archs plain8,resnet8 --steps 40 --rounds 2
    python benchmarks/lockstep.py --device cuda --data cifar10 --archs plain20,plain56,resnet20,resnet56

Issue #11's target: a group's images/s (summed over its nets) is within 5 % of the same nets
trained one after the other on this CPU, i.e. ``ratio_group_to_one_after_another`` (of the
median times) >= 0.95; the ratio of each round's pair and of the fastest runs are beside it. Both sides run the real
loops (``LockstepGroup.run()`` and ``Trainer.run()`` per net: telemetry every 10 steps, the
final evaluation, no run folders); building the nets is not timed. The two sides alternate
(ABAB, the order flipped every round) so that drifts in machine load hit both alike; the
first round of each is a warm-up and is dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from _common import cpu_model  # noqa: E402  (benchmarks/ is on sys.path when run)

from resviz.core.data import load_dataset  # noqa: E402
from resviz.core.train import LockstepGroup, TrainConfig, Trainer  # noqa: E402


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_group(configs: list[TrainConfig], data) -> float:
    group = LockstepGroup(configs, dataset=data)
    _sync(group.device)
    t0 = time.perf_counter()
    statuses = group.run()
    _sync(group.device)
    assert statuses == ["finished"] * len(configs), statuses
    return time.perf_counter() - t0


def time_one_after_another(configs: list[TrainConfig], data) -> float:
    trainers = [Trainer(c, dataset=data) for c in configs]
    _sync(trainers[0].device)
    t0 = time.perf_counter()
    for t in trainers:
        assert t.run() == "finished"
    _sync(trainers[0].device)
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--archs", default="plain20,resnet20", help="the group's nets (default plain20,resnet20)")
    p.add_argument("--data", default="digits")
    p.add_argument("--data-root")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--steps", type=int, default=60, help="iterations per net and round")
    p.add_argument("--rounds", type=int, default=4, help="timed rounds per side, after one warm-up round")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1: a shared 2-core machine)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    archs = [a.strip() for a in args.archs.split(",") if a.strip()]
    configs = [
        TrainConfig(
            arch=a,
            data=args.data,
            data_root=args.data_root,
            iters=args.steps,
            batch_size=args.batch_size,
            telemetry_every=10,
            eval_every=args.steps,
            checkpoint_every=10 * args.steps,
            device=args.device,
        )
        for a in archs
    ]
    data = load_dataset(args.data, root=args.data_root)
    sides = {"group": time_group, "one_after_another": time_one_after_another}
    times: dict[str, list[float]] = {k: [] for k in sides}
    load_before = os.getloadavg()[0]
    for r in range(args.rounds + 1):
        order = list(sides) if r % 2 == 0 else list(sides)[::-1]
        for name in order:
            seconds = sides[name](configs, data)
            if r > 0:  # round 0 warms caches, allocators and the thread pool
                times[name].append(seconds)
    images = len(configs) * args.steps * args.batch_size
    median = {k: statistics.median(v) for k, v in times.items()}
    ips = {k: images / s for k, s in median.items()}
    ratio = ips["group"] / ips["one_after_another"]
    # Each round's two sides ran back to back: their ratio is the least disturbed by load drifts.
    paired = [b / a for a, b in zip(times["group"], times["one_after_another"], strict=True)]
    print(
        json.dumps(
            {
                "benchmark": "lockstep",
                "cpu": cpu_model(),
                "device": args.device,
                "threads": torch.get_num_threads(),
                "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
                "archs": archs,
                "data": data.name,
                "batch_size": args.batch_size,
                "steps_per_net": args.steps,
                "rounds": args.rounds,
                "seconds": {k: [round(s, 3) for s in v] for k, v in times.items()},
                "images_per_s": {k: round(v, 1) for k, v in ips.items()},
                "ratio_group_to_one_after_another": round(ratio, 4),
                "ratio_per_round": [round(x, 3) for x in paired],
                "ratio_of_fastest": round(min(times["one_after_another"]) / min(times["group"]), 4),
                "target": ">= 0.95",
                "meets_target": ratio >= 0.95,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
