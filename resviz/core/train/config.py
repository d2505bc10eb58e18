"""Everything that defines a training run, as one JSON-serialisable dataclass.

Defaults are the paper's CIFAR-10 recipe (section 4.2): SGD with momentum 0.9, weight
decay 1e-4, mini-batches of 128, learning rate 0.1 divided by 10 at 32k and 48k of 64k
iterations (50 % and 75 % of the schedule), and optionally the 0.01 warm-up used for
ResNet-110 until the training error falls below 80 % (about 400 iterations).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from ..archs import SHORTCUT_OPTIONS, ArchSpec, ShortcutOption, parse_arch
from ..errors import ConfigError

__all__ = ["TrainConfig"]


@dataclass
class TrainConfig:
    """A training run's settings; schedules are counted in iterations (steps)."""

    arch: str = "resnet20"
    #: "A", "B" or "C" (section 3.3); None takes the family's default (A for CIFAR nets).
    shortcut: ShortcutOption | None = None
    #: Every shortcut off from the start, whatever ``arch`` says (``--plain``).
    plain: bool = False
    data: str = "digits"  # "digits", "cifar10" or a folder path
    data_root: str | None = None  # where cifar10 lives
    download: bool = False
    image_size: int | None = None  # digits 16, folders 32 when None

    iters: int = 64_000
    batch_size: int = 128
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 1e-4
    #: Fractions of ``iters`` at which the learning rate is multiplied by ``lr_gamma``.
    lr_milestones: list[float] = field(default_factory=lambda: [0.5, 0.75])
    lr_gamma: float = 0.1
    #: The ResNet-110 warm-up: ``warmup_lr`` until the training error (over the last
    #: telemetry interval) is below ``warmup_until_error`` %, at most ``warmup_max_iters``.
    warmup: bool = False
    warmup_lr: float = 0.01
    warmup_until_error: float = 80.0
    warmup_max_iters: int = 400

    device: str = "auto"  # auto picks cuda, then mps, then cpu
    bf16: bool = False  # bf16 autocast, CUDA only
    channels_last: bool = False  # CUDA only
    #: CPU threads for torch in this process; None leaves torch's default.
    threads: int | None = None

    telemetry_every: int = 10  # k: record telemetry every k steps
    eval_every: int = 500  # test error every this many steps (and at the end)
    checkpoint_every: int = 1000
    seed: int = 0

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first bad setting."""
        positive_ints = ("iters", "batch_size", "telemetry_every", "eval_every", "checkpoint_every")
        for name in positive_ints:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{name.replace('_', '-')} must be a whole number of at least 1, not {value!r}")
        if not self.lr > 0:
            raise ConfigError(f"learning rate must be greater than 0, not {self.lr!r}")
        if not 0 <= self.momentum < 1:
            raise ConfigError(f"momentum must be in [0, 1), not {self.momentum!r}")
        if self.weight_decay < 0:
            raise ConfigError(f"weight decay must be 0 or more, not {self.weight_decay!r}")
        if any(not 0 < m < 1 for m in self.lr_milestones):
            raise ConfigError(f"learning-rate milestones are fractions in (0, 1), not {self.lr_milestones!r}")
        if self.shortcut is not None and str(self.shortcut).upper() not in SHORTCUT_OPTIONS:
            raise ConfigError(f"shortcut option must be A, B or C, not {self.shortcut!r}")
        if self.device not in ("auto", "cpu", "cuda", "mps") and not str(self.device).startswith("cuda:"):
            raise ConfigError(f"device must be auto, cpu, cuda or mps, not {self.device!r}")
        if self.threads is not None and self.threads < 1:
            raise ConfigError(f"threads must be at least 1, not {self.threads!r}")
        parse_arch(self.arch)  # raises ConfigError naming the problem

    # -- what the run is (one answer for the app, the CLI, reports and experiments) ------

    @property
    def spec(self) -> ArchSpec:
        """The net this run trains: ``arch``, with every shortcut off when ``plain``."""
        return parse_arch(self.arch, plain=self.plain)

    @property
    def is_plain(self) -> bool:
        """Trained without shortcuts (section 4.1): ``--plain`` or a ``plainN`` name."""
        return self.spec.plain

    @property
    def depth(self) -> int:
        """The number of weighted layers the paper names the net by (20 for resnet20)."""
        return self.spec.depth

    @property
    def label(self) -> str:
        """What the run is called in lists and legends: ``plain20``, ``resnet56``, ``resnet20-B``."""
        return self.spec.label(self.shortcut)

    def milestone_steps(self) -> list[int]:
        """The steps at which the learning rate drops (32k and 48k of 64k by default)."""
        return [int(round(m * self.iters)) for m in self.lr_milestones]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        """Build from a dict, ignoring keys this version does not know (newer run folders)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

