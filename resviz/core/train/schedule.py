"""The paper's learning-rate schedule, counted in iterations (section 4.2).

Step drops by ``lr_gamma`` at fixed fractions of the run (0.1 -> 0.01 -> 0.001 at 32k and
48k of 64k iterations), and the optional warm-up of ResNet-110: 0.01 until the training
error is below 80 % (about 400 iterations), then back to 0.1.
"""

from __future__ import annotations

from .config import TrainConfig

__all__ = ["LearningRate", "describe_schedule"]


class LearningRate:
    """Which learning rate applies at each step; the warm-up ends on observed errors."""

    def __init__(self, config: TrainConfig) -> None:
        self.base = config.lr
        self.gamma = config.lr_gamma
        self.milestones = config.milestone_steps()
        self.warmup_lr = config.warmup_lr
        self.warmup_until_error = config.warmup_until_error
        self.warmup_max_iters = config.warmup_max_iters
        self.warming_up = config.warmup
        self.current = self.warmup_lr if self.warming_up else self.base

    def scheduled(self, step: int) -> float:
        """The step-schedule rate after ``step`` updates, ignoring the warm-up."""
        lr = self.base
        for m in self.milestones:
            if step >= m:
                lr *= self.gamma
        return lr

    def at(self, step: int) -> tuple[float, bool]:
        """(rate for the update after ``step`` updates, whether a milestone drop just happened)."""
        if self.warming_up and step >= self.warmup_max_iters:
            self.warming_up = False
        lr = self.warmup_lr if self.warming_up else self.scheduled(step)
        dropped = not self.warming_up and lr < self.current and lr == self.scheduled(step) and step in self.milestones
        self.current = lr
        return lr, dropped

    def observe(self, step: int, train_error: float) -> bool:
        """Feed a recorded training error; True when this ends the warm-up."""
        if self.warming_up and (train_error < self.warmup_until_error or step >= self.warmup_max_iters):
            self.warming_up = False
            return True
        return False

    def state_dict(self) -> dict:
        return {"warming_up": self.warming_up, "current": self.current}

    def load_state_dict(self, state: dict) -> None:
        self.warming_up = bool(state["warming_up"])
        self.current = float(state["current"])


def describe_schedule(cfg: TrainConfig) -> str:
    """Which learning-rate schedule ran, in words: ``the paper's schedule (lr 0.1 throughout
    these 300 iterations; drops at 32,000 and 48,000)`` or ``scaled (drops at 150, 225)``."""
    steps = cfg.milestone_steps()
    inside = [s for s in steps if s < cfg.iters]
    drops = ", ".join(f"{s:,}" for s in steps)
    if cfg.schedule == "paper":
        if not inside:
            return (
                f"the paper's schedule: lr {cfg.lr:g} throughout these {cfg.iters:,} iterations "
                f"(the paper's drops are at {drops})"
            )
        return f"the paper's schedule: lr {cfg.lr:g}, divided by {1 / cfg.lr_gamma:g} at {drops}"
    return f"scaled schedule: lr {cfg.lr:g}, divided by {1 / cfg.lr_gamma:g} at {drops} (50 % and 75 % of the budget)"
