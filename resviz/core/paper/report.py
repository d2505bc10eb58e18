"""Every file of a paper experiment folder, written from the runs' folders in it.

```
DIR/
  paper.json            the plan (depths, budget, data) and facts about the data
  plain20/ resnet20/ ...  one run folder per net (resviz train's layout; with --seeds,
                        plain20-seed0/ plain20-seed1/ ...: one per net and seed)
  fig6.png  fig6.svg    Fig. 6: plain nets left, ResNets right
  fig7.png  fig7.svg    Fig. 7: response stds in layer order and sorted
  table6.md table6.json Table 6: ours beside the paper's
  claims.md             each claim of section 4.2 with its verdict and its budget
```

``resviz experiment paper`` writes them when its nets end, ``resviz report --paper DIR``
redraws them at any time (also while the nets train, or after an interrupted run), and
without ``paper.json`` the plan is inferred from the run folders found in ``DIR``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..durations import format_duration
from ..errors import ConfigError, RunError
from ..experiment import PLAN_FILE as DEGRADATION_PLAN
from ..outputs import check_output
from ..runs.files import read_json, write_json_atomic
from ..runs.reader import RunReader, is_run_folder, run_folders_in
from ..write_errors import discard
from .agreement import disagreement
from .claims import Judged, claims_markdown, paper_claims
from .figures import draw_fig6, draw_fig7, matplotlib_missing, save_figure
from .plan import PLAN_FILE, PaperPlan
from .results import NetResult, merge_seeds, missing_result, read_result, wall_seconds
from .table import TableRow, table_json, table_markdown, table_rows

__all__ = [
    "OUTPUT_FILES",
    "PaperReport",
    "budget_lines",
    "check_report_outputs",
    "collect_results",
    "read_plan",
    "write_paper_report",
    "write_plan",
]

OUTPUT_FILES = ("fig6.png", "fig6.svg", "fig7.png", "fig7.svg", "table6.md", "table6.json", "claims.md")


@dataclass
class PaperReport:
    """What an experiment folder holds and what was written from it."""

    folder: Path
    plan: PaperPlan
    results: dict[str, NetResult]
    rows: list[TableRow]
    claims: list[Judged]
    facts: dict = field(default_factory=dict)
    written: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every net finished its iterations."""
        return all(r.finished for r in self.results.values())


def write_plan(folder: Path, plan: PaperPlan, facts: dict | None = None) -> None:
    """``paper.json``: the plan, and what is known of the data (test images, classes)."""
    write_json_atomic(folder / PLAN_FILE, {"plan": plan.to_dict(), "data": dict(facts or {})})


def read_plan(folder: str | Path) -> tuple[PaperPlan, dict, list[str]]:
    """(plan, data facts, notes) of an experiment folder; inferred from its runs without paper.json."""
    folder = Path(folder).expanduser()
    if (folder / PLAN_FILE).is_file():
        path = folder / PLAN_FILE
        doc = read_json(path)
        if not isinstance(doc.get("plan"), dict):
            # Never the default plan (all nine of the paper's nets on CIFAR-10, 64k
            # iterations each) in place of a plan that is missing: --resume would train them.
            raise RunError(f'{path} is damaged: its "plan" is {_shown(doc.get("plan"))}, not a JSON object')
        try:
            plan = PaperPlan.from_dict(doc["plan"])
        except ConfigError as exc:
            raise RunError(f"{path} is damaged: {exc}") from None
        notes: list[str] = []
        return plan, _facts(doc.get("data"), path, notes), notes
    if (folder / DEGRADATION_PLAN).is_file():  # its own report is report.png and summary.md
        raise RunError(
            f"{folder} is a degradation experiment's folder ({DEGRADATION_PLAN}), not a paper experiment's: "
            "its report is its summary.md and report.png"
        )
    runs = run_folders_in(folder)
    if not runs:
        raise RunError(f"{folder} holds no {PLAN_FILE} and no run folders: it is not a paper experiment folder")
    depths: dict[str, set[int]] = {"resnet": set(), "plain": set()}
    config: dict = {}
    seeds: set[int] = set()
    for p in runs:
        with RunReader(p) as reader:
            config = reader.config
        from ..archs import spec_of

        spec = spec_of(config)
        if spec is not None and spec.family == "cifar":
            depths[spec.kind].add(spec.depth)
        if "-seed" in p.name:  # a folder of --seeds: plain20-seed1
            seeds.add(int(config.get("seed", 0)))
    plan = PaperPlan(
        data=str(config.get("data", "cifar10")),
        depths=tuple(sorted(depths["resnet"] or depths["plain"])),
        plain_depths=tuple(sorted(depths["plain"])),
        iters=int(config.get("iters", 64_000)),
        seed=min(seeds, default=int(config.get("seed", 0))),
        seeds=len(seeds) or 1,
        batch_size=int(config.get("batch_size", 128)),
        schedule=str(config.get("schedule", "scaled")),  # runs from before the field were scaled
    )
    return plan, {}, [f"{folder} has no {PLAN_FILE}: the plan was inferred from its {len(runs)} run folders"]


#: The facts about the data that paper.json keeps, with their type (see :func:`write_plan`).
_FACTS = {"test_images": int, "classes": int, "describe": str}


