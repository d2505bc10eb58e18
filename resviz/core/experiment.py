"""The degradation experiment of the paper's Fig. 1 and Fig. 6, as one call.

Plain and residual nets at two (or more) depths are trained with the same recipe, then
the paper's three claims are checked against what happened:

1. the degradation problem: the deeper *plain* net has the higher training error;
2. at every depth the residual net trains better than the plain net of that depth;
3. the deeper residual net trains better than the shallower one.

Claims are judged on the training error (the paper's point is that degradation is an
optimisation difficulty, not overfitting), averaged over the last 5 % of records
(:func:`resviz.core.runs.history.settled_mean`, the rule the report and the app use too).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from .archs import arch_name, parse_arch
from .errors import ConfigError
from .train.config import TrainConfig

if TYPE_CHECKING:
    from .train.group import LockstepGroup

__all__ = [
    "Claim",
    "CLAIM_KINDS",
    "DEFAULT_DEPTHS",
    "DEGRADATION_ITERS",
    "TIE_POINTS",
    "claim_statements",
    "compare_errors",
    "degradation_claims",
    "degradation_plan",
    "parse_depths",
    "resume_degradation",
    "run_degradation",
    "summary_markdown",
    "verdict",
]

DEFAULT_DEPTHS = (20, 56)
#: The budget per net of ``resviz experiment degradation`` and of the app's experiment:
#: on the digits set, enough for the degradation problem and the residual nets' advantage
#: to show within minutes on a CPU (the closing note of issue #3, README).
DEGRADATION_ITERS = 600
#: Differences smaller than this (percentage points) are called a tie, not a win.
TIE_POINTS = 0.25

#: What each claim says: the deeper plain net trains worse (the degradation problem), the
#: residual net of a depth trains better than its plain twin, the deeper residual net
#: trains better than the shallower one.
CLAIM_KINDS: tuple[str, ...] = ("degradation", "residual_beats_plain", "depth_helps")


@dataclass
class Claim:
    """One of the paper's statements and whether this experiment bears it out."""

    kind: str  # one of CLAIM_KINDS
    statement: str
    holds: bool | None  # None: a tie, too close to call
    evidence: str


def parse_depths(text: str) -> list[int]:
    """``"20, 56"`` -> ``[20, 56]``: the experiment's depths, sorted, each a net the paper names.

    Commas, semicolons or spaces separate them (the app's field and ``--depths`` alike);
    ConfigError naming the problem otherwise.
    """
    parts = [p for p in str(text).replace(";", ",").replace(" ", ",").split(",") if p]
    try:
        depths = sorted({int(p) for p in parts})
    except ValueError:
        raise ConfigError(f"depths must be whole numbers separated by commas, like 20, 56 — not {text!r}") from None
    if len(depths) < 2:
        raise ConfigError("the degradation experiment needs at least two depths, like 20, 56")
    for d in depths:
        parse_arch(arch_name(d))  # an unknown depth fails now, before any training
    return depths


def degradation_plan(base: TrainConfig, depths: Sequence[int] = DEFAULT_DEPTHS) -> list[tuple[str, TrainConfig]]:
    """(run name, config) for plain and residual nets at each depth, plain ones first."""
    plan = []
    for plain in (True, False):
        for d in sorted(depths):
            cfg = replace(base, arch=arch_name(d), plain=plain)
            plan.append((cfg.spec.name, cfg))
    return plan


def compare_errors(a: float, b: float, tie: float = TIE_POINTS) -> bool | None:
    """Whether ``a`` is the lower error; None (a tie) when they differ by less than ``tie`` points."""
    if abs(a - b) < tie:
        return None
    return a < b


class _Expectation(NamedTuple):
    """A claim before the numbers: run ``lower`` should have the lower training error."""

    kind: str
    statement: str
    lower: str
    higher: str
    shown: tuple[str, str]  # the two runs in the order the evidence names them


def _expectations(depths: Sequence[int]) -> list[_Expectation]:
    shallow, deep = min(depths), max(depths)
    plain_s, plain_d = arch_name(shallow, True), arch_name(deep, True)
    res_s, res_d = arch_name(shallow), arch_name(deep)
    out = [
        _Expectation(
            "degradation",
            f"plain-{deep} trains worse than plain-{shallow} (the degradation problem)",
            plain_s,
            plain_d,
            (plain_s, plain_d),
        )
    ]
    for d in sorted(depths):
        res, plain = arch_name(d), arch_name(d, True)
        out.append(
            _Expectation("residual_beats_plain", f"resnet-{d} trains better than plain-{d}", res, plain, (res, plain))
        )
    out.append(
        _Expectation(
            "depth_helps",
            f"resnet-{deep} trains better than resnet-{shallow} (depth helps once shortcuts are there)",
            res_d,
            res_s,
            (res_s, res_d),
        )
    )
    return out


