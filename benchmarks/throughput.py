"""Training throughput of resviz's loop: eager or compiled, NCHW or channels-last, with
telemetry every k steps or off, and against a plain DataLoader + torchvision transforms
pipeline. Prints JSON; asserts nothing.

    python benchmarks/throughput.py                      # this CPU: the defaults' evidence
    python benchmarks/throughput.py --archs resnet56 --variants eager-cl --telemetry 10,off
    python benchmarks/throughput.py --device cuda --archs resnet20 \
        --variants eager-cl-bf16,compiled-cl-bf16 --dataloader   # what gpu_check.py runs

A variant is ``{eager|compiled}-{nchw|cl}[-bf16]``; each runs with every ``--telemetry``
setting (a number k, or ``off``). All of them are built first (compiled ones compile in
their warm-up, reported as ``compile_s`` and never timed), then timed interleaved, one
round of ``--steps`` steps each in turn (ABAB...), so that drifts in machine load hit all
of them alike; the median round counts.

Issue #3's target: telemetry every 10 steps costs at most 1.05x telemetry off. Issue #11:
the same holds compiled, and the CPU defaults (TrainConfig.channels_last, compile="auto",
resviz/core/train/compiled.py) follow what this shows on the project's machine:

    --archs resnet20 --variants eager-nchw,eager-cl,compiled-cl --steps 10 --rounds 12 --threads 1
    AMD EPYC, 2 cores shared with other work, load 2.1 falling to 1.2, batch 128, images/s
    (median round / best round), telemetry every 10 | off:
      eager NCHW           252 / 262 | 251 / 272    overhead 0.997 (best 1.035)
      eager channels-last  312 / 328 | 318 / 331    overhead 1.021 (best 1.011)
      compiled chan.-last  356 / 373 | 360 / 377    overhead 1.013 (best 1.012)
    so channels-last is 1.25x NCHW, compiling 1.14x more (1.41x NCHW eager); the compile of
    both graphs took 149 s cold (a fresh cache, load 1-4) and 12 s warm (see use_compile). Two torch threads on this shared machine
    were slower and far noisier than one (a descheduled OpenMP thread stalls every op).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402
from _common import machine  # noqa: E402

from resviz.core.data import Augment, DataSet, ImageSet  # noqa: E402
from resviz.core.train import TrainConfig, Trainer  # noqa: E402


def synthetic_cifar(n_train: int, n_test: int = 500, seed: int = 0, size: int = 32) -> DataSet:
    """Random ``size`` x ``size`` RGB images (32, CIFAR's, by default; ``--size`` for the
    ImageNet nets): throughput does not depend on what the pixels show."""
    g = torch.Generator().manual_seed(seed)
    make = lambda n: ImageSet(  # noqa: E731
        torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8, generator=g),
        torch.randint(0, 10, (n,), generator=g),
    )
    return DataSet(
        "synthetic-cifar", make(n_train), make(n_test), [str(i) for i in range(10)], augment=Augment(4, True)
    )


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def seconds_per_step(step, steps: int, device: torch.device) -> float:
    """Mean seconds of ``step()`` over ``steps`` calls, the device drained at both ends."""
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(device)
    return (time.perf_counter() - t0) / steps


def time_trainer(trainer: Trainer, steps: int) -> float:
    """Seconds per step of the trainer's own loop."""
    return seconds_per_step(trainer._train_step, steps, trainer.device)


