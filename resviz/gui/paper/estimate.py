"""The paper experiment's cost, measured in a thread while the dialog stays responsive.

Measuring a 110-layer net's speed on a CPU takes tens of seconds, so the dialog starts an
:class:`EstimateJob` and polls it from a timer; a job made stale by a new choice is left
to end on its own and its result is ignored. Speeds measured once are kept (per device,
batch size and image shape), so changing the budget re-estimates at once.
"""

from __future__ import annotations

import logging
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path

from ...core.errors import ResvizError
from ...core.paper.plan import PaperPlan

__all__ = ["EstimateJob", "Estimated", "data_problem"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Estimated:
    """What a finished job found: the estimate, the data's shape, a problem with the data."""

    estimate: object  # resviz.core.paper.cost.CostEstimate
    shape: object  # resviz.core.paper.cost.DataShape
    problem: str | None = None


def data_problem(plan: PaperPlan) -> str | None:
    """Why training could not read the plan's data as chosen, or None (checked without loading it)."""
    from ...core.data.cifar10 import CIFAR10_ARCHIVE
    from ...core.paths import cache_dir

    if plan.data == "cifar10":
        root = Path(plan.data_root).expanduser() if plan.data_root else cache_dir() / "cifar10"
        if not plan.download and not (root / "cifar-10-batches-py").is_dir() and not (root / CIFAR10_ARCHIVE).is_file():
            return (
                f"CIFAR-10 is not in {root}: tick “Allow download” (torchvision fetches 170 MB), or choose the "
                "folder that holds cifar-10-batches-py"
            )
        return None
    if plan.data != "digits":
        folder = Path(plan.data).expanduser()
        missing = [s for s in ("train", "test") if not (folder / s).is_dir()]
        if missing:
            return (
                f"{folder} has no {' or '.join(missing)}/ folder: choose a folder with train/ and test/ class folders"
            )
    return None


class EstimateJob:
    """Measure the plan's speeds (those not in ``known``) and estimate its cost, in a thread."""

    def __init__(self, plan: PaperPlan, known: dict) -> None:
        self.plan = plan
        self.known = known  # {(device, batch, shape): {depth: Speed}}, shared with the dialog
        self.progress = "measuring the speed of each depth on this device …"
        self.result: Estimated | None = None
        self.error: str | None = None
        self._thread = threading.Thread(target=self._main, name="resviz-paper-estimate", daemon=True)

    def start(self) -> EstimateJob:
        self._thread.start()
        return self

    @property
    def done(self) -> bool:
        return not self._thread.is_alive() and (self.result is not None or self.error is not None)

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _main(self) -> None:
        try:
            from ...core.device import describe_device, resolve_device
            from ...core.paper.cost import estimate_cost, guess_shape, measure_speeds

            plan = self.plan
            problem = data_problem(plan)
            shape = guess_shape(plan.data)
            base = plan.base_config()
            device = resolve_device(plan.device)
            key = (str(device), base.batch_size, shape.channels, shape.size, shape.classes)
            speeds = measure_speeds(
                [cfg.depth for _, cfg in plan.nets()],
                shape,
                base,
                known=self.known.get(key),
                on_progress=self._on_progress,
            )
            self.known[key] = speeds
            estimate = estimate_cost(plan, shape, speeds, device=describe_device(device))
            self.result = Estimated(estimate, shape, problem)
        except ResvizError as exc:
            self.error = str(exc)
        except Exception as exc:  # a bug: say it in the dialog rather than lose the thread silently
            log.error("estimating the paper experiment failed:\n%s", traceback.format_exc())
            self.error = f"{type(exc).__name__}: {exc}"

    def _on_progress(self, line: str) -> None:
        self.progress = line
