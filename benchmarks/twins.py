"""Vectorised twins (issue #11): plain-N and resnet-N as one ``vmap``-ed model, or one after the other.

A lockstep group's twins share an architecture; only the shortcut differs. Stacking their
weights (``torch.func.stack_module_state``) and mapping one functional forward over them
(``torch.func.vmap``) with the shortcut as a per-model factor (1: residual, 0: plain) turns
two nets' small kernels into one kernel of twice the work each: a way to fill a GPU that a
16-channel net leaves idle. This script measures whether it wins, against the two nets'
steps one after the other (resviz's own :class:`~resviz.core.train.compiled.TrainStep`,
eager or compiled). It lives here, not in ``resviz.core``, until a measurement says it
wins (issue #11: "try it, measure it, keep it if it wins").

Measured on the project's CPU (AMD EPYC, 2 shared cores, load 2-2.5, one thread), resnet20
twins, batch 128, 4 ABAB rounds of 3 steps: 200 images/s vmapped against 262 for the two
eager steps in turn, a speed-up of 0.76 (the batched convolutions become grouped ones,
which oneDNN runs slower; the logits agree exactly): it loses on the CPU.
benchmarks/gpu_check.py measures it on a GPU. Prints JSON.

    python benchmarks/twins.py [--depth 20] [--device cpu] [--steps 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch
import torch.nn.functional as F

from resviz.core.models import ResNet, build_model


def _bn(x, p, b, name: str):
    return F.batch_norm(
        x,
        b[f"{name}.running_mean"],
        b[f"{name}.running_var"],
        p[f"{name}.weight"],
        p[f"{name}.bias"],
        training=True,
        momentum=0.1,
        eps=1e-5,
    )


def twin_forward(structure: ResNet):
    """``f(params, buffers, shortcut, x) -> logits`` of one CIFAR net (option A), functional,
    with ``shortcut`` a 0/1 factor on every block's identity path, to ``vmap`` over twins."""
    if structure.family != "cifar" or any(b.downsample is not None for b in structure.blocks()):
        raise ValueError("vectorised twins are written for the CIFAR nets with option A shortcuts")
    names = [(f"{stage}.{j}", block) for stage in structure.stages for j, block in enumerate(getattr(structure, stage))]

    def forward(p, b, shortcut, x):
        h = F.relu(_bn(F.conv2d(x, p["conv1.weight"], padding=1), p, b, "bn1"))
        for name, block in names:
            out = F.relu(
                _bn(F.conv2d(h, p[f"{name}.conv1.weight"], stride=block.stride, padding=1), p, b, f"{name}.bn1")
            )
            out = _bn(F.conv2d(out, p[f"{name}.conv2.weight"], padding=1), p, b, f"{name}.bn2")
            identity = block.pad_shortcut(h) if block.pad_shortcut is not None else h
            h = F.relu(out + shortcut * identity)
        return F.linear(h.mean((2, 3)), p["fc.weight"], p["fc.bias"])

    return forward


class TwinStep:
    """One SGD step of both twins at once on the same batch (same images, same order)."""

    def __init__(self, nets: list[ResNet], *, compile: bool = False, bf16: bool = False) -> None:
        from torch.func import stack_module_state, vmap

        self.params, self.buffers = stack_module_state(nets)
        device = next(iter(self.params.values())).device
        self.shortcut = torch.tensor([1.0 if not n.is_plain else 0.0 for n in nets], device=device)
        forward = vmap(twin_forward(nets[0]), in_dims=(0, 0, 0, None))
        self.bf16 = bf16 and device.type == "cuda"

        def losses(params, buffers, shortcut, x, y):
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=self.bf16):
                logits = forward(params, buffers, shortcut, x)
                return sum(F.cross_entropy(logits[i], y) for i in range(logits.shape[0]))

        self._losses = torch.compile(losses, dynamic=False) if compile else losses
        self.optimizer = torch.optim.SGD(list(self.params.values()), lr=0.1, momentum=0.9, weight_decay=1e-4)

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> None:
        loss = self._losses(self.params, self.buffers, self.shortcut, x, y)
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)