class DataLoaderBaseline:
    """The common reproduction's input pipeline: per-image torchvision transforms on PIL
    images in DataLoader workers, batches copied to the device, an eager fp32 NCHW model.

    ``root`` is an ImageFolder tree (``root/train/<class>/*.jpg``, the shared CIFAR-10
    archive unpacked) read from disk as the reproduction does; without it the images come
    from memory (``data``), which spares the JPEG decoding.
    """

    def __init__(
        self,
        arch: str,
        data: DataSet,
        batch_size: int,
        device: torch.device,
        workers: int,
        root: str | Path | None = None,
    ) -> None:
        import numpy as np
        from torchvision import datasets, transforms

        from resviz.core.models import build_model

        tf = transforms.Compose(
            [
                transforms.RandomCrop(32, padding=4),
                transforms.RandomHorizontalFlip(),
                transforms.ToTensor(),
                transforms.Normalize((0.49, 0.48, 0.45), (0.25, 0.24, 0.26)),
            ]
        )

        class _Images(torch.utils.data.Dataset):
            def __init__(self, images: torch.Tensor, labels: torch.Tensor) -> None:
                self.images = images.permute(0, 2, 3, 1).numpy()  # HWC uint8, as CIFAR10.data
                self.labels = labels.numpy()

            def __len__(self) -> int:
                return len(self.labels)

            def __getitem__(self, i):
                from PIL import Image

                return tf(Image.fromarray(np.ascontiguousarray(self.images[i]))), int(self.labels[i])

        source = (
            datasets.ImageFolder(str(Path(root) / "train"), transform=tf)
            if root
            else _Images(data.train.images, data.train.labels)
        )
        self.device = device
        self.model = build_model(arch, num_classes=10).to(device).train()
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
        self.loader = torch.utils.data.DataLoader(
            source,
            batch_size=batch_size,
            shuffle=True,
            drop_last=True,
            num_workers=workers,
            pin_memory=device.type == "cuda",
            persistent_workers=workers > 0,
        )
        self._it = iter(self.loader)

    def _next(self):
        try:
            return next(self._it)
        except StopIteration:
            self._it = iter(self.loader)
            return next(self._it)

    def step(self) -> None:
        x, y = self._next()
        x, y = x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)
        loss = torch.nn.functional.cross_entropy(self.model(x), y)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()

    def time(self, steps: int) -> float:
        return seconds_per_step(self.step, steps, self.device)


def parse_variant(name: str) -> dict:
    """``compiled-cl-bf16`` -> the TrainConfig settings it stands for."""
    parts = name.split("-")
    if parts[0] not in ("eager", "compiled") or len(parts) < 2 or parts[1] not in ("nchw", "cl"):
        raise SystemExit(f"bad variant {name!r}: use {{eager|compiled}}-{{nchw|cl}}[-bf16]")
    return {
        "compile": "on" if parts[0] == "compiled" else "off",
        "channels_last": parts[1] == "cl",
        "bf16": "bf16" in parts[2:],
    }


def build_trainer(arch: str, data: DataSet, batch_size: int, device: str, variant: str) -> Trainer:
    """A trainer for one variant that never records, evaluates or checkpoints on its own:
    :func:`timer` sets how often it records telemetry."""
    cfg = TrainConfig(
        arch=arch,
        iters=10**9,
        batch_size=batch_size,
        device=device,
        telemetry_every=10**9,
        eval_every=10**9,
        checkpoint_every=10**9,
        **parse_variant(variant),
    )
    return Trainer(cfg, dataset=data)


def timer(trainer: Trainer, telemetry: str):
    """Seconds per step of ``trainer`` with telemetry every k steps (``telemetry``) or "off".

    One trainer serves every telemetry setting (the loop reads ``telemetry_every`` at each
    step), so a compiled variant compiles once; with ``steps`` a multiple of k, every round
    holds the same number of records.
    """
    k = 10**9 if telemetry == "off" else int(telemetry)

    def run(steps: int) -> float:
        trainer.config.telemetry_every = k
        return time_trainer(trainer, steps)

    return run


def interleaved(timers: dict, steps: int, rounds: int, warmup_steps: int) -> dict[str, list[float]]:
    """Seconds per step of every timer, ``rounds`` times, one round of each in turn (ABAB)."""
    for t in timers.values():
        if warmup_steps:
            t(warmup_steps)
    per_step: dict[str, list[float]] = {name: [] for name in timers}
    for _ in range(rounds):
        for name, t in timers.items():
            per_step[name].append(t(steps))
    return per_step


