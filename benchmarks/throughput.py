"""Training throughput of resviz's loop, with and without telemetry, and against a plain
DataLoader + torchvision transforms pipeline. Prints JSON; asserts nothing.

    python benchmarks/throughput.py                      # the CPU telemetry-overhead check
    python benchmarks/throughput.py --device cuda --archs resnet20,resnet56 \
        --pipelines telemetry,no-telemetry,dataloader --steps 200   # benchmarks/gpu_check.sh

Issue #3's target: with telemetry every 10 steps the step time is at most 1.05x that of
the same loop with telemetry off (resnet56, batch 128, 32x32, this CPU). The variants run
interleaved in rounds so that drifts in machine load hit all of them alike.
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

from resviz.core.data import Augment, DataSet, ImageSet  # noqa: E402
from resviz.core.train import TrainConfig, Trainer  # noqa: E402


def synthetic_cifar(n_train: int, n_test: int = 500, seed: int = 0) -> DataSet:
    """Random 32x32 RGB images: throughput does not depend on what the pixels show."""
    g = torch.Generator().manual_seed(seed)
    make = lambda n: ImageSet(  # noqa: E731
        torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g),
        torch.randint(0, 10, (n,), generator=g),
    )
    return DataSet("synthetic-cifar", make(n_train), make(n_test), [str(i) for i in range(10)], augment=Augment(4, True))


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
    """The usual PyTorch recipe: per-image torchvision transforms in DataLoader workers."""

    def __init__(self, arch: str, data: DataSet, batch_size: int, device: torch.device, workers: int) -> None:
        import numpy as np
        from torchvision import transforms
        from torchvision.transforms import v2  # noqa: F401  (imported to fail early if absent)

        from resviz.core.models import build_model

        class _Images(torch.utils.data.Dataset):
            def __init__(self, images: torch.Tensor, labels: torch.Tensor) -> None:
                self.images = images.permute(0, 2, 3, 1).numpy()  # HWC uint8, as CIFAR10.data
                self.labels = labels.numpy()
                self.tf = transforms.Compose([
                    transforms.RandomCrop(32, padding=4),
                    transforms.RandomHorizontalFlip(),
                    transforms.ToTensor(),
                    transforms.Normalize((0.49, 0.48, 0.45), (0.25, 0.24, 0.26)),
                ])

            def __len__(self) -> int:
                return len(self.labels)

            def __getitem__(self, i):
                from PIL import Image

                return self.tf(Image.fromarray(np.ascontiguousarray(self.images[i]))), int(self.labels[i])

        self.device = device
        self.model = build_model(arch, num_classes=10).to(device).train()
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
        self.loader = torch.utils.data.DataLoader(
            _Images(data.train.images, data.train.labels), batch_size=batch_size, shuffle=True, drop_last=True,
            num_workers=workers, pin_memory=device.type == "cuda", persistent_workers=workers > 0,
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--archs", default="resnet56")
    ap.add_argument("--pipelines", default="telemetry,no-telemetry")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--steps", type=int, default=20, help="timed steps per round and variant")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--warmup-steps", type=int, default=3)
    ap.add_argument("--telemetry-every", type=int, default=10)
    ap.add_argument("--train-images", type=int, default=5000)
    ap.add_argument("--workers", type=int, default=4, help="DataLoader workers for the baseline")
    ap.add_argument("--bf16", action="store_true")
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--threads", type=int)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    data = synthetic_cifar(args.train_images)
    pipelines = args.pipelines.split(",")
    results = []
    for arch in args.archs.split(","):
        variants = {}
        for p in pipelines:
            if p == "dataloader":
                variants[p] = DataLoaderBaseline(arch, data, args.batch_size, torch.device(args.device), args.workers)
                continue
            k = args.telemetry_every if p == "telemetry" else 10**9  # "off": no record until the end
            cfg = TrainConfig(arch=arch, iters=10**9, batch_size=args.batch_size, device=args.device,
                              telemetry_every=k, eval_every=10**9, checkpoint_every=10**9, bf16=args.bf16,
                              channels_last=args.channels_last)
            variants[p] = Trainer(cfg, dataset=data)
        # Warm up all (allocator, cudnn autotuning), then time them in interleaved rounds.
        timers = {p: (v.time if isinstance(v, DataLoaderBaseline) else (lambda s, v=v: time_trainer(v, s)))
                  for p, v in variants.items()}
        for t in timers.values():
            t(args.warmup_steps)
        per_step = {p: [] for p in variants}
        for _ in range(args.rounds):
            for p, t in timers.items():
                # With --steps a multiple of k every round holds the same number of records.
                per_step[p].append(t(args.steps))
        row = {"arch": arch, "batch_size": args.batch_size}
        for p, times in per_step.items():
            med = statistics.median(times)
            row[p] = {"s_per_step": med, "images_per_s": args.batch_size / med, "rounds": times}
        if "telemetry" in row and "no-telemetry" in row:
            row["telemetry_overhead_ratio"] = row["telemetry"]["s_per_step"] / row["no-telemetry"]["s_per_step"]
        if "dataloader" in row and "no-telemetry" in row:
            row["speedup_vs_dataloader"] = row["dataloader"]["s_per_step"] / row["no-telemetry"]["s_per_step"]
        results.append(row)
    device_name = torch.cuda.get_device_name() if args.device.startswith("cuda") else f"cpu ({torch.get_num_threads()} threads)"
    print(json.dumps({"benchmark": "throughput", "device": device_name, "torch": torch.__version__,
                      "telemetry_every": args.telemetry_every, "bf16": args.bf16,
                      "channels_last": args.channels_last, "results": results}, indent=2))


if __name__ == "__main__":
    main()
