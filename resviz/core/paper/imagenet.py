"""``resviz experiment imagenet``: the paper's ImageNet section (4.1), Fig. 4 and Table 2.

Plain-18/34 and ResNet-18/34 (``depths``), each with the ImageNet recipe of section 3.4
(:mod:`resviz.core.data.recipes`: scale augmentation, 224 crops, PCA lighting, batch 256,
lr 0.1 / 10 at epochs 30 and 60 of 90 standing in for the plateau rule), option A shortcuts
as in Table 2 ("identity mapping for all shortcuts and zero-padding for increasing
dimensions"), one seed for all, the folder streamed (:mod:`resviz.core.data.stream`).

The nets train one after another, each on every rank (under ``torchrun``: NCCL on GPUs,
Gloo on CPUs; rank 0 writes the run folders, which the app follows from the shared
folder). A net already finished is left alone; a stopped one resumes from its newest
checkpoint (under any number of ranks: the batch order does not depend on it). The cost is
measured before anything trains (:func:`measure_step_seconds`): a few steps of each net on
this machine, times its iterations.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from ..errors import ConfigError
from ..limits import LONG_JOB_SECONDS
from ..train.config import TrainConfig

__all__ = [
    "IMAGENET_PLAN_FILE",
    "PAPER_TABLE2",
    "ImageNetEstimate",
    "ImageNetPlan",
    "measure_step_seconds",
    "run_imagenet",
]

#: Table 2: top-1 error (%, 10-crop testing) on the ImageNet validation set.
PAPER_TABLE2: dict[tuple[str, int], float] = {
    ("plain", 18): 27.94,
    ("plain", 34): 28.54,
    ("resnet", 18): 27.88,
    ("resnet", 34): 25.03,
}
IMAGENET_PLAN_FILE = "imagenet.json"


@dataclass
class ImageNetPlan:
    """What the experiment trains; ``iters`` None: the recipe's 90 epochs of the folder."""

    data: str
    depths: tuple[int, ...] = (18, 34)
    iters: int | None = None
    batch_size: int = 256
    image_size: int = 224
    workers: int | None = None
    device: str = "auto"
    seed: int = 0
    threads: int | None = None
    overrides: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.depths = tuple(sorted({int(d) for d in self.depths}))
        if not self.depths or any(d not in (18, 34) for d in self.depths):
            raise ConfigError(f"--depths for the imagenet experiment are 18 and/or 34 (Table 2), not {self.depths}")

    def configs(self, train_images: int) -> list[tuple[str, TrainConfig]]:
        """(name, config) of every net, shallowest first, the plain net before its twin."""
        from ..data.recipes import recipe_train_settings

        recipe = recipe_train_settings("imagenet", train_images)
        iters = self.iters or max(1, 90 * train_images // self.batch_size)
        out = []
        for depth in self.depths:
            for kind in ("plain", "resnet"):
                cfg = TrainConfig(
                    arch=f"{kind}{depth}",
                    shortcut="A",
                    data=self.data,
                    image_size=self.image_size,
                    recipe="imagenet",
                    stream=True,
                    workers=self.workers,
                    iters=iters,
                    batch_size=self.batch_size,
                    lr_milestones=recipe["lr_milestones"],
                    # Epochs 30 and 60 of the budget: the CIFAR "paper" schedule (32k/48k of 64k) means nothing here.
                    schedule=self.overrides.get("schedule", recipe["schedule"]),
                    device=self.device,
                    seed=self.seed,
                    threads=self.threads,
                    eval_every=max(1, iters // 20),
                    telemetry_every=max(1, min(10, iters // 20)),
                    checkpoint_every=max(1, iters // 10),
                    **{k: v for k, v in self.overrides.items() if k != "schedule"},
                ).with_absolute_paths()
                out.append((f"{kind}{depth}", cfg))
        return out

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "depths": list(self.depths)}, indent=2)

    @classmethod
    def read(cls, folder: Path) -> ImageNetPlan:
        path = folder / IMAGENET_PLAN_FILE
        try:
            return cls(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(
                f"{folder} holds no readable {IMAGENET_PLAN_FILE} ({exc}); is it an experiment?"
            ) from None


@dataclass(frozen=True)
class ImageNetEstimate:
    """The measured cost (the shape :func:`resviz.cli._paper.confirm_long_job` reads)."""

    seconds: float
    device: str
    per_net: dict[str, float]
    suggestion: tuple[str, float] | None = None

    @property
    def long(self) -> bool:
        return self.seconds > LONG_JOB_SECONDS

    def lines(self) -> list[str]:
        from ..durations import format_long_duration

        parts = ", ".join(f"{k} {format_long_duration(v)}" for k, v in self.per_net.items())
        return [f"estimate: about {format_long_duration(self.seconds)} on {self.device} ({parts}; measured)"]


def measure_step_seconds(config: TrainConfig, dataset, steps: int = 2) -> float:
    """Seconds per training step of ``config`` here: ``steps`` timed after one untimed step
    (the first pays for starting the workers and for allocations)."""
    from ..train.trainer import Trainer

    trainer = Trainer(config, dataset=dataset)
    try:
        trainer.warm_up()
        trainer._train_step()
        t0 = time.perf_counter()
        for _ in range(steps):
            trainer._train_step()
        return (time.perf_counter() - t0) / steps
    finally:
        trainer.close()


def estimate(
    plan: ImageNetPlan, dataset, nets: list[tuple[str, TrainConfig]], *, steps: int = 2, world_size: int = 1
) -> ImageNetEstimate:
    """Each net's seconds per step, measured here on this rank's share of the global batch
    (``batch / world_size`` images; the gradient all-reduce is not in it), times its iterations."""
    from ..device import describe_device, resolve_device

    per_net = {
        name: measure_step_seconds(replace(cfg, batch_size=max(1, cfg.batch_size // world_size)), dataset, steps)
        * cfg.iters
        for name, cfg in nets
    }
    where = describe_device(resolve_device(plan.device)) + (f" x {world_size} ranks" if world_size > 1 else "")
    return ImageNetEstimate(sum(per_net.values()), where, per_net)


def run_imagenet(
    folder: Path,
    nets: list[tuple[str, TrainConfig]],
    dataset,
    *,
    dist,
    time_limit: float | None = None,
    on_trainer: Callable | None = None,
    control=None,
) -> dict[str, str]:
    """Train each net in turn (new, resumed or left finished): name -> final status."""
    from ..runs.reader import RunReader, is_run_folder
    from ..train.control import TrainControl
    from ..train.trainer import Trainer

    control = control or TrainControl()
    timer = None
    if time_limit is not None:
        timer = threading.Timer(time_limit, control.stop)
        timer.daemon = True
        timer.start()
    statuses: dict[str, str] = {}
    try:
        for name, cfg in nets:
            run_dir = folder / name
            _barrier(dist)  # every rank sees the folder as it was before rank 0 touches it
            found = is_run_folder(run_dir)
            _barrier(dist)
            if found:
                with RunReader(run_dir) as reader:
                    status = reader.status().status
                if status == "finished":
                    statuses[name] = "finished"
                    continue
                trainer = Trainer.resume(run_dir, control=control, dataset=dataset, dist=dist)
            else:
                trainer = Trainer(replace(cfg), run_dir=run_dir, control=control, dataset=dataset, dist=dist)
            if on_trainer is not None:
                on_trainer(name, trainer)
            statuses[name] = trainer.run()
            trainer.release_distributed()
            if statuses[name] != "finished":
                break  # stopped (Ctrl+C, --time-limit): the rest waits for --resume
    finally:
        if timer is not None:
            timer.cancel()
    return statuses


def _barrier(dist) -> None:
    if dist.distributed:
        import torch.distributed

        torch.distributed.barrier()
