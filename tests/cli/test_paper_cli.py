"""``resviz experiment paper`` at tiny scale: resnet8/14 and plain8/14 on digits, end to end.

Every file exists and parses, Table 6 has a row per net, the claims name a verdict each,
a resumed experiment trains the missing and unfinished nets only, the cost is said before
anything starts, and an hours-long job never starts unasked.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from resviz.cli import main
from resviz.core.paper.claims import CLAIM_TITLES
from resviz.core.paper.plan import PaperPlan
from resviz.core.runs import RunReader
from resviz.core.train import TrainControl, Trainer

TINY = [
    "--data",
    "digits",
    "--depths",
    "8,14",
    "--plain-depths",
    "8,14",
    "--iters",
    "16",
    "--batch-size",
    "16",
    "--device",
    "cpu",
]
NETS = ["plain8", "resnet8", "plain14", "resnet14"]
FILES = ("fig6.png", "fig6.svg", "fig7.png", "fig7.svg", "table6.md", "table6.json", "claims.md", "paper.json")


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    """One tiny experiment, shared: the tests below read it or copy it, never change it."""
    out = tmp_path_factory.mktemp("paper") / "exp"
    code = main(["experiment", "paper", *TINY, "--out", str(out)])
    assert code == 0
    return out


class StopAt:
    """A sink that asks ``control`` to stop once a record reaches ``step``."""

    def __init__(self, control: TrainControl, step: int) -> None:
        self.control, self.step = control, step

    def record(self, r) -> None:
        if r.step >= self.step:
            self.control.stop()

    def event(self, e) -> None:
        pass

    def status(self, s) -> None:
        pass


def _fingerprint(run: Path) -> dict[str, tuple[int, str]]:
    """Every file of a run folder: (mtime in ns, sha256), to see that nothing wrote it.

    SQLite's shared-memory index (``metrics.sqlite-shm``) is mapped by every reader of a
    WAL database, which touches its mtime: its content is compared, not its time.
    """
    return {
        str(p.relative_to(run)): (
            0 if p.name.endswith("-shm") else p.stat().st_mtime_ns,
            hashlib.sha256(p.read_bytes()).hexdigest(),
        )
        for p in sorted(run.rglob("*"))
        if p.is_file()
    }


def test_every_file_exists_and_parses(experiment):
    for name in FILES:
        assert (experiment / name).is_file(), name
    for name in ("fig6.png", "fig7.png"):
        assert (experiment / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for name in ("fig6.svg", "fig7.svg"):
        assert ET.parse(experiment / name).getroot().tag.endswith("svg")
    for name in NETS:
        with RunReader(experiment / name) as reader:
            assert reader.status().status == "finished"
    table = json.loads((experiment / "table6.json").read_text())
    assert [r["net"] for r in table["rows"]] == ["resnet8", "resnet14", "plain8", "plain14"]
    assert all(r["status"] == "finished" and r["step"] == 16 and r["test_error"] is not None for r in table["rows"])
    assert all(r["paper_test_error"] is None for r in table["rows"])  # the paper has no 8- or 14-layer nets
    md = (experiment / "table6.md").read_text()
    assert sum(line.startswith(f"| {n} |") for n in NETS for line in md.splitlines()) == 4
    plan = json.loads((experiment / "paper.json").read_text())
    assert plan["plan"]["depths"] == [8, 14] and plan["data"]["test_images"] == 359


def test_the_claims_name_each_claim_with_a_verdict_and_the_budget(experiment):
    md = (experiment / "claims.md").read_text()
    for kind in ("depth_helps", "degradation", "residual_beats_plain", "responses_smaller", "responses_shrink"):
        assert f"## {CLAIM_TITLES[kind]}" in md
    claims = [line for line in md.splitlines() if line.startswith("- ") and "**" in line]
    assert len(claims) == 7  # 1 depth pair, 1 plain pair, 2 twins, 2 twins, 1 depth pair
    verdicts = ("**holds**", "**does not hold**", "**too close to call**")
    assert all(sum(v in line for v in verdicts) == 1 for line in claims), claims
    assert "16 iterations per net" in md and "seed 0, on digits" in md and "wall time" in md
    assert "fixed test batch, BN in eval mode" in md


def test_report_paper_redraws_the_files_from_the_runs(experiment, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(experiment, copy)
    for name in FILES[:-1]:
        (copy / name).unlink()
    assert main(["report", "--paper", str(copy)]) == 0
    assert all((copy / n).is_file() for n in FILES)
    assert (copy / "table6.md").read_text() == (experiment / "table6.md").read_text()


@pytest.mark.slow
def test_a_resumed_experiment_trains_only_what_is_missing_or_unfinished(experiment, tmp_path, capsys, digits):
    exp = tmp_path / "exp"
    shutil.copytree(experiment, exp)
    before = {n: _fingerprint(exp / n) for n in ("plain8", "resnet8")}
    shutil.rmtree(exp / "resnet14")  # never started
    shutil.rmtree(exp / "plain14")  # interrupted at step 8 (a checkpoint at 8: checkpoint_every is 1/16 of the run)
    cfg = dict(PaperPlan.from_dict(json.loads((exp / "paper.json").read_text())["plan"]).nets())["plain14"]
    control = TrainControl()
    assert (
        Trainer(cfg, run_dir=exp / "plain14", dataset=digits, control=control, sinks=[StopAt(control, 8)]).run()
        == "stopped"
    )
    capsys.readouterr()
    assert main(["experiment", "paper", "--resume", str(exp)]) == 0
    err = capsys.readouterr().err
    assert "already finished, left as they are: plain8, resnet8" in err
    assert "to train: plain14 (resumed), resnet14" in err
    assert {n: _fingerprint(exp / n) for n in ("plain8", "resnet8")} == before  # not touched at all
    with RunReader(exp / "plain14") as reader:
        assert reader.status().status == "finished"
        _, events = reader.read_all()
    assert any(e.kind == "resume" and e.detail.get("from_checkpoint") for e in events)
    table = json.loads((exp / "table6.json").read_text())
    assert all(r["status"] == "finished" and r["step"] == 16 for r in table["rows"])
    # nothing left: a second resume only rewrites the files
    assert main(["experiment", "paper", "--resume", str(exp)]) == 0
    assert "already finished, left as they are: plain8, resnet8, plain14, resnet14" in capsys.readouterr().err


def test_the_cost_is_said_first_and_an_hours_long_job_is_refused_unasked(tmp_path, capsys):
    out = tmp_path / "long"
    code = main(
        [
            "experiment",
            "paper",
            "--data",
            "digits",
            "--depths",
            "8",
            "--plain-depths",
            "none",
            "--iters",
            "1000000",
            "--device",
            "cpu",
            "--out",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert (
        "estimated time on cpu" in err and "the paper's full schedule (64,000 iterations per net) would take" not in err
    )
    assert "resviz: error: the experiment would take about" in err and "add --yes to start it anyway" in err
    assert "a smaller budget: --iters" in err
    assert not out.exists()  # nothing was written
    code = main(["experiment", "paper", *TINY, "--out", str(out), "--estimate"])
    err = capsys.readouterr().err
    assert code == 0 and "estimated time on cpu" in err and "plain8" in err and not out.exists()


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--depths", "20,50"], "ImageNet ResNet"),
        (["--lr", "0.5"], "uses the paper's recipe"),
        (["--resume", "{tmp}", "--depths", "20"], "--resume continues the experiment with its own plan"),
        (["--resume", "{tmp}"], "is not a paper experiment to resume"),
    ],
)
def test_bad_requests_are_one_line_each(argv, message, tmp_path, capsys):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    out = [] if "--resume" in argv else ["--out", str(tmp_path / "x")]
    assert main(["experiment", "paper", *argv, *out]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("resviz: error: ") and message in err[-1]


def test_an_existing_experiment_is_not_replaced_without_force(experiment, capsys):
    assert main(["experiment", "paper", *TINY, "--out", str(experiment)]) == 2
    assert "already holds a paper experiment: continue it with --resume" in capsys.readouterr().err


def test_degradation_refuses_the_paper_experiments_options(tmp_path, capsys):
    assert main(["experiment", "degradation", "--plain-depths", "8", "--out", str(tmp_path / "d")]) == 2
    assert "--plain-depths belong(s) to the paper experiment" in capsys.readouterr().err


def test_a_stop_leaves_a_groups_nets_at_one_step_and_their_claims_are_judged_there(tmp_path):
    from resviz.core.paper.claims import Pending
    from resviz.core.paper.run import PaperExperiment

    plan = PaperPlan(data="digits", depths=(8,), plain_depths=(8,), iters=40, batch_size=16, device="cpu")
    exp = PaperExperiment(tmp_path / "exp", plan)
    assert [[m.name for m in g] for g in exp.groups()] == [["plain8", "resnet8"]]  # twins in one lockstep group
    control = TrainControl()
    groups = []

    def on_group(group):
        groups.append(group)
        group.trainers[0].sinks.append(StopAt(control, 12))  # a Ctrl+C or --time-limit at step 12 of plain8

    report = exp.run(control=control, on_group=on_group)
    assert [len(g.trainers) for g in groups] == [2]
    assert {(r.status, r.step) for r in report.results.values()} == {("stopped", 12)}
    assert not report.complete
    assert report.claims and not any(isinstance(c, Pending) for c in report.claims)  # same step: judged
    md = (tmp_path / "exp" / "claims.md").read_text()
    assert "plain8: stopped at 12 of 40 iterations" in md and "resnet8: stopped at 12 of 40 iterations" in md
