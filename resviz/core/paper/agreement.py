"""Whether a run folder of an experiment holds the net its plan names.

An experiment folder's runs are judged against each other (Table 6, the claims), so each
must be the plan's net trained with the plan's recipe. A folder copied in by hand, a
``config.json`` edited, or a symlink to another experiment's run can hold something else:
found by attack, a ``resnet8/`` holding a 71-iteration run beside a 300-iteration
``plain8/`` was resumed and compared without a word, and one holding a resnet14 was
resumed until its checkpoint failed to load. The device, threads and speed settings may
differ (they change how fast a net trains, not what it learns).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..archs import spec_of
from ..train.config import TrainConfig

__all__ = ["RECIPE_FIELDS", "disagreement"]

#: The settings that make two runs comparable: the recipe of section 4.2 and the budget.
RECIPE_FIELDS = (
    "iters",
    "batch_size",
    "seed",
    "lr",
    "momentum",
    "weight_decay",
    "lr_milestones",
    "schedule",
    "lr_gamma",
    "warmup",
    "data",
    "data_root",
    "image_size",
)


def disagreement(run_config: Mapping[str, Any], planned: TrainConfig) -> str | None:
    """None when ``run_config`` (a run's config.json) is the planned net and recipe; else
    what differs, in words: ``"it trains resnet14, the plan resnet8"``."""
    spec = spec_of(run_config) if isinstance(run_config, Mapping) else None
    if spec is None:
        return "its config.json names no net"
    if spec.name != planned.spec.name:
        return f"it trains {spec.name}, the plan {planned.spec.name}"
    try:
        ran = TrainConfig.from_dict(dict(run_config)).with_absolute_paths()
    except ValueError as exc:  # ConfigError: a setting this version refuses
        return f"its config.json is damaged: {exc}"
    wanted = planned.with_absolute_paths()
    differ = [
        f"{name.replace('_', '-')} {getattr(ran, name)!r} (the plan: {getattr(wanted, name)!r})"
        for name in RECIPE_FIELDS
        if getattr(ran, name) != getattr(wanted, name)
    ]
    return "it was trained with " + ", ".join(differ) if differ else None
