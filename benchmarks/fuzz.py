"""Fuzz the image decoder, the checkpoint loader, output paths and checkpoint metadata (issues #9, #17).

Every case must end in one of two ways: **refused** cleanly (a ResvizError, whose message
the CLI prints in one line) or **accepted** (a decoded image, a loaded net). Anything else
is a **crash**: a traceback the user would see. Target: 0 crashes. The mutations (see
tests/fuzz_cases.py) are truncations, bit flips, spliced headers, oversized size fields
and inserted or deleted bytes; a fixed seed makes every run the same. Prints JSON with the
counts, the slowest case and the first crashes (their mutations replay them).

Issue #17 adds two classes. **Output paths**: every target (an input, a file of a run, a
link into a run, a hard link to an input, a pipe, a folder ...) under every way of writing
its name (without its suffix, upper case, a trailing slash, ``sub/..``) for figures and for
other files, checked and written as every verb does; a case is refused, correct, or **data
loss** (a file that must never change changed, or "wrote X" with no X). **Checkpoint
metadata**: a real checkpoint with one or two fields forged (a step of -1 or 10**20, a mean
that contradicts image_shape ...), loaded as ``eval`` loads it; refused, correct, or
**wrong** (accepted at another input size). Target: 0 crashes, 0 data loss, 0 wrong.

    python benchmarks/fuzz.py [--images 8000] [--checkpoints 2500] [--metadata 300] [--seed 0]
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


def _verdicts(cases) -> dict:
    """Counts per verdict of ``cases`` (an iterable of (case, verdict, detail)), the first bad ones."""
    counts: dict[str, int] = {}
    bad = []
    for case, verdict, detail in cases:
        counts[verdict] = counts.get(verdict, 0) + 1
        if verdict not in ("refused", "correct") and len(bad) < 10:
            bad.append({**case, "verdict": verdict, "detail": detail[:300]})
    return {"cases": sum(counts.values()), **counts, "first_bad": bad}


def _fuzz_outputs(folder: Path) -> dict:
    def cases():
        for i, (target, how, kind) in enumerate(
            (t, h, k)
            for t in fuzz_cases.OUTPUT_TARGETS
            for h in fuzz_cases.OUTPUT_DECORATIONS
            for k in (None, "figure")
        ):
            scenario = fuzz_cases.output_scenario(folder / f"out{i}")
            verdict, detail = fuzz_cases.output_verdict(scenario, target, how, kind)
            yield {"target": target, "name": how, "kind": kind or "file"}, verdict, detail

    return _verdicts(cases())


def _fuzz_metadata(n: int, rng: random.Random, folder: Path) -> dict:
    singles = fuzz_cases.metadata_cases()

    def cases():
        for i in range(n):
            changes = [singles[i]] if i < len(singles) else rng.sample(singles, 2)
            verdict, detail = fuzz_cases.metadata_verdict(folder / f"meta{i % 4}.pt", changes)
            yield {"changes": repr(changes)[:200]}, verdict, detail

    return _verdicts(cases())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=8000)
    parser.add_argument("--checkpoints", type=int, default=2500)
    parser.add_argument("--metadata", type=int, default=300, help="forged-metadata checkpoints (issue #17)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    started = time.perf_counter()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        images = _fuzz_images(args.images, rng)
        checkpoints = _fuzz_checkpoints(args.checkpoints, rng, Path(tmp))
        outputs = _fuzz_outputs(Path(tmp))
        metadata = _fuzz_metadata(args.metadata, rng, Path(tmp))
    total = {k: images[k] + checkpoints[k] for k in ("cases", "refused", "accepted", "crashed")}
    for part in (outputs, metadata):
        total["cases"] += part["cases"]
        total["refused"] += part.get("refused", 0)
        total["accepted"] += part.get("correct", 0)
        total["crashed"] += part.get("crash", 0)
    harmed = outputs.get("data loss", 0) + metadata.get("wrong", 0)
    print(
        json.dumps(
            {
                "benchmark": "fuzz",
                "seed": args.seed,
                **total,
                "data_loss_or_wrong": harmed,
                "target_crashed": 0,
                "meets_target": total["crashed"] == 0 and harmed == 0,
                "image_decoder": images,
                "checkpoint_loader": checkpoints,
                "output_paths": outputs,
                "checkpoint_metadata": metadata,
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
