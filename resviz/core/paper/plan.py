"""Which nets the paper experiment trains, with which settings, in which lockstep groups.

Every net gets the recipe of section 4.2 (:class:`~resviz.core.train.config.TrainConfig`'s
defaults: SGD, momentum 0.9, weight decay 1e-4, batch 128, lr 0.1 divided by 10 at 50 %
and 75 % of the iterations, so ``--iters 2000`` drops at 1000 and 1500 as 64k drops at 32k
and 48k), one seed for all (plain and residual twins see the same batches in the same
order), and the 0.01 warm-up of ResNet-110 switched on for 110 layers and more, as the
paper did ("0.1 is slightly too large to start converging").

Grouping (:meth:`PaperPlan.groups`): on a GPU every net trains in one lockstep group,
because the CIFAR nets are small enough that one net's step leaves the GPU idle between
launches, and a group keeps its queue full (issue #11); on a CPU (or MPS) a group per
depth, shallowest first, holding the plain net and its residual twin: round-robin on a
CPU gains nothing from a larger group, while finishing depth by depth fills Table 6 and
the claims in as the experiment goes, and each twin pair's curves still grow together.

Seeds (issue #18): ``seeds`` > 1 trains each net that many times, with seeds ``seed``,
``seed+1`` ... (the twins of a depth share each seed, as in ``resviz experiment
degradation``), in folders named ``resnet20-seed0`` ...; a group then holds every seed of
its depth. Table 6 gives ResNet-110 as "best (mean ± std)" over 5 runs, and so do we for
every net; the claims are judged on the spread across seeds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from ..archs import IMAGENET_DEPTHS, arch_name, parse_arch
from ..errors import ConfigError
from ..experiment import seed_name
from ..limits import MAX_ITERS, check_whole
from ..train.config import DEFAULT_EVAL_SUBSET, TrainConfig, resolve_schedule
from ..train.schedule import describe_schedule
from .numbers import FULL_SCHEDULE

__all__ = [
    "PAPER_DEPTHS",
    "PAPER_MAX_SEEDS",
    "PAPER_PLAIN_DEPTHS",
    "PLAN_FILE",
    "WARMUP_DEPTH",
    "PaperPlan",
    "check_seeds",
    "parse_depth_list",
]

#: Table 6's ResNets and Fig. 6's plain nets (ResNet-1202 is left out: 19.4M parameters).
PAPER_DEPTHS = (20, 32, 44, 56, 110)
PAPER_PLAIN_DEPTHS = (20, 32, 44, 56)
#: The most seeds of each net: Table 6's 5 runs of ResNet-110. Every seed is a whole
#: training of every net, so more would multiply the paper's hours past any use.
PAPER_MAX_SEEDS = 5
#: From this depth on the paper warms up with lr 0.01 (section 4.2, ResNet-110).
WARMUP_DEPTH = 110
#: The plan, written into the experiment folder before any net starts (for --resume and report).
PLAN_FILE = "paper.json"
#: The settings the plan gives every net itself: ``overrides`` may not set them (a
#: paper.json edited to override ``arch`` or ``iters`` would otherwise fail deep in
#: TrainConfig with a Python TypeError, or be silently replaced).
_PLAN_SETS = frozenset(
    "arch data data_root download iters batch_size device seed threads "
    "telemetry_every eval_every checkpoint_every warmup schedule eval_subset".split()
)


def parse_depth_list(text: str | list | tuple, what: str = "--depths", *, allow_empty: bool = False) -> tuple[int, ...]:
    """``"20, 32,44"`` -> ``(20, 32, 44)``: sorted CIFAR depths 6n+2, or ConfigError.

    50 and 152 are 6n+2 too, but in resviz those names are the ImageNet ResNets, which
    CIFAR-10's 32 x 32 images do not fit; they are refused rather than silently swapped.
    """
    if isinstance(text, (list, tuple)):
        parts = [str(p) for p in text]
    else:
        parts = [p for p in str(text).replace(";", ",").replace(" ", ",").split(",") if p]
    if [p.lower() for p in parts] == ["none"]:
        parts = []
    try:
        depths = tuple(sorted({int(p) for p in parts}))
    except ValueError:
        raise ConfigError(f"{what} takes whole numbers separated by commas, like 20,32,44 — not {text!r}") from None
    if not depths and not allow_empty:
        raise ConfigError(f"{what} needs at least one depth, like 20,56")
    for d in depths:
        if d in IMAGENET_DEPTHS:
            raise ConfigError(
                f"{what}: {d} layers names an ImageNet ResNet in resviz; the CIFAR nets take other 6n+2 depths "
                "(8, 14, 20, 26, 32, 44, 56, 110, ...)"
            )
        spec = parse_arch(arch_name(d))  # ConfigError for a depth that is not 6n+2
        if spec.family != "cifar":
            raise ConfigError(f"{what}: {d} is not a CIFAR depth")
    return depths


def check_seeds(seeds: object, what: str = "seeds") -> int:
    """``seeds`` when it is a whole number from 1 to :data:`PAPER_MAX_SEEDS`; ConfigError otherwise."""
    if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= PAPER_MAX_SEEDS:
        raise ConfigError(
            f"{what} takes a whole number from 1 to {PAPER_MAX_SEEDS} (Table 6 gives ResNet-110 over 5 runs), "
            f"not {seeds!r}"
        )
    return seeds


def _check_overrides(overrides: object) -> None:
    """ConfigError unless ``overrides`` maps TrainConfig fields the plan leaves open."""
    if not isinstance(overrides, dict):
        raise ConfigError(f"the plan's overrides are a JSON object of training settings, not {overrides!r}")
    open_fields = {f.name for f in fields(TrainConfig)} - _PLAN_SETS
    wrong = sorted(str(k) for k in overrides if k not in open_fields)
    if wrong:
        raise ConfigError(
            f"the plan's overrides cannot set {', '.join(wrong)}: they take training settings the plan "
            f"leaves open ({', '.join(sorted(open_fields))})"
        )


@dataclass(frozen=True)
class PaperPlan:
    """The experiment: data, depths, budget and device, as the user chose them."""

    data: str = "cifar10"
    data_root: str | None = None
    download: bool = False
    depths: tuple[int, ...] = PAPER_DEPTHS
    plain_depths: tuple[int, ...] = PAPER_PLAIN_DEPTHS
    iters: int = FULL_SCHEDULE
    device: str = "auto"
    seed: int = 0
    #: How many times each net trains, with seeds ``seed`` ... ``seed + seeds - 1``.
    seeds: int = 1
    batch_size: int = 128
    threads: int | None = None
    #: Where the learning rate drops (TrainConfig.schedule): "auto" keeps the paper's drops
    #: for budgets under 32k, so a short experiment is the start of the paper's run.
    schedule: str = "auto"
    #: Test images per evaluation during training (a fixed stratified subset; the whole
    #: split at the end): TrainConfig.eval_subset.
    eval_subset: int = DEFAULT_EVAL_SUBSET
    #: Extra TrainConfig fields for every net (bf16, compile, ... where the user set them).
    overrides: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "depths", parse_depth_list(self.depths))
        object.__setattr__(
            self, "plain_depths", parse_depth_list(self.plain_depths, "--plain-depths", allow_empty=True)
        )
        # iters first: base_config divides it before TrainConfig can check it (a paper.json
        # holding "iters": "20" or null ended in a TypeError traceback).
        check_whole(self.iters, "iters", 1, MAX_ITERS)
        check_seeds(self.seeds)
        if self.schedule == "auto":  # paper.json says which schedule ran
            object.__setattr__(self, "schedule", resolve_schedule(self.iters))
        _check_overrides(self.overrides)
        self.base_config()  # every number checked now, before anything is loaded

    # -- the nets ----------------------------------------------------------------------

    @property
    def full_schedule(self) -> bool:
        """True when every net gets the paper's 64k iterations."""
        return self.iters >= FULL_SCHEDULE

    def base_config(self) -> TrainConfig:
        """The recipe every net shares (section 4.2), for the plan's budget."""
        iters = self.iters
        return TrainConfig(
            arch=arch_name(self.depths[0]),
            data=self.data,
            data_root=self.data_root,
            download=self.download,
            iters=iters,
            batch_size=self.batch_size,
            device=self.device,
            seed=self.seed,
            threads=self.threads,
            schedule=self.schedule,
            eval_subset=self.eval_subset,
            # A record every 10 steps (the paper's curves need no more), more often in
            # short runs so Fig. 6 still has a curve; about 32 test evaluations per run
            # (Fig. 6's bold lines); 16 checkpoints, so --resume loses at most 1/16 of a run.
            telemetry_every=max(1, min(10, iters // 100)),
            eval_every=max(1, -(-iters // 32)),
            checkpoint_every=max(1, -(-iters // 16)),
            **self.overrides,
        )

    def config(self, depth: int, plain: bool) -> TrainConfig:
        """The settings of one net: the recipe, with the 0.01 warm-up from 110 layers on."""
        return replace(self.base_config(), arch=arch_name(depth, plain), warmup=depth >= WARMUP_DEPTH)

    def nets(self) -> list[tuple[str, TrainConfig]]:
        """(run name, config) of every net, by depth, then by seed, the plain net before its
        residual twin; with several seeds the run names are ``plain20-seed0`` ..."""
        out = []
        for d in sorted(set(self.depths) | set(self.plain_depths)):
            for i in range(self.seeds):
                for plain in (True, False):
                    if d in (self.plain_depths if plain else self.depths):
                        cfg = replace(self.config(d, plain), seed=self.seed + i)
                        out.append((seed_name(cfg.spec.name, cfg.seed, self.seeds), cfg))
        return out

    def with_absolute_paths(self) -> PaperPlan:
        """This plan with a folder ``data`` (and ``data_root``) made absolute, so that
        ``--resume`` and ``resviz report --paper`` work from any working folder."""
        cfg = self.base_config().with_absolute_paths()
        return replace(self, data=cfg.data, data_root=cfg.data_root)

    def names(self) -> list[str]:
        return [name for name, _ in self.nets()]

    def groups(self, device_type: str) -> list[list[str]]:
        """The lockstep groups for a device type (``cuda``, ``cpu``, ``mps``): see the module."""
        nets = self.nets()
        if device_type == "cuda":
            return [[name for name, _ in nets]]
        by_depth: dict[int, list[str]] = {}
        for name, cfg in nets:
            by_depth.setdefault(cfg.depth, []).append(name)
        return [by_depth[d] for d in sorted(by_depth)]

    # -- on disk -----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["depths"], d["plain_depths"] = list(self.depths), list(self.plain_depths)
        if self.seeds == 1:  # paper.json and table6.json as before seeds (from_dict reads 1)
            del d["seeds"]
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PaperPlan:
        """From :meth:`to_dict`'s output (a ``paper.json``); unknown keys are ignored."""
        if not isinstance(data, dict):
            raise ConfigError(f"a paper plan is a JSON object, not a {type(data).__name__}")
        known = set(cls.__dataclass_fields__)
        # Plans from before the schedule was chosen scaled it to the budget.
        return cls(**{"schedule": "scaled", **{k: v for k, v in data.items() if k in known}})

    def budget(self) -> str:
        """One line: what each net was given."""
        base = self.base_config()
        share = f"{100 * self.iters / FULL_SCHEDULE:.2g}"
        schedule = "the paper's full schedule" if self.full_schedule else f"{share}% of the paper's 64,000"
        return (
            f"{self.iters:,} iterations per net ({schedule}), batch {base.batch_size}, "
            f"{describe_schedule(base)}, {self._seeds_words()}, on {self.data}"
        )

    def _seeds_words(self) -> str:
        if self.seeds == 1:
            return f"seed {self.seed}"
        return f"seeds {self.seed}–{self.seed + self.seeds - 1} ({self.seeds} runs of each net)"
