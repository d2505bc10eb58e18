"""Fuzz the image decoder and the checkpoint loader with mutated real files (issue #9).

Every case must end in one of two ways: **refused** cleanly (a ResvizError, whose message
the CLI prints in one line) or **accepted** (a decoded image, a loaded net). Anything else
is a **crash**: a traceback the user would see. Target: 0 crashes. The mutations (see
tests/fuzz_cases.py) are truncations, bit flips, spliced headers, oversized size fields
and inserted or deleted bytes; a fixed seed makes every run the same. Prints JSON with the
counts, the slowest case and the first crashes (their mutations replay them).

    python benchmarks/fuzz.py [--images 8000] [--checkpoints 2500] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
import traceback
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_ROOT))
sys.path.insert(0, str(_ROOT / "tests"))

import fuzz_cases  # noqa: E402  (tests/ is on sys.path)
from _common import cpu_model  # noqa: E402  (benchmarks/ is on sys.path when run)


class _Tally:
    def __init__(self) -> None:
        self.refused = self.accepted = self.crashed = 0
        self.crashes: list[dict] = []
        self.reasons: dict[str, int] = {}
        self.slowest = (0.0, None)

    def run(self, fn, case: dict) -> None:
        from resviz.core.errors import ResvizError

        started = time.perf_counter()
        try:
            fn()
            self.accepted += 1
        except ResvizError as exc:
            msg = str(exc)
            if "\n" in msg or "weights_only" in msg:  # a refusal must be one line, never torch's advice
                self._crash(case, f"bad message: {msg[:300]!r}")
            else:
                self.refused += 1
                words = " ".join(msg.split()[1:6])
                self.reasons[words] = self.reasons.get(words, 0) + 1
        except Exception as exc:  # noqa: BLE001  what the fuzzer is looking for
            self._crash(case, "".join(traceback.format_exception_only(type(exc), exc)).strip()[:400])
        seconds = time.perf_counter() - started
        if seconds > self.slowest[0]:
            self.slowest = (seconds, case)

    def _crash(self, case: dict, what: str) -> None:
        self.crashed += 1
        if len(self.crashes) < 10:
            self.crashes.append({**case, "error": what})

    def summary(self) -> dict:
        top = sorted(self.reasons.items(), key=lambda kv: -kv[1])[:8]
        return {
            "cases": self.refused + self.accepted + self.crashed,
            "refused": self.refused,
            "accepted": self.accepted,
            "crashed": self.crashed,
            "slowest_s": round(self.slowest[0], 3),
            "slowest_case": self.slowest[1],
            "top_refusals": dict(top),
            "first_crashes": self.crashes,
        }


def _fuzz_images(n: int, rng: random.Random) -> dict:
    from resviz.core.inspect.images import decode_image

    seeds = fuzz_cases.image_seeds()
    tally = _Tally()
    for _ in range(n):
        name = rng.choice(sorted(seeds))
        ops = fuzz_cases.random_ops(rng, seeds)
        data = fuzz_cases.apply(seeds[name], ops, seeds)
        tally.run(lambda data=data, name=name: decode_image(data, name=name), {"seed": name, "ops": repr(ops)})
    return tally.summary()


def _fuzz_checkpoints(n: int, rng: random.Random, folder: Path) -> dict:
    from resviz.core.inspect import load_model

    seeds = fuzz_cases.checkpoint_seeds()
    tally = _Tally()
    for i in range(n):
        name = rng.choice(sorted(seeds))
        ops = fuzz_cases.random_ops(rng, seeds)
        path = folder / f"case{i % 4}{'.safetensors' if name == 'safetensors' and rng.random() < 0.5 else '.pt'}"
        path.write_bytes(fuzz_cases.apply(seeds[name], ops, seeds))
        tally.run(lambda path=path: load_model(path), {"seed": name, "ops": repr(ops)})
    return tally.summary()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=8000)
    parser.add_argument("--checkpoints", type=int, default=2500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    started = time.perf_counter()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        images = _fuzz_images(args.images, rng)
        checkpoints = _fuzz_checkpoints(args.checkpoints, rng, Path(tmp))
    total = {k: images[k] + checkpoints[k] for k in ("cases", "refused", "accepted", "crashed")}
    print(
        json.dumps(
            {
                "benchmark": "fuzz",
                "seed": args.seed,
                **total,
                "target_crashed": 0,
                "meets_target": total["crashed"] == 0,
                "image_decoder": images,
                "checkpoint_loader": checkpoints,
                "seconds": round(time.perf_counter() - started, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "cpu": cpu_model(),
                "load_average_1min": round(os.getloadavg()[0], 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
