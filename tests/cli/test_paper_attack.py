"""Hostile experiment folders for ``resviz experiment paper --resume`` and ``report --paper``:
a run folder holding another net than the plan's is refused before anything loads, and
named in the report (found by attack: it was resumed and compared without a word)."""

from __future__ import annotations

import json
import shutil

import pytest

from resviz.cli import main

TINY = ["--data", "digits", "--depths", "8", "--plain-depths", "8", "--iters", "8", "--batch-size", "16"]


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    out = tmp_path_factory.mktemp("paper") / "exp"
    assert main(["experiment", "paper", *TINY, "--device", "cpu", "--out", str(out)]) == 0
    return out


def _files(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(
    "edit, words",
    [
        ({"arch": "resnet14"}, "it trains resnet14, the plan resnet8"),
        ({"iters": 5}, "it was trained with iters 5 (the plan: 8)"),
    ],
)
def test_a_run_folder_holding_another_net_is_refused_and_named(experiment, tmp_path, capsys, edit, words):
    exp = tmp_path / "exp"
    shutil.copytree(experiment, exp)
    config = exp / "resnet8" / "config.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), **edit}))
    (exp / "resnet8" / "status.json").write_text(
        json.dumps({**json.loads((exp / "resnet8" / "status.json").read_text()), "status": "stopped"})
    )
    before = _files(exp / "resnet8")
    capsys.readouterr()
    assert main(["experiment", "paper", "--resume", str(exp)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"resviz: error: {exp / 'resnet8'} is not the net paper.json plans there: {words};")
    assert "paper experiment:" not in err  # refused before the data loads
    assert _files(exp / "resnet8") == before
    assert main(["report", "--paper", str(exp)]) == 0
    assert f"note: {exp / 'resnet8'} is not the net the plan names: {words}" in capsys.readouterr().err


def test_report_paper_never_writes_through_a_link_onto_the_plan_or_elsewhere(experiment, tmp_path, capsys):
    exp = tmp_path / "exp"
    shutil.copytree(experiment, exp)
    plan = (exp / "paper.json").read_bytes()
    (exp / "fig6.png").unlink()
    (exp / "fig6.png").symlink_to("paper.json")
    assert main(["report", "--paper", str(exp)]) == 2
    assert "fig6.png is also an input that is being read" in capsys.readouterr().err
    assert (exp / "paper.json").read_bytes() == plan  # was replaced by a PNG
    (exp / "fig6.png").unlink()
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    for name in ("fig7.svg", "claims.md"):
        (exp / name).unlink()
        (exp / name).symlink_to(precious)
    assert main(["report", "--paper", str(exp)]) == 0
    assert precious.read_text() == "keep me"  # was written through
    assert not (exp / "fig7.svg").is_symlink() and (exp / "fig7.svg").read_bytes().lstrip().startswith(b"<?xml")
    assert (exp / "claims.md").read_text().startswith("# The paper's CIFAR-10 claims")
    assert not [p.name for p in exp.iterdir() if ".tmp" in p.name]  # no temporary file left
