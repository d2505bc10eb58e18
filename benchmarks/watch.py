"""What watching a training loop costs: resviz.watch beside wandb.watch and TensorBoard (issue #21).

A plain PyTorch loop (SGD, cross-entropy, random 32x32 images: the times do not depend on
the pixels) trains a torchvision resnet18 and the paper's resnet20 on the CPU, four ways:

* ``none``: no monitor;
* ``resviz``: ``resviz.watch(model, run_dir, every=10)`` and ``watch.step(...)`` each step
  (residual ratios, response stds and every layer's gradient norm every 10 steps);
* ``wandb``: ``wandb.watch(model, log="gradients", log_freq=10)`` in offline mode (a temporary
  folder), with ``wandb.log({"loss": ...})`` every 10 steps;
* ``tensorboard``: ``add_histogram`` of every parameter's gradient and ``add_scalar`` of the
  loss every 10 steps (torch.utils.tensorboard, a temporary folder).

Every arm is built first (and warmed up), then the arms are timed interleaved, one round
of ``--steps`` steps each in turn with the order rotated every round, so drifts in machine
load hit all of them alike. A ratio is an arm's time over ``none``'s: the median of the
per-round ratios (and the ratio of the summed times), of wall time and of this process's
CPU time. On a loaded shared CPU the wall times of one round swing by 2x with the other
processes; the CPU time this process spends does not, so its ratios are the ones to read
there. ``resviz_step_share`` is the fraction of the resviz arm's wall time spent inside
``watch.step()`` (records included; the forward hooks' few norms aside). (wandb does part of its work in its own service process, whose CPU time is not
counted: its CPU ratio is a lower bound.) Prints JSON with the CPU model and load; asserts
nothing. Target (issue #21): resviz <= 1.03x. The peers are the ``bench``
extra (``pip install resviz[bench]``); an arm whose package is missing is reported so.

    python benchmarks/watch.py                       # defaults: batch 32, 20 steps x 8 rounds
    python benchmarks/watch.py --models resnet20 --rounds 12 --threads 1
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402

ARMS = ("none", "resviz", "wandb", "tensorboard")


def build(name: str):
    import torch

    torch.manual_seed(0)
    if name == "resnet18":
        import torchvision

        return torchvision.models.resnet18(num_classes=10)
    from resviz.core.models import build_model

    return build_model(name, num_classes=10)


class Arm:
    """One model trained under one monitor."""

    def __init__(self, model_name: str, monitor: str, tmp: Path, batch: int, size: int) -> None:
        import torch

        self.monitor = monitor
        self.model = build(model_name).train()
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.01, momentum=0.9)
        g = torch.Generator().manual_seed(1)
        self.x = torch.randn(batch, 3, size, size, generator=g)
        self.y = torch.randint(0, 10, (batch,), generator=g)
        self.steps = 0
        self.in_step = 0.0  # wall seconds spent inside watch.step() (resviz's own work, hooks aside)
        self.watch = self.writer = self.wandb = None
        if monitor == "resviz":
            import resviz

            self.watch = resviz.watch(self.model, tmp / f"resviz-{model_name}", every=10)
        elif monitor == "wandb":
            import wandb

            self.wandb = wandb
            wandb.watch(self.model, log="gradients", log_freq=10)
        elif monitor == "tensorboard":
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(tmp / f"tb-{model_name}"))

    def train(self, steps: int) -> tuple[float, float]:
        """(wall seconds, CPU seconds of this process) for ``steps`` steps."""
        import torch.nn.functional as F

        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(steps):
            self.steps += 1
            logits = self.model(self.x)
            loss = F.cross_entropy(logits, self.y)
            loss.backward()
            if self.watch is not None:
                t = time.perf_counter()
                self.watch.step(loss=loss, logits=logits, targets=self.y, lr=0.01)
                self.in_step += time.perf_counter() - t
            elif self.wandb is not None and self.steps % 10 == 0:
                self.wandb.log({"loss": loss.item()})
            elif self.writer is not None and self.steps % 10 == 0:
                self.writer.add_scalar("loss", loss.item(), self.steps)
                for name, p in self.model.named_parameters():
                    if p.grad is not None:
                        self.writer.add_histogram(f"grad/{name}", p.grad, self.steps)
            self.opt.step()
            self.opt.zero_grad()
        if self.writer is not None:
            self.writer.flush()
        return time.perf_counter() - start, time.process_time() - cpu

    def close(self) -> None:
        if self.watch is not None:
            self.watch.close()
        if self.writer is not None:
            self.writer.close()


def available(monitor: str) -> str | None:
    """None when the monitor can run here, else why not."""
    module = {"wandb": "wandb", "tensorboard": "tensorboard"}.get(monitor)
    if module is None:
        return None
    try:
        __import__(module)
    except ImportError as exc:
        return f"not installed ({exc}); pip install resviz[bench]"
    return None


def _ratios(kind: str, times: list[float], base: list[float]) -> dict[str, float]:
    """An arm's time over no monitor's: the median of the per-round ratios, and of the sums."""
    return {
        f"ratio_{kind}_median": round(statistics.median(x / b for x, b in zip(times, base, strict=True)), 4),
        f"ratio_{kind}_total": round(sum(times) / sum(base), 4),
    }


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default="resnet18,resnet20")
    p.add_argument("--arms", default=",".join(ARMS))
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--steps", type=int, default=20, help="steps per arm per round (a multiple of 10 probes alike)")
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument(
        "--warmup",
        type=int,
        default=10,
        help="untimed steps per arm first (10: the first record, which writes config.json, is one)",
    )
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    arms = [a for a in args.arms.split(",") if a]
    skipped = {a: why for a in arms if (why := available(a))}
    arms = [a for a in arms if a not in skipped]
    out: dict = {
        "benchmark": "watch",
        "machine_before": machine(args),
        "settings": {k: getattr(args, k) for k in ("batch", "size", "steps", "rounds", "warmup", "threads")},
        "skipped": skipped,
        "models": {},
    }
    with tempfile.TemporaryDirectory(prefix="resviz-watch-bench-") as tmp_name:
        tmp = Path(tmp_name)
        run = None
        if "wandb" in arms:
            os.environ.update(WANDB_MODE="offline", WANDB_DIR=str(tmp), WANDB_SILENT="true", WANDB_CONSOLE="off")
            import wandb

            with contextlib.redirect_stdout(io.StringIO()):
                run = wandb.init(project="resviz-watch-bench", dir=str(tmp), mode="offline")
        try:
            for model_name in args.models.split(","):
                built = {a: Arm(model_name, a, tmp, args.batch, args.size) for a in arms}
                for arm in built.values():
                    arm.train(args.warmup)
                    arm.in_step_warmup = arm.in_step
                walls: dict[str, list[float]] = {a: [] for a in arms}
                cpus: dict[str, list[float]] = {a: [] for a in arms}
                for r in range(args.rounds):
                    order = arms[r % len(arms) :] + arms[: r % len(arms)]  # rotated: no arm always first
                    for a in order:
                        wall, cpu = built[a].train(args.steps)
                        walls[a].append(wall)
                        cpus[a].append(cpu)
                for arm in built.values():
                    arm.close()
                if "resviz" in built:  # timed directly, so the machine's load hardly matters
                    spent = built["resviz"].in_step - built["resviz"].in_step_warmup
                    out.setdefault("resviz_step_share", {})[model_name] = round(spent / sum(walls["resviz"]), 5)
                images = args.batch * args.steps
                out["models"][model_name] = {
                    a: {
                        "images_per_s_median": round(images / statistics.median(walls[a]), 1),
                        **_ratios("cpu", cpus[a], cpus["none"]),
                        **_ratios("wall", walls[a], walls["none"]),
                        "round_cpu_seconds": [round(x, 3) for x in cpus[a]],
                        "round_wall_seconds": [round(x, 3) for x in walls[a]],
                    }
                    for a in arms
                }
        finally:
            if run is not None:
                with contextlib.redirect_stdout(io.StringIO()):
                    run.finish()
    out["machine_after"] = machine(args)
    out["target"] = "resviz ratio <= 1.03 (issue #21)"
    print(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