class SequentialSteps:
    """The same twins stepped one after the other with resviz's own step."""

    def __init__(self, nets: list[ResNet], *, compile: bool = False, bf16: bool = False) -> None:
        from resviz.core.train.compiled import TrainStep

        device = next(nets[0].parameters()).device
        self.steps = [
            TrainStep(
                n,
                torch.optim.SGD(n.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4),
                device,
                compile=compile,
                bf16=bf16,
            )
            for n in nets
        ]

    def warm_up(self, x, y) -> float:
        return sum(s.warm_up(x, y) for s in self.steps)

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> None:
        for s in self.steps:
            s(x, y)


def twins(depth: int, device: torch.device) -> list[ResNet]:
    """resnet-N and plain-N from the same initial weights (the lockstep twins)."""
    torch.manual_seed(0)
    residual = build_model(f"resnet{depth}", num_classes=10).to(device).train()
    plain = copy.deepcopy(residual)
    plain.set_shortcuts(False)
    return [residual, plain]


def check_forward(nets: list[ResNet], x: torch.Tensor) -> float:
    """Largest |difference| of the vmapped logits from each net's own forward (should be ~0)."""
    from torch.func import stack_module_state, vmap

    copies = [copy.deepcopy(n) for n in nets]  # their BN statistics move: spare the originals
    params, buffers = stack_module_state(copies)
    shortcut = torch.tensor([0.0 if n.is_plain else 1.0 for n in nets], device=x.device)
    with torch.no_grad():
        got = vmap(twin_forward(nets[0]), in_dims=(0, 0, 0, None))(params, buffers, shortcut, x)
        want = [copy.deepcopy(n)(x) for n in nets]
    return max(float((g - w).abs().max()) for g, w in zip(got, want, strict=True))


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(
    depth: int,
    device: torch.device,
    *,
    batch: int = 128,
    steps: int = 5,
    rounds: int = 3,
    compile: bool = False,
    bf16: bool = False,
    deadline: float | None = None,
) -> dict:
    """images/s (both nets' images counted) of the vmapped twins and of the steps in turn."""
    g = torch.Generator(device="cpu").manual_seed(1)
    x = torch.randn(batch, 3, 32, 32, generator=g).to(device)
    y = torch.randint(0, 10, (batch,), generator=g).to(device)
    out: dict = {
        "depth": depth,
        "batch_size": batch,
        "compiled": compile,
        "bf16": bf16 and device.type == "cuda",
        "max_logit_difference": check_forward(twins(depth, device), x),
    }
    t0 = time.perf_counter()
    sides = {
        "vmap_twins": TwinStep(twins(depth, device), compile=compile, bf16=bf16),
        "one_after_the_other": SequentialSteps(twins(depth, device), compile=compile, bf16=bf16),
    }
    sides["one_after_the_other"].warm_up(x, y)
    for step in sides.values():  # first calls compile (if asked) and settle the allocator
        for _ in range(3):
            step(x, y)
    _sync(device)
    out["warm_up_s"] = round(time.perf_counter() - t0, 2)
    times: dict[str, list[float]] = {k: [] for k in sides}
    for _ in range(rounds):
        for name, step in sides.items():  # ABAB: load drifts hit both alike
            if deadline is not None and time.perf_counter() > deadline:
                break
            _sync(device)
            t = time.perf_counter()
            for _ in range(steps):
                step(x, y)
            _sync(device)
            times[name].append((time.perf_counter() - t) / steps)
    for name, ts in times.items():
        if ts:
            out[name] = {
                "images_per_s": round(2 * batch / statistics.median(ts), 1),
                "rounds_s_per_step": [round(t, 5) for t in ts],
            }
    if all(times.values()):
        out["vmap_speedup"] = round(
            statistics.median(times["one_after_the_other"]) / statistics.median(times["vmap_twins"]), 3
        )
        out["vmap_wins"] = out["vmap_speedup"] > 1.0
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--depth", type=int, default=20)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--threads", type=int)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    from _common import machine

    before = machine()
    result = measure(
        args.depth,
        torch.device(args.device),
        batch=args.batch_size,
        steps=args.steps,
        rounds=args.rounds,
        compile=args.compile,
    )
    print(
        json.dumps(
            {"benchmark": "twins", "machine": before, "load_average_end": machine()["load_average"], **result}, indent=2
        )
    )


if __name__ == "__main__":
    main()
