"""File > Open of a hostile experiment folder: a damaged paper.json is a message naming
the file (it was a TypeError in the event loop, or the paper's default nine-net plan shown
in the Paper tab), and its runs still open."""

from __future__ import annotations

import json
import shutil

import pytest

from resviz.core.paper.plan import PaperPlan
from resviz.gui.paper.tab import GROUP


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    from resviz.core.paper.run import PaperExperiment

    folder = tmp_path_factory.mktemp("paper") / "exp"
    plan = PaperPlan(data="digits", depths=(8,), plain_depths=(8,), iters=8, batch_size=16, device="cpu")
    PaperExperiment(folder, plan).run()
    return folder


def _copy(experiment, tmp_path, edit):
    folder = tmp_path / "exp"
    shutil.copytree(experiment, folder)
    doc = json.loads((folder / "paper.json").read_text())
    edit(doc)
    (folder / "paper.json").write_text(json.dumps(doc))
    return folder


@pytest.mark.parametrize(
    "edit, words",
    [
        (lambda d: d["plan"].update(iters="8"), "iters must be a whole number"),
        (lambda d: d["plan"].update(overrides={"arch": "resnet50"}), "overrides cannot set arch"),
        (lambda d: d.pop("plan"), '"plan" is missing'),
    ],
)
def test_a_damaged_plan_is_named_and_the_runs_still_open(window, experiment, tmp_path, edit, words):
    folder = _copy(experiment, tmp_path, edit)
    window.open_run_folder(folder)
    assert f"{folder / 'paper.json'} is damaged" in window.last_error and words in window.last_error
    assert "Its runs are open in the list." in window.last_error
    assert sorted(r.name for r in window.runs if r.group == GROUP) == ["plain8", "resnet8"]
    assert window.paper_tab.plan is None or window.paper_tab.plan.iters == 8  # never the default 64k plan


def test_symlinked_and_nested_experiment_folders(window, experiment, tmp_path):
    outer = tmp_path / "outer"
    outer.mkdir()
    (outer / "linked").symlink_to(experiment)  # an experiment folder reached through a link
    shutil.copytree(experiment, outer / "inner")  # and one nested inside another folder
    run = window.open_run_folder(outer / "linked")
    assert run is not None and sorted(r.name for r in window.runs) == ["plain8", "resnet8"]
    assert window.open_run_folder(outer) is None  # a folder of experiment folders is no experiment
    assert "holds experiment folders (inner, linked), not runs: open one of them" in window.last_error
    assert len(window.runs) == 2
