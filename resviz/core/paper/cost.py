"""What the paper experiment costs on this device, measured before it starts (issue #12).

For each depth a net is built on the chosen device and trained for a few steps on random
images of the data set's shape, uncounted warm-up first (allocator, cuDNN's algorithm
search), then timed, and its inference speed is timed the same way. Plain and residual
twins share one measurement: they run the same convolutions (the shortcut's addition is
noise beside them). The estimate is then the work over the speed: every net's remaining
iterations times the batch, plus its evaluations (the test split and the Fig. 7 batch,
``eval_every`` apart).

The step measured is the eager one (with bf16 and channels-last where the run would use
them on CUDA); a compiled step is faster, so on a GPU the estimate errs long.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..durations import format_long_duration
from ..limits import LONG_JOB_SECONDS
from ..train.config import TrainConfig
from .numbers import FULL_SCHEDULE

__all__ = [
    "BUDGET_CHOICES",
    "CostEstimate",
    "DataShape",
    "NetCost",
    "Speed",
    "estimate_cost",
    "guess_shape",
    "measure_speed",
    "measure_speeds",
    "shape_of",
]

#: The budgets the estimate offers instead of an hours-long one (iterations per net).
BUDGET_CHOICES = (64_000, 32_000, 16_000, 8_000, 4_000, 2_000, 1_000, 500, 200, 100)


@dataclass(frozen=True)
class DataShape:
    """What the cost depends on: image shape, classes, and the splits' sizes."""

    channels: int
    size: int
    classes: int
    train: int
    test: int


def shape_of(dataset) -> DataShape:
    """The shape of a loaded :class:`~resviz.core.data.DataSet`."""
    c, h, _ = dataset.image_shape
    return DataShape(c, h, dataset.num_classes, len(dataset.train), len(dataset.test))


def guess_shape(data: str, size: int | None = None) -> DataShape:
    """The shape of a data set without decoding it (the app's dialog, before any choice is made).

    CIFAR-10 is known; a folder is counted (classes and files of train/ and test/); the
    digits set is small enough to load.
    """
    if data == "cifar10":
        return DataShape(3, 32, 10, 50_000, 10_000)
    if data == "digits":
        from ..data import load_dataset

        return shape_of(load_dataset("digits", size=size))
    from ..data.folder import IMAGE_EXTENSIONS

    counts = {}
    for split in ("train", "test"):
        folder = Path(data).expanduser() / split
        classes = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")] if folder.is_dir() else []
        counts[split] = (
            len(classes),
            sum(1 for c in classes for f in c.iterdir() if f.suffix.lower() in IMAGE_EXTENSIONS),
        )
    return DataShape(3, size or 32, max(counts["train"][0], 1), counts["train"][1], counts["test"][1])


@dataclass(frozen=True)
class Speed:
    """Measured images per second of one depth: training steps and inference."""

    depth: int
    train_images_per_s: float
    eval_images_per_s: float


def measure_speed(depth: int, shape: DataShape, config: TrainConfig, *, steps: int = 2, warmup: int = 1) -> Speed:
    """Train ``resnet{depth}`` for ``warmup`` uncounted then ``steps`` timed steps on random
    images of ``shape`` on ``config``'s device and batch size; time inference alike."""
    import torch

    threads = torch.get_num_threads()
    if config.threads:
        torch.set_num_threads(config.threads)  # as the trainer will: the speed depends on it
    try:
        return _measure(depth, shape, config, steps, warmup)
    finally:
        # torch's thread count is the whole process's: the app's estimate runs beside the
        # window, whose own torch work must not be left on the trainer's count (issue 19).
        torch.set_num_threads(threads)


def _measure(depth: int, shape: DataShape, config: TrainConfig, steps: int, warmup: int) -> Speed:
    import torch
    import torch.nn.functional as F

    from ..device import resolve_device
    from ..models import build_model

    device = resolve_device(config.device)
    cuda = device.type == "cuda"
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = build_model(f"resnet{depth}", num_classes=shape.classes).to(device)
        x = torch.randn(config.batch_size, shape.channels, shape.size, shape.size, device=device)
        y = torch.randint(0, shape.classes, (config.batch_size,), device=device)
    channels_last = cuda and config.channels_last
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    autocast = {"device_type": device.type, "dtype": torch.bfloat16, "enabled": cuda and config.bf16}

    def train_step() -> None:
        with torch.autocast(**autocast):
            loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def eval_step() -> None:
        with torch.no_grad(), torch.autocast(**autocast):
            model(x)

    def timed(fn: Callable[[], None], n: int) -> float:
        for _ in range(warmup):
            fn()
        if cuda:
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        for _ in range(n):
            fn()
        if cuda:
            torch.cuda.synchronize(device)
        return max(time.perf_counter() - start, 1e-9) / n

    model.train()
    train_s = timed(train_step, steps)
    model.eval()
    eval_s = timed(eval_step, steps)
    return Speed(depth, config.batch_size / train_s, config.batch_size / eval_s)


