"""The ``resviz`` command: version, help, models, ``python -m resviz``."""

from __future__ import annotations

import json
import subprocess
import sys

import resviz
from resviz.cli import main


def test_version_and_help(capsys):
    import pytest

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert resviz.__version__ in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "models" in capsys.readouterr().out


def test_models_table(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "resnet56" in out and "853,018" in out and "none (plain)" in out


def test_models_json(capsys):
    assert main(["models", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by_name = {r["name"]: r for r in rows}
    assert by_name["resnet20"]["params"] == 269_722
    assert by_name["resnet50"]["family"] == "imagenet"
    assert all({"name", "family", "depth", "params"} <= set(r) for r in rows)


def test_python_dash_m_resviz():
    res = subprocess.run([sys.executable, "-m", "resviz", "--version"], capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout.strip() == f"resviz {resviz.__version__}"
