"""Everything that defines a training run, as one JSON-serialisable dataclass.

Defaults are the paper's CIFAR-10 recipe (section 4.2): SGD with momentum 0.9, weight
decay 1e-4, mini-batches of 128, learning rate 0.1 divided by 10 at 32k and 48k of 64k
iterations (50 % and 75 % of the schedule), and optionally the 0.01 warm-up used for
ResNet-110 until the training error falls below 80 % (about 400 iterations).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from ..archs import SHORTCUT_OPTIONS, ArchSpec, ShortcutOption, parse_arch
from ..errors import ConfigError
from ..limits import (
    IMAGE_SIZE_RANGE,
    MAX_BATCH_SIZE,
    MAX_ITERS,
    SEED_RANGE,
    check_number,
    check_rate,
    check_threads,
    check_whole,
)

__all__ = ["TrainConfig", "COMPILE_SETTINGS"]

#: What ``TrainConfig.compile`` accepts ("auto" decides per device: train.compiled.use_compile).
COMPILE_SETTINGS: tuple[str, ...] = ("auto", "on", "off")

#: Data set names that are not folders (see resviz.core.data.load_dataset).
_DATA_NAMES = ("digits", "cifar10")


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
    #: bf16 autocast; CUDA only (ignored elsewhere).
    bf16: bool = True
    #: NHWC activations where they win (train.compiled.use_channels_last).
    channels_last: bool = True
    #: torch.compile the step: "auto" (on CUDA; see train.compiled.use_compile), "on", "off".
    compile: str = "auto"
    #: CPU threads for torch in this process; None leaves torch's default.
    threads: int | None = None

    #: Issue #22: "cifar" (section 4.2) or "imagenet" (section 3.4, streamed); None takes the
    #: family's: imagenet for the ImageNet nets on a folder, cifar otherwise (:attr:`recipe_name`).
    recipe: str | None = None
    #: Stream a folder from disk (True), hold it in memory (False), or decide by its size (None;
    #: resviz.core.data.streamset.choose_stream).
    stream: bool | None = None
    #: DataLoader worker processes of a streamed folder; None: from the cores.
    workers: int | None = None

    telemetry_every: int = 10  # k: record telemetry every k steps
    eval_every: int = 500  # test error every this many steps (and at the end)
    checkpoint_every: int = 1000
    seed: int = 0

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first bad setting.

        Every field is checked for its type and a sane range, so a config.json edited by
        hand, the app's form and the CLI all fail here in one line (issue #9: ``--threads
        100000`` made OpenMP segfault, ``--weight-decay nan`` was blamed on the learning
        rate later, ``--size 0`` was ignored).
        """
        for name in ("iters", "batch_size", "telemetry_every", "eval_every", "checkpoint_every"):
            check_whole(
                getattr(self, name), name.replace("_", "-"), 1, MAX_BATCH_SIZE if name == "batch_size" else MAX_ITERS
            )
        check_whole(self.warmup_max_iters, "warmup-max-iters", 0, MAX_ITERS)
        check_whole(self.seed, "seed", *SEED_RANGE)
        if self.image_size is not None:
            check_whole(self.image_size, "image size", *IMAGE_SIZE_RANGE)
        check_threads(self.threads, "threads")
        check_rate(self.lr, "learning rate")
        check_number(self.momentum, "momentum", low=0.0, high=1.0, high_open=True)
        check_rate(self.weight_decay, "weight decay", zero=True)
        # A drop, as the paper's divisions by 10: above 1 every milestone would multiply the
        # rate until it no longer fits the step (issue #17).
        check_number(self.lr_gamma, "lr-gamma", low=0.0, high=1.0, low_open=True)
        check_rate(self.warmup_lr, "warmup-lr")
        check_number(self.warmup_until_error, "warmup-until-error", low=0.0)
        milestones = self.lr_milestones
        if not isinstance(milestones, list) or any(
            isinstance(m, bool) or not isinstance(m, (int, float)) or not 0 < m < 1 for m in milestones
        ):
            raise ConfigError(f"learning-rate milestones are fractions in (0, 1), not {milestones!r}")
        for name in ("plain", "download", "warmup", "bf16", "channels_last"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name.replace('_', '-')} must be true or false, not {getattr(self, name)!r}")
        for name, optional in (("arch", False), ("data", False), ("data_root", True)):
            value = getattr(self, name)
            if not (isinstance(value, str) and value) and not (optional and value is None):
                raise ConfigError(f"{name.replace('_', ' ')} must be a name or path, not {value!r}")
        if self.shortcut is not None and str(self.shortcut).upper() not in SHORTCUT_OPTIONS:
            raise ConfigError(f"shortcut option must be A, B or C, not {self.shortcut!r}")
        if not isinstance(self.device, str) or (
            self.device not in ("auto", "cpu", "cuda", "mps") and not self.device.startswith("cuda:")
        ):
            raise ConfigError(f"device must be auto, cpu, cuda or mps, not {self.device!r}")
        if self.recipe is not None and self.recipe not in ("cifar", "imagenet"):
            raise ConfigError(f"recipe must be cifar or imagenet, not {self.recipe!r}")
        if self.stream is not None and not isinstance(self.stream, bool):
            raise ConfigError(f"stream must be true, false or null (decide by size), not {self.stream!r}")
        if self.workers is not None:
            check_whole(self.workers, "workers", 0, 64)
        if self.data in _DATA_NAMES and (self.stream or self.recipe == "imagenet"):
            raise ConfigError(
                f"{self.data} is held in memory with the cifar recipe; --stream and --recipe imagenet take a folder"
            )
        if self.compile not in COMPILE_SETTINGS:
            raise ConfigError(f"compile must be auto, on or off, not {self.compile!r}")
        parse_arch(self.arch)  # raises ConfigError naming the problem

    def with_absolute_paths(self) -> TrainConfig:
        """This config with a folder ``data`` (and ``data_root``) made absolute.

        config.json must name the data so that ``--resume`` works from any working folder
        (issue #9); a bare name that is no folder stays as given for load_dataset to judge.
        """
        data, root = self.data, self.data_root
        if data not in _DATA_NAMES and (os.path.exists(os.path.expanduser(data)) or "/" in data or os.sep in data):
            data = os.path.abspath(os.path.expanduser(data))
        if root is not None:
            root = os.path.abspath(os.path.expanduser(root))
        return replace(self, data=data, data_root=root)

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

    @property
    def recipe_name(self) -> str:
        """The recipe this run trains with: ``recipe``, else imagenet for an ImageNet net on a
        folder (the paper's section 3.4) and cifar otherwise (section 4.2)."""
        if self.recipe is not None:
            return self.recipe
        folder = self.data not in _DATA_NAMES
        return "imagenet" if folder and self.spec.family == "imagenet" else "cifar"

    def milestone_steps(self) -> list[int]:
        """The steps at which the learning rate drops (32k and 48k of 64k by default)."""
        return [int(round(m * self.iters)) for m in self.lr_milestones]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Build from a dict, ignoring keys this version does not know (newer run folders)."""
        if not isinstance(data, dict):
            raise ConfigError(f"a run config is a JSON object, not a {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
