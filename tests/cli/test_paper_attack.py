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