def _shown(value: object) -> str:
    return "missing" if value is None else repr(value)[:60]


def _facts(data: object, path: Path, notes: list[str]) -> dict:
    """The well-formed facts of ``data``; a damaged one is left out with a note (the
    report then counts on its defaults: ten classes, no test-image tie margin)."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        notes.append(f'{path}: its "data" is not a JSON object; left out')
        return {}
    out = {}
    for key, kind in _FACTS.items():
        value = data.get(key)
        good = isinstance(value, kind) and not isinstance(value, bool) and (kind is str or value >= 1)
        if good:
            out[key] = value
        elif value is not None:
            notes.append(f"{path}: data {key} {_shown(value)} is not a {'text' if kind is str else 'count'}; left out")
    return out


def collect_results(folder: Path, plan: PaperPlan) -> dict[str, NetResult]:
    """Each planned net's numbers from ``folder/<name>`` (missing where it has not started),
    keyed by net: the seeds of a net are merged into one (:func:`merge_seeds`)."""
    out = {}
    for name, cfg in plan.nets():
        run_dir = folder / name
        out[name] = (
            read_result(run_dir, name=name, iters=cfg.iters, batch_size=cfg.batch_size)
            if is_run_folder(run_dir)
            else missing_result(name, cfg.iters)
        )
    return merge_seeds(out)


def _disagreements(folder: Path, plan: PaperPlan) -> list[str]:
    """A note for each run folder that holds something other than the plan's net."""
    notes = []
    for name, cfg in plan.nets():
        if is_run_folder(folder / name):
            with RunReader(folder / name) as reader:
                differs = disagreement(reader.config, cfg)
            if differs:
                notes.append(
                    f"{folder / name} is not the net the plan names: {differs}; its numbers are shown as they are"
                )
    return notes


def budget_lines(plan: PaperPlan, results: dict[str, NetResult], facts: dict) -> list[str]:
    """The budget the claims ran with: schedule, data, device, wall time, unfinished nets."""
    lines = [plan.budget() + (f" ({facts['describe']})" if facts.get("describe") else "")]
    runs = [x for r in results.values() for x in r.seeds]  # each seed's run on its own
    devices = sorted({r.device for r in runs if r.device})
    if devices:
        lines.append("device: " + ", ".join(devices))
    timed = [r for r in runs if r.seconds]
    if timed:
        lines.append(
            f"wall time {format_duration(wall_seconds(timed))} for {len(timed)} net(s), the nets of a "
            "lockstep group together; each net from its start to its end: "
            + ", ".join(f"{r.name} {format_duration(r.seconds)}" for r in timed)
        )
    for r in runs:
        if not r.finished:
            lines.append(f"{r.name}: {r.status} at {r.step:,} of {r.iters:,} iterations")
    return lines


def check_report_outputs(folder: Path) -> None:
    """Refuse, before any training, an experiment folder whose outputs cannot be written."""
    # The plans are read, never written over (a symlink fig6.png -> paper.json would be).
    plans = (folder / PLAN_FILE, folder / "experiment.json")
    for name in OUTPUT_FILES:
        check_output(folder / name, inputs=plans, what="experiment's output")


def write_paper_report(folder: str | Path, *, figures: bool = True) -> PaperReport:
    """Read every run of the experiment folder and write its table, claims and figures."""
    folder = Path(folder).expanduser()
    plan, facts, notes = read_plan(folder)
    check_report_outputs(folder)
    results = collect_results(folder, plan)
    notes += _disagreements(folder, plan)
    rows = table_rows(results.values(), int(facts.get("classes") or 10), facts.get("test_images"))
    claims = paper_claims(plan, results, facts.get("test_images"))
    report = PaperReport(folder, plan, results, rows, claims, facts, notes=notes)
    title = f"Table 6: test error on {_data_name(plan.data)} (the paper's on CIFAR-10); {plan.budget()}"
    _write(folder / "table6.md", table_markdown(rows, title), report)
    _write(
        folder / "table6.json",
        json.dumps(table_json(rows, budget=plan.budget(), plan=plan.to_dict()), indent=2) + "\n",
        report,
    )
    _write(
        folder / "claims.md",
        claims_markdown(plan, claims, budget_lines(plan, results, facts), facts.get("test_images")),
        report,
    )
    if figures:
        missing = matplotlib_missing()
        if missing:
            report.notes.append(missing.replace("DIR", str(folder)))
        else:
            shown = [r for r in results.values() if r.status != "missing"]
            data = _data_name(plan.data)
            for stem, draw in (("fig6", draw_fig6), ("fig7", draw_fig7)):
                try:
                    report.written += save_figure(draw(shown, data), folder / stem)
                except OSError as exc:
                    raise RunError(f"cannot write {folder / stem}.png/.svg: {exc.strerror or exc}") from exc
    return report


def _data_name(data: str) -> str:
    """``CIFAR-10``, ``digits``, or a folder's name."""
    return {"cifar10": "CIFAR-10"}.get(data, Path(data).name or data)


def _write(path: Path, text: str, report: PaperReport) -> None:
    """Write ``text`` into a temporary file and move it into place (see :func:`save_figure`)."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    except OSError as exc:
        raise RunError(f"cannot write {path}: {exc.strerror or exc}") from exc
    finally:
        discard(tmp)
    report.written.append(path)
