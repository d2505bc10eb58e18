"""The degradation experiment of the paper's Fig. 1 and Fig. 6, as one call.

Plain and residual nets at two (or more) depths are trained with the same recipe, then
the paper's three claims are checked against what happened:

1. the degradation problem: the deeper *plain* net has the higher training error;
2. at every depth the residual net trains better than the plain net of that depth;
3. the deeper residual net trains better than the shallower one.

Claims are judged on the training error (the paper's point is that degradation is an
optimisation difficulty, not overfitting), averaged over the last 5 % of records
(:func:`resviz.core.runs.history.settled_mean`, the rule the report and the app use too),
by the one rule of :mod:`resviz.core.verdicts`: a difference is called only when it exceeds
two standard errors of the difference (binomial on the settled window's images, or the
spread across seeds with ``seeds`` > 1), else it is too close to call.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from .archs import arch_name, parse_arch
from .errors import ConfigError
from .outputs import write_text_atomic
from .train.config import TrainConfig
from .train.schedule import describe_schedule
from .verdicts import K_SIGMA, Measured, across_seeds, compare, difference_note, rule_text, verdict

if TYPE_CHECKING:
    from .train.group import LockstepGroup

__all__ = [
    "Claim",
    "CLAIM_KINDS",
    "DEFAULT_DEPTHS",
    "DEGRADATION_ITERS",
    "K_SIGMA",
    "net_measurements",
    "net_of",
    "claim_statements",
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
#: The most seeds ``--seeds`` trains of each net (the paper's Table 6 uses 5 for ResNet-110).
MAX_SEEDS = 20

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


def seed_name(name: str, seed: int, seeds: int) -> str:
    """The run folder of net ``name`` trained with ``seed``: ``plain20`` alone, ``plain20-seed1``
    when the experiment trains several seeds of each net."""
    return name if seeds == 1 else f"{name}-seed{seed}"


def net_of(run_name: str) -> str:
    """The net a run folder holds: ``plain20-seed1`` -> ``plain20`` (the inverse of :func:`seed_name`)."""
    stem, sep, seed = run_name.rpartition("-seed")
    return stem if sep and stem and seed.isdigit() else run_name


def degradation_plan(
    base: TrainConfig, depths: Sequence[int] = DEFAULT_DEPTHS, seeds: int = 1
) -> list[tuple[str, TrainConfig]]:
    """(run name, config) for plain and residual nets at each depth, plain ones first.

    ``seeds`` > 1 trains each net that many times, with seeds ``base.seed``, ``base.seed+1``
    ...; the twins (plain20 and resnet20) share each seed, so they still draw the same
    batches, crops and flips.
    """
    if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= MAX_SEEDS:
        raise ConfigError(f"seeds must be a whole number from 1 to {MAX_SEEDS}, not {seeds!r}")
    plan = []
    for i in range(seeds):
        for plain in (True, False):
            for d in sorted(depths):
                cfg = replace(base, arch=arch_name(d), plain=plain, seed=base.seed + i)
                plan.append((seed_name(cfg.spec.name, cfg.seed, seeds), cfg))
    return plan


def net_measurements(rows: Sequence[dict], kind: str = "train") -> dict[str, Measured]:
    """One :class:`Measured` error per net (``plain20`` ...) from the experiment's rows.

    ``rows`` carry ``net``, ``<kind>_error`` and ``<kind>_images``; a net with several
    seeds is their mean with the spread across seeds (:func:`~resviz.core.verdicts.across_seeds`).
    """
    values: dict[str, list[tuple[float, int | None]]] = {}
    for r in rows:
        if r.get(f"{kind}_error") is None:
            continue
        values.setdefault(r.get("net", r["name"]), []).append((r[f"{kind}_error"], r.get(f"{kind}_images")))
    return {net: across_seeds([v for v, _ in vs], [n for _, n in vs]) for net, vs in values.items()}


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


def degradation_claims(
    train_error: dict[str, Measured], depths: Sequence[int] = DEFAULT_DEPTHS, k: float = K_SIGMA
) -> list[Claim]:
    """Judge the claims from settled training errors keyed by net name (``plain20`` ...).

    Each is a :class:`~resviz.core.verdicts.Measured` (its value, images and standard
    error); a claim is called only when the difference exceeds ``k`` standard errors of the
    difference (:func:`~resviz.core.verdicts.compare`).
    """
    e = train_error
    claims = []
    for x in _expectations(depths):
        evidence = "training error " + ", ".join(f"{_shown(n)} {e[n]}" for n in x.shown)
        evidence += "; " + difference_note(e[x.lower], e[x.higher], k)
        claims.append(Claim(x.kind, x.statement, compare(e[x.lower], e[x.higher], k), evidence))
    return claims


def _percent(value: float | None, se: float | None = None) -> str:
    """An error for the table, ``86.21 ± 0.69`` with its standard error; n/a for a net that
    recorded none (it failed at once)."""
    if value is None:
        return "n/a"
    return f"{value:.2f}" if se is None else f"{value:.2f} ± {se:.2f}"


def _evaluation_words(base: TrainConfig) -> str:
    if base.eval_subset:
        return (
            f"test error during training on a fixed class-stratified subset of {base.eval_subset:,} test images "
            "(the whole split when it is smaller), "
            "on the full test split at the end"
        )
    return "test error on the full test split at every evaluation"


def summary_markdown(
    rows: list[dict], claims: list[Claim], base: TrainConfig, seeds: int = 1, timing: dict | None = None
) -> str:
    """The table of final errors (± one standard error) and the claims, as Markdown."""
    seeded = (
        f"seeds {base.seed}–{base.seed + seeds - 1} (mean ± std over {seeds} runs)"
        if seeds > 1
        else f"seed {base.seed}"
    )
    lines = [
        f"Degradation experiment on {base.data}: {base.iters} iterations, batch {base.batch_size}, "
        f"lr {base.lr:g}{' with warm-up' if base.warmup else ''}, {seeded}.",
        f"Schedule: {describe_schedule(base)}.",
        f"Evaluation: {_evaluation_words(base)}.",
        "",
    ]
    if seeds > 1:
        lines += _seed_table(rows)
    else:
        lines += [
            "| net | training error (%) | train images | test error (%) | test images | time (s) |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for r in rows:
            tr = row_measured(r, "train")
            te = row_measured(r, "test")
            lines.append(
                f"| {r['name']} | {_percent(r['train_error'], tr.se if tr else None)} | {_count(r.get('train_images'))} "
                f"| {_percent(r['test_error'], te.se if te else None)} | {_count(r.get('test_images'))} "
                f"| {r['seconds']:.0f} |"
            )
    lines += [
        "",
        "± is one standard error (binomial on the images measured)"
        + (", or across seeds: the standard error of the mean" if seeds > 1 else "")
        + ".",
    ]
    if timing:
        lines += ["", timing_line(timing)]
    lines += ["", "What the paper expects, and what happened:", ""]
    lines += [f"- {c.statement}: **{verdict(c.holds)}** ({c.evidence})" for c in claims]
    if claims:
        lines += ["", rule_text()]
    return "\n".join(lines) + "\n"


def _count(n) -> str:
    return "—" if not n else f"{int(n):,}"


def row_measured(row: dict, kind: str) -> Measured | None:
    """A row's error as a :class:`Measured` (binomial on its image count), None when absent."""
    from .verdicts import binomial

    value = row.get(f"{kind}_error")
    return None if value is None else binomial(value, row.get(f"{kind}_images"))