def claim_statements(depths: Sequence[int] = DEFAULT_DEPTHS) -> list[tuple[str, str]]:
    """(kind, statement) of every claim, in the order :func:`degradation_claims` judges them."""
    return [(x.kind, x.statement) for x in _expectations(depths)]


def _shown(name: str) -> str:
    spec = parse_arch(name)
    return f"{spec.kind}-{spec.depth}"


def degradation_claims(train_error: dict[str, float], depths: Sequence[int] = DEFAULT_DEPTHS) -> list[Claim]:
    """Judge the claims from final training errors keyed by run name (``plain20`` ...)."""
    e = train_error
    claims = []
    for x in _expectations(depths):
        evidence = "training error " + ", ".join(f"{_shown(n)} {e[n]:.2f}%" for n in x.shown)
        claims.append(Claim(x.kind, x.statement, compare_errors(e[x.lower], e[x.higher]), evidence))
    return claims


def _percent(value: float | None) -> str:
    """An error for the table; n/a for a net that recorded none (it failed at once)."""
    return "n/a" if value is None else f"{value:.2f}"


def verdict(holds: bool | None) -> str:
    """A claim's verdict in words: holds, does not hold, too close to call."""
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
        train, test = (_percent(r[k]) for k in ("train_error", "test_error"))
        lines.append(f"| {r['name']} | {train} | {test} | {r['seconds']:.0f} |")
    lines += ["", "What the paper expects, and what happened:", ""]
    lines += [f"- {c.statement}: **{verdict(c.holds)}** ({c.evidence})" for c in claims]
    return "\n".join(lines) + "\n"


#: What an experiment folder holds besides its runs: the plan (written first, so a stopped
#: or killed experiment can be resumed) and the report.
PLAN_FILE = "experiment.json"
REPORT_FILES = ("report.png", "summary.json", "summary.md")


def run_degradation(
    out_dir: str | Path,
    base: TrainConfig,
    depths: Sequence[int] = DEFAULT_DEPTHS,
    *,
    force: bool = False,
    on_group: Callable[[LockstepGroup], None] | None = None,
) -> dict:
    """Train every net of the plan into ``out_dir/<name>`` as one lockstep group, then report.

    The nets train together, step by step (issue #11): their curves grow side by side and
    one net failing does not end the others. Writes ``experiment.json`` first, then
    ``report.png``, ``summary.json`` and ``summary.md`` into ``out_dir``, and returns the
    summary. ``on_group(group)`` lets a caller attach sinks (a progress display) or keep
    ``group.control`` (stop on Ctrl+C) before training starts.
    """
    from .outputs import check_output
    from .runs.files import write_json_atomic
    from .runs.store import RunStore
    from .train.group import LockstepGroup

    out = Path(out_dir).expanduser()
    plan = degradation_plan(base, depths)
    # Refuse up front rather than after an hour of training: a report written into a run
    # folder, or a live run replaced by --force (issue #9).
    for name in (*REPORT_FILES, PLAN_FILE):
        check_output(out / name, what="experiment's output")
    for name, _ in plan:
        RunStore.check_new(out / name, force=force)
    group = LockstepGroup([cfg for _, cfg in plan], run_dirs=[out / name for name, _ in plan], force=force)
    write_json_atomic(out / PLAN_FILE, {"experiment": "degradation", "config": base.to_dict(), "depths": list(depths)})
    return _train_and_report(out, base, depths, group, on_group)


def _read_plan_file(path: Path) -> tuple[TrainConfig, list[int]]:
    """The base config and depths ``run_degradation`` wrote; one line naming what is wrong.

    The advice is to restore the file, never ``--force``: that would replace the runs
    the experiment has trained (issue #9).
    """
    from .errors import RunError
    from .runs.files import read_json

    doc = read_json(path)
    fix = "restore it, or train a new experiment into another folder"
    if not isinstance(doc.get("config"), dict):
        raise RunError(f'{path} is damaged: its "config" is missing or not a JSON object; {fix}')
    depths = doc.get("depths")
    if (
        not isinstance(depths, list)
        or not depths
        or not all(isinstance(d, int) and not isinstance(d, bool) for d in depths)
    ):
        raise RunError(f'{path} is damaged: its "depths" is {json.dumps(depths)}, not a list of depths; {fix}')
    try:
        return TrainConfig.from_dict(doc["config"]), list(depths)
    except ConfigError as exc:
        raise RunError(f'{path} is damaged: its "config" is not a valid run config ({exc}); {fix}') from None