@dataclass
class NetCost:
    name: str
    iters: int  # iterations still to train
    seconds: float


@dataclass
class CostEstimate:
    """The estimated wall time of the nets still to train, and what to do if it is long."""

    device: str
    nets: list[NetCost]
    seconds: float
    #: Every net of the plan from scratch at the paper's 64,000 iterations.
    full_schedule_seconds: float
    iters: int
    #: (command-line options, seconds) of a smaller experiment that stays under
    #: LONG_JOB_SECONDS, where the plan does not: the longest of BUDGET_CHOICES for the same
    #: nets, else for the shallowest ResNet and its plain twin alone.
    suggestion: tuple[str, float] | None = None
    speeds: dict[int, Speed] = field(default_factory=dict)

    @property
    def long(self) -> bool:
        """Longer than :data:`~resviz.core.limits.LONG_JOB_SECONDS`: needs the user's yes."""
        return self.seconds > LONG_JOB_SECONDS

    def lines(self) -> list[str]:
        """What the CLI prints and the app's dialog shows, one line each."""
        per = ", ".join(f"{n.name} {format_long_duration(n.seconds)}" for n in self.nets)
        out = [
            f"estimated time on {self.device}: about {format_long_duration(self.seconds)} for {len(self.nets)} net(s)"
            + (f" ({per})" if per else "")
        ]
        if self.iters < FULL_SCHEDULE:
            out.append(
                f"the paper's full schedule ({FULL_SCHEDULE:,} iterations per net) would take about "
                f"{format_long_duration(self.full_schedule_seconds)} here"
            )
        elif self.iters == FULL_SCHEDULE and self.device.startswith("cpu"):
            out.append(f"that is the paper's full schedule ({FULL_SCHEDULE:,} iterations per net) on a CPU")
        if self.suggestion is not None:
            options, seconds = self.suggestion
            out.append(f"a smaller budget: {options} takes about {format_long_duration(seconds)}")
        out.append("measured on eager training steps; a compiled CUDA step is faster")
        return out


def _net_seconds(cfg: TrainConfig, remaining: int, shape: DataShape, speed: Speed) -> float:
    from ..train.responses import (
        RESPONSE_IMAGES,  # (torch: imported when an estimate is made, not before)
    )

    evals = -(-remaining // cfg.eval_every) if remaining else 0
    per_eval = (shape.test + min(RESPONSE_IMAGES, shape.test)) / speed.eval_images_per_s
    return remaining * cfg.batch_size / speed.train_images_per_s + evals * per_eval


def estimate_cost(
    plan,
    shape: DataShape,
    speeds: dict[int, Speed],
    *,
    device: str,
    remaining: dict[str, int] | None = None,
) -> CostEstimate:
    """The plan's cost from measured ``speeds`` (by depth). ``remaining``: iterations left per
    net (a resumed experiment); nets absent from it are done; None means every net from scratch."""
    from dataclasses import replace

    nets = plan.nets()
    left = remaining if remaining is not None else {name: cfg.iters for name, cfg in nets}
    costs = [
        NetCost(name, left[name], _net_seconds(cfg, left[name], shape, speeds[cfg.depth]))
        for name, cfg in nets
        if left.get(name)
    ]
    total = sum(c.seconds for c in costs)

    def from_scratch(p, iters: int) -> float:
        p = replace(p, iters=iters)
        return sum(_net_seconds(cfg, iters, shape, speeds[cfg.depth]) for _, cfg in p.nets())

    suggestion = None
    if total > LONG_JOB_SECONDS:
        # Fewer iterations first; where even 100 take too long (on a CPU the ~32 evaluations
        # of 10,000 test images alone can), the shallowest pair of nets.
        shallow = min(plan.depths)
        pair = replace(plan, depths=(shallow,), plain_depths=(shallow,) if plan.plain_depths else ())
        pair_options = f"--depths {shallow} --plain-depths {shallow if plan.plain_depths else 'none'} "
        for p, options in ((plan, ""), (pair, pair_options)):
            fits = [i for i in BUDGET_CHOICES if i < plan.iters and from_scratch(p, i) <= LONG_JOB_SECONDS]
            if fits:
                suggestion = (f"{options}--iters {fits[0]}", from_scratch(p, fits[0]))
                break
    return CostEstimate(device, costs, total, from_scratch(plan, FULL_SCHEDULE), plan.iters, suggestion, dict(speeds))


def measure_speeds(
    depths: Sequence[int],
    shape: DataShape,
    config: TrainConfig,
    *,
    known: dict[int, Speed] | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> dict[int, Speed]:
    """:func:`measure_speed` for every depth not in ``known`` (the app keeps what it measured)."""
    speeds = dict(known or {})
    for d in sorted(set(depths)):
        if d not in speeds:
            if on_progress:
                on_progress(f"measuring the speed of {d}-layer nets ...")
            speeds[d] = measure_speed(d, shape, config)
    return speeds
