"""``resviz train``'s fast-path switches: --compile, --bf16, --channels-last and their --no- forms."""

from __future__ import annotations

import argparse
import json

import pytest

from resviz.cli import main
from resviz.cli.train import add_parser, config_from_args


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    return parser.parse_args(["train", *argv])


def test_defaults_and_switches_reach_the_config():
    cfg = config_from_args(_parse("--out", "x"))
    assert (cfg.compile, cfg.bf16, cfg.channels_last) == ("auto", True, True)
    cfg = config_from_args(_parse("--out", "x", "--compile", "--no-bf16", "--no-channels-last"))
    assert (cfg.compile, cfg.bf16, cfg.channels_last) == ("on", False, False)
    assert config_from_args(_parse("--out", "x", "--no-compile")).compile == "off"


def test_resume_refuses_new_switches(tmp_path, capsys):
    assert main(["train", "--resume", str(tmp_path / "run"), "--no-compile"]) == 2
    assert "drop --no-compile\n" in capsys.readouterr().err
    # named as typed (was "drop --bf16, --channels-last" for --no-bf16 --no-channels-last)
    assert main(["train", "--resume", str(tmp_path / "run"), "--no-bf16", "--no-channels-last", "--compile"]) == 2
    assert "drop --no-bf16, --no-channels-last, --compile\n" in capsys.readouterr().err


@pytest.mark.slow(seconds=45)
def test_compiled_cpu_run_reports_compile_time_apart(tmp_path, capsys):
    run = tmp_path / "run"
    code = main(
        [
            "train",
            "--arch",
            "resnet8",
            "--iters",
            "4",
            "--batch-size",
            "32",
            "--telemetry-every",
            "2",
            "--eval-every",
            "4",
            "--device",
            "cpu",
            "--quiet",
            "--compile",
            "--out",
            str(run),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "finished 4/4 iterations" in out
    line = next(line for line in out.splitlines() if line.startswith("compiled the step in"))
    assert "not counted in images/s" in line and "no CUDA graphs" in line
    assert json.loads((run / "config.json").read_text())["compile"] == "on"
    seconds = float(line.split(" in ")[1].split(" s")[0])
    assert seconds > 0