def summarise(per_step: dict[str, list[float]], batch_size: int, compile_s: dict) -> dict:
    """images/s of the median round and of the best round, the rounds, and compile times.

    On a shared machine the best round is the one least slowed by other work; both are
    given, and the ratios below are taken of both.
    """
    out = {}
    for name, times in per_step.items():
        med = statistics.median(times)
        out[name] = {
            "images_per_s": round(batch_size / med, 1),
            "s_per_step": med,
            "best_images_per_s": round(batch_size / min(times), 1),
            "best_s_per_step": min(times),
            "rounds_s_per_step": [round(t, 5) for t in times],
            "compile_s": compile_s.get(name.split("/")[0]),
        }
    return out


def overheads(variants: dict, names: list[str], telemetry: list[str]) -> dict[str, float]:
    """Per variant: seconds per step with telemetry every k over telemetry off (median
    rounds; ``best``: best rounds)."""
    ks = [t for t in telemetry if t != "off"]
    if not ks or "off" not in telemetry:
        return {}
    out = {}
    for key, suffix in (("s_per_step", ""), ("best_s_per_step", "/best")):
        out.update(
            {
                v + suffix: round(variants[f"{v}/tel{ks[0]}"][key] / variants[f"{v}/off"][key], 3)
                for v in names
                if f"{v}/off" in variants and f"{v}/tel{ks[0]}" in variants
            }
        )
    return out


def measure_arch(arch: str, data: DataSet, args: argparse.Namespace) -> dict:
    """One architecture: every variant x telemetry setting, and the DataLoader baseline."""
    timers, compile_s = {}, {}
    names, telemetry = args.variants.split(","), args.telemetry.split(",")
    for variant in names:
        trainer = build_trainer(arch, data, args.batch_size, args.device, variant)
        compile_s[variant] = round(trainer.warm_up(), 2) or None  # compile (if any), untimed
        for tel in telemetry:
            timers[f"{variant}/tel{tel}" if tel != "off" else f"{variant}/off"] = timer(trainer, tel)
    if args.dataloader:
        base = DataLoaderBaseline(arch, data, args.batch_size, torch.device(args.device), args.workers)
        timers["dataloader"] = base.time
    per_step = interleaved(timers, args.steps, args.rounds, args.warmup_steps)
    row: dict = {
        "arch": arch,
        "batch_size": args.batch_size,
        "variants": summarise(per_step, args.batch_size, compile_s),
    }
    row["telemetry_overhead"] = overheads(row["variants"], names, telemetry)
    if args.dataloader:
        best = min(v["s_per_step"] for k, v in row["variants"].items() if k != "dataloader")
        row["speedup_vs_dataloader"] = round(row["variants"]["dataloader"]["s_per_step"] / best, 2)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--archs", default="resnet20")
    ap.add_argument(
        "--variants",
        default="eager-nchw,eager-cl,compiled-nchw,compiled-cl",
        help="comma-separated {eager|compiled}-{nchw|cl}[-bf16]",
    )
    ap.add_argument("--telemetry", default="10,off", help="telemetry settings: numbers k and/or off")
    ap.add_argument("--dataloader", action="store_true", help="also time the DataLoader + transforms baseline")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--steps", type=int, default=20, help="timed steps per round and variant (a multiple of k)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--warmup-steps", type=int, default=3)
    ap.add_argument("--train-images", type=int, default=5000)
    ap.add_argument("--workers", type=int, default=4, help="DataLoader workers for the baseline")
    ap.add_argument("--threads", type=int)
    ap.add_argument(
        "--size", type=int, default=32, help="image side: 32 for the CIFAR nets; e.g. 64 or 224 for resnet18/resnet50"
    )
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    data = synthetic_cifar(args.train_images, size=args.size)
    before = machine()
    results = [measure_arch(arch, data, args) for arch in args.archs.split(",")]
    device_name = (
        torch.cuda.get_device_name() if args.device.startswith("cuda") else f"cpu ({torch.get_num_threads()} threads)"
    )
    print(
        json.dumps(
            {
                "benchmark": "throughput",
                "device": device_name,
                "torch": torch.__version__,
                "machine": before,
                "load_average_end": machine()["load_average"],
                "steps": args.steps,
                "rounds": args.rounds,
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