def resume_degradation(out_dir: str | Path, *, on_group: Callable[[LockstepGroup], None] | None = None) -> dict:
    """Continue a stopped or killed experiment: every unfinished net from its checkpoint, in lockstep.

    The nets behind catch up first (see :mod:`resviz.core.train.group`); the report is
    written again over every net once they have ended.
    """
    from .errors import RunError
    from .inputs import usable_path
    from .outputs import check_output
    from .train.group import LockstepGroup, unfinished_runs

    out = usable_path(out_dir, error=RunError)  # a name too long: one line (issue #17)
    if not (out / PLAN_FILE).is_file():
        raise RunError(f"{out} holds no {PLAN_FILE}: it is not the folder of a degradation experiment")
    base, depths = _read_plan_file(out / PLAN_FILE)
    for name in REPORT_FILES:
        check_output(out / name, what="experiment's output")
    # A net with nothing to continue from (killed before its first checkpoint, or before its
    # folder was made) trains again from step 0 in its own slot, with the plan's settings:
    # the advice was `resviz train --out DIR/plain8 --force`, a default resnet20 (issue #17).
    plan = degradation_plan(base, depths)
    fresh = [(cfg, out / name, "has no run folder") for name, cfg in plan if not (out / name / "config.json").is_file()]
    made = [out / name for name, _ in plan if (out / name / "config.json").is_file()]
    todo = []
    for path in unfinished_runs(made):
        if _has_checkpoint(path):
            todo.append(path)
        else:
            fresh.append((_config_on_disk(path), path, "has no checkpoint"))
    if not todo and not fresh:
        raise RunError(f"every net of {out} has finished; nothing to resume")
    return _train_and_report(out, base, depths, LockstepGroup.resume(todo, fresh=fresh), on_group)


def _has_checkpoint(run_dir: Path) -> bool:
    from .runs.reader import RunReader

    with RunReader(run_dir) as reader:
        return bool(reader.checkpoints())


def _config_on_disk(run_dir: Path) -> TrainConfig:
    from .runs.reader import RunReader

    with RunReader(run_dir) as reader:
        return TrainConfig.from_dict(reader.config)


def _train_and_report(out: Path, base: TrainConfig, depths: Sequence[int], group, on_group) -> dict:
    import time

    from .report import save_report
    from .runs.history import load_history

    if on_group:
        on_group(group)
    started = time.monotonic()
    group.run()
    wall = time.monotonic() - started
    # Seconds per net: its own steps' share of the wall time, added to an earlier part's (a resume).
    earlier = _earlier_seconds(out / "summary.json")
    spent = {t.run_dir.name: s for t, s in zip(group.trainers, group.seconds, strict=True)}
    trained = {t.run_dir.name: t.status for t in group.trainers}
    rows = []
    for name, _ in degradation_plan(base, depths):
        history = load_history(out / name)
        status = trained.get(name) or _status_on_disk(out / name)
        seconds = earlier.get(name, 0.0) + spent.get(name, 0.0)
        rows.append({"name": name, "status": status, "seconds": seconds, **history.final_errors()})
    histories = [load_history(out / r["name"], label=r["name"]) for r in rows]
    save_report(histories, out / "report.png", title=f"plain vs residual nets on {base.data}")
    complete = all(r["status"] == "finished" for r in rows)
    claims = degradation_claims({r["name"]: r["train_error"] for r in rows}, depths) if complete else []
    summary = {
        "config": base.to_dict(),
        "depths": list(depths),
        "runs": rows,
        "claims": [asdict(c) for c in claims],
        "complete": complete,
        "wall_seconds": earlier.get("", 0.0) + wall,  # the nets trained together: one clock for all
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    (out / "summary.md").write_text(summary_markdown(rows, claims, base))
    return summary


def _status_on_disk(run_dir: Path) -> str:
    from .runs.reader import RunReader

    with RunReader(run_dir) as reader:
        return reader.status().status


def _earlier_seconds(path: Path) -> dict[str, float]:
    """Seconds per net (and the wall time, under "") of an earlier part of this experiment."""
    try:
        summary = json.loads(path.read_text())
        out = {r["name"]: float(r["seconds"]) for r in summary["runs"]}
        out[""] = float(summary.get("wall_seconds", 0.0))
        return out
    except (OSError, ValueError, KeyError, TypeError):
        return {}