def _seed_table(rows: list[dict]) -> list[str]:
    """One line per net: mean ± std over the seeds (Table 6's "mean ± std"), and the SE of the mean."""
    lines = [
        "| net | seeds | training error (%), mean ± std | SE of mean | test error (%), mean ± std | SE of mean | time (s) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    train, test = net_measurements(rows, "train"), net_measurements(rows, "test")
    nets = list(dict.fromkeys(r.get("net", r["name"]) for r in rows))
    for net in nets:
        mine = [r for r in rows if r.get("net", r["name"]) == net]
        seconds = sum(r["seconds"] for r in mine)
        cells = []
        for m in (train.get(net), test.get(net)):
            if m is None:
                cells += ["n/a", "—"]
            else:
                cells += [f"{m.value:.2f} ± {(m.std or 0.0):.2f}", "—" if m.se is None else f"{m.se:.2f}"]
        lines.append(f"| {net} | {len(mine)} | {cells[0]} | {cells[1]} | {cells[2]} | {cells[3]} | {seconds:.0f} |")
    return lines


def timing_line(timing: dict) -> str:
    """Wall time, the group's images/s, each net's share of step time and the evaluation's share."""
    shares = ", ".join(f"{name} {share:.0%}" for name, share in timing["step_share"].items())
    return (
        f"Wall time {timing['wall_seconds']:.0f} s for the nets together: {timing['images_per_s']:.0f} images/s "
        f"for the group; each net's share of the training-step time: {shares}; evaluating took "
        f"{timing['eval_seconds']:.0f} s ({timing['eval_share']:.0%} of the wall time)."
    )


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
    seeds: int = 1,
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
    plan = degradation_plan(base, depths, seeds)
    # Refuse up front rather than after an hour of training: a report written into a run
    # folder, or a live run replaced by --force (issue #9).
    for name in (*REPORT_FILES, PLAN_FILE):
        check_output(out / name, what="experiment's output")
    for name, _ in plan:
        RunStore.check_new(out / name, force=force)
    group = LockstepGroup([cfg for _, cfg in plan], run_dirs=[out / name for name, _ in plan], force=force)
    write_json_atomic(
        out / PLAN_FILE,
        {"experiment": "degradation", "config": base.to_dict(), "depths": list(depths), "seeds": seeds},
    )
    return _train_and_report(out, base, depths, group, on_group, seeds)


def _read_plan_file(path: Path) -> tuple[TrainConfig, list[int], int]:
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
    seeds = doc.get("seeds", 1)  # experiments from before --seeds trained one of each
    if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= MAX_SEEDS:
        raise RunError(f'{path} is damaged: its "seeds" is {json.dumps(seeds)}, not a number of seeds; {fix}')
    try:
        return TrainConfig.from_dict(doc["config"]), list(depths), seeds
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
    base, depths, seeds = _read_plan_file(out / PLAN_FILE)
    for name in REPORT_FILES:
        check_output(out / name, what="experiment's output")
    # A net with nothing to continue from (killed before its first checkpoint, or before its
    # folder was made) trains again from step 0 in its own slot, with the plan's settings:
    # the advice was `resviz train --out DIR/plain8 --force`, a default resnet20 (issue #17).
    plan = degradation_plan(base, depths, seeds)
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
    return _train_and_report(out, base, depths, LockstepGroup.resume(todo, fresh=fresh), on_group, seeds)


def _has_checkpoint(run_dir: Path) -> bool:
    from .runs.reader import RunReader

    with RunReader(run_dir) as reader:
        return bool(reader.checkpoints())


def _config_on_disk(run_dir: Path) -> TrainConfig:
    from .runs.reader import RunReader

    with RunReader(run_dir) as reader:
        return TrainConfig.from_dict(reader.config)


def _train_and_report(out: Path, base: TrainConfig, depths: Sequence[int], group, on_group, seeds: int = 1) -> dict:
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
    evaluating = {t.run_dir.name: t.eval_seconds for t in group.trainers}
    trained = {t.run_dir.name: t.status for t in group.trainers}
    rows = []
    for name, cfg in degradation_plan(base, depths, seeds):
        history = load_history(out / name)
        status = trained.get(name) or _status_on_disk(out / name)
        seconds = earlier.get(name, 0.0) + spent.get(name, 0.0)
        rows.append(
            {
                "name": name,
                "net": cfg.spec.name,
                "seed": cfg.seed,
                "status": status,
                "seconds": seconds,
                "eval_seconds": earlier.get("eval:" + name, 0.0) + evaluating.get(name, 0.0),
                "steps": history.last_step,
                **history.final_errors(),
                **history.final_counts(cfg.batch_size),
            }
        )
    histories = [load_history(out / r["name"], label=r["name"]) for r in rows]
    save_report(histories, out / "report.png", title=f"plain vs residual nets on {base.data}")
    complete = all(r["status"] == "finished" for r in rows)
    measured = net_measurements(rows, "train")
    claims = degradation_claims(measured, depths) if complete else []
    wall_seconds = earlier.get("", 0.0) + wall  # the nets trained together: one clock for all
    timing = group_timing(rows, wall_seconds, base.batch_size)
    summary = {
        "config": base.to_dict(),
        "depths": list(depths),
        "seeds": seeds,
        "runs": rows,
        "train_error": {net: m.to_dict() for net, m in measured.items()},
        "test_error": {net: m.to_dict() for net, m in net_measurements(rows, "test").items()},
        "claims": [asdict(c) for c in claims],
        "rule": {"k_sigma": K_SIGMA, "text": rule_text()},
        "complete": complete,
        "wall_seconds": wall_seconds,
        "timing": timing,
    }
    # Atomic: a crash or a full disk while writing keeps the last summary whole.
    write_text_atomic(out / "summary.json", json.dumps(summary, indent=2))
    write_text_atomic(out / "summary.md", summary_markdown(rows, claims, base, seeds, timing))
    return summary


def group_timing(rows: Sequence[dict], wall_seconds: float, batch_size: int) -> dict:
    """What the lockstep group's time went to, in numbers that mean something together.

    The nets step in turn from one thread, so one net's images/s over its own clock is not
    its speed: ``images_per_s`` is every net's training images over the group's wall time,
    ``step_share`` each net's share of the time spent in training steps (evaluation
    excluded), and ``eval_seconds``/``eval_share`` the evaluations apart.
    """
    evaluating = sum(r.get("eval_seconds", 0.0) for r in rows)
    stepping = {r["name"]: max(r["seconds"] - r.get("eval_seconds", 0.0), 0.0) for r in rows}
    total_step = sum(stepping.values()) or 1.0
    images = sum(r.get("steps", 0) for r in rows) * batch_size
    return {
        "wall_seconds": wall_seconds,
        "images": images,
        "images_per_s": images / wall_seconds if wall_seconds > 0 else 0.0,
        "step_share": {name: s / total_step for name, s in stepping.items()},
        "eval_seconds": evaluating,
        "eval_share": evaluating / wall_seconds if wall_seconds > 0 else 0.0,
    }


def _status_on_disk(run_dir: Path) -> str:
    from .runs.reader import RunReader

    with RunReader(run_dir) as reader:
        return reader.status().status


def _earlier_seconds(path: Path) -> dict[str, float]:
    """Seconds per net (and the wall time, under "") of an earlier part of this experiment."""
    try:
        summary = json.loads(path.read_text())
        out = {r["name"]: float(r["seconds"]) for r in summary["runs"]}
        out.update({"eval:" + r["name"]: float(r.get("eval_seconds", 0.0)) for r in summary["runs"]})
        out[""] = float(summary.get("wall_seconds", 0.0))
        return out
    except (OSError, ValueError, KeyError, TypeError):
        return {}
