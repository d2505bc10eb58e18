"""The degradation experiment of the paper's Fig. 1 and Fig. 6, as one call.

Plain and residual nets at two (or more) depths are trained with the same recipe, then
the paper's three claims are checked against what happened:

1. the degradation problem: the deeper *plain* net has the higher training error;
2. at every depth the residual net trains better than the plain net of that depth;
3. the deeper residual net trains better than the shallower one.

Claims are judged on the training error (the paper's point is that degradation is an
optimisation difficulty, not overfitting), averaged over the last 5 % of records.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable, Sequence

from .train.config import TrainConfig

__all__ = ["Claim", "settled_mean", "SETTLE_TAIL", "degradation_plan", "degradation_claims", "run_degradation", "DEFAULT_DEPTHS", "TIE_POINTS"]

DEFAULT_DEPTHS = (20, 56)
#: Differences smaller than this (percentage points) are called a tie, not a win.
TIE_POINTS = 0.25
#: The share of a run's last records whose mean is its settled training error.
SETTLE_TAIL = 0.05


def settled_mean(values: Sequence[float], tail: float = SETTLE_TAIL) -> float | None:
    """The mean of the last ``tail`` fraction of ``values`` (at least one); None when empty.

    The per-interval training error is measured on augmented mini-batches and is noisy; the
    mean of its final 5 % is what the curve settles to. ``resviz report``, ``resviz
    experiment`` and the app's degradation panel all judge runs by this one number.
    """
    if not len(values):
        return None
    k = max(1, int(round(len(values) * tail)))
    return float(sum(values[-k:]) / k)


@dataclass
class Claim:
    """One of the paper's statements and whether this experiment bears it out."""

    statement: str
    holds: bool | None  # None: a tie, too close to call
    evidence: str


def degradation_plan(base: TrainConfig, depths: Sequence[int] = DEFAULT_DEPTHS) -> list[tuple[str, TrainConfig]]:
    """(run name, config) for plain and residual nets at each depth, plain ones first."""
    plan = []
    for plain in (True, False):
        for d in sorted(depths):
            name = f"{'plain' if plain else 'resnet'}{d}"
            plan.append((name, replace(base, arch=f"resnet{d}", plain=plain)))
    return plan


def _compare(a: float, b: float) -> bool | None:
    if abs(a - b) < TIE_POINTS:
        return None
    return a < b


def degradation_claims(train_error: dict[str, float], depths: Sequence[int] = DEFAULT_DEPTHS) -> list[Claim]:
    """Judge the three claims from final training errors keyed by run name."""
    shallow, deep = min(depths), max(depths)
    e = train_error
    claims = [
        Claim(
            f"plain-{deep} trains worse than plain-{shallow} (the degradation problem)",
            _compare(e[f"plain{shallow}"], e[f"plain{deep}"]),
            f"training error plain-{shallow} {e[f'plain{shallow}']:.2f}%, plain-{deep} {e[f'plain{deep}']:.2f}%",
        )
    ]
    for d in sorted(depths):
        claims.append(
            Claim(
                f"resnet-{d} trains better than plain-{d}",
                _compare(e[f"resnet{d}"], e[f"plain{d}"]),
                f"training error resnet-{d} {e[f'resnet{d}']:.2f}%, plain-{d} {e[f'plain{d}']:.2f}%",
            )
        )
    claims.append(
        Claim(
            f"resnet-{deep} trains better than resnet-{shallow} (depth helps once shortcuts are there)",
            _compare(e[f"resnet{deep}"], e[f"resnet{shallow}"]),
            f"training error resnet-{shallow} {e[f'resnet{shallow}']:.2f}%, resnet-{deep} {e[f'resnet{deep}']:.2f}%",
        )
    )
    return claims


def _verdict(holds: bool | None) -> str:
    return {True: "holds", False: "does not hold", None: "too close to call"}[holds]


def summary_markdown(rows: list[dict], claims: list[Claim], base: TrainConfig) -> str:
    """The table of final errors and the claims, as Markdown."""
    lines = [
        f"Degradation experiment on {base.data}: {base.iters} iterations, batch {base.batch_size}, "
        f"lr {base.lr:g}{' with warm-up' if base.warmup else ''}, seed {base.seed}.",
        "",
        "| net | training error (%) | test error (%) | time (s) |",
        "|---|---:|---:|---:|",
    ]
    for r in rows:
        test = "n/a" if r["test_error"] is None else f"{r['test_error']:.2f}"
        lines.append(f"| {r['name']} | {r['train_error']:.2f} | {test} | {r['seconds']:.0f} |")
    lines += ["", "What the paper expects, and what happened:", ""]
    lines += [f"- {c.statement}: **{_verdict(c.holds)}** ({c.evidence})" for c in claims]
    return "\n".join(lines) + "\n"


def run_degradation(
    out_dir: str | Path,
    base: TrainConfig,
    depths: Sequence[int] = DEFAULT_DEPTHS,
    *,
    force: bool = False,
    on_start: Callable[[str, "object"], None] | None = None,
    control=None,
) -> dict:
    """Train every net of the plan into ``out_dir/<name>``, then write the report.

    Writes ``report.png``, ``summary.json`` and ``summary.md`` into ``out_dir`` and returns
    the summary. ``on_start(name, trainer)`` lets a caller attach sinks (a progress bar).
    """
    import time

    from .data import load_dataset
    from .report import final_errors, load_history, save_report
    from .runs.store import RunStore
    from .train.trainer import Trainer

    from .outputs import check_output

    out = Path(out_dir).expanduser()
    plan = degradation_plan(base, depths)
    # Refuse up front rather than after an hour of training: a report written into a run
    # folder, or a live run replaced by --force (issue #9).
    for name in ("report.png", "summary.json", "summary.md"):
        check_output(out / name, what="experiment's output")
    for name, _ in plan:
        RunStore.check_new(out / name, force=force)
    dataset = load_dataset(base.data, root=base.data_root, download=base.download, size=base.image_size)
    rows = []
    for name, cfg in plan:
        trainer = Trainer(cfg, run_dir=out / name, dataset=dataset, force=force, control=control)
        if on_start:
            on_start(name, trainer)
        started = time.monotonic()
        status = trainer.run()
        errs = final_errors(load_history(out / name))
        rows.append({"name": name, "status": status, "seconds": time.monotonic() - started, **errs})
        if status != "finished":
            break
    histories = [load_history(out / r["name"], label=r["name"]) for r in rows]
    save_report(histories, out / "report.png", title=f"plain vs residual nets on {base.data}")
    complete = len(rows) == len(plan) and all(r["status"] == "finished" for r in rows)
    claims = degradation_claims({r["name"]: r["train_error"] for r in rows}, depths) if complete else []
    summary = {
        "config": base.to_dict(),
        "depths": list(depths),
        "runs": rows,
        "claims": [asdict(c) for c in claims],
        "complete": complete,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    (out / "summary.md").write_text(summary_markdown(rows, claims, base))
    return summary
