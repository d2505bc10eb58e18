"""Numbers a careless or hostile user types (issue #17 items 15 and 16).

One parser of floating-point flags refuses non-finite numbers in every command; the SGD
step's numbers are bounded to what a float32 step can hold.
"""

from __future__ import annotations

import argparse

import pytest

from resviz.cli import build_parser, main
from resviz.cli._numbers import finite_float
from resviz.core.errors import ConfigError
from resviz.core.limits import RATE_RANGE
from resviz.core.train.config import TrainConfig


def _float_options() -> list[tuple[str, str, object]]:
    """(verb, option, type) of every option that takes one floating-point number."""
    parser = build_parser()
    verbs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    found = []
    for verb, sub in verbs.choices.items():
        for action in sub._actions:
            if action.type in (float, finite_float):
                found.append((verb, action.option_strings[-1], action.type))
    return found


def test_every_float_flag_goes_through_the_one_parser():
    options = _float_options()
    assert ("train", "--lr", finite_float) in options and ("screenshot", "--seconds", finite_float) in options
    assert [o for o in options if o[2] is not finite_float] == []


#: Minimal argument lists that make each verb's other required options present.
_REQUIRED = {
    "train": ["--out", "x"],
    "experiment": ["degradation", "--out", "x"],
    "attribute": ["--checkpoint", "c", "--image", "i"],
    "landscape": ["--checkpoint", "c"],
    "screenshot": ["x.png"],
}


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "NaN", "1e999", "-1e400", "infinity"])
@pytest.mark.parametrize("verb,option", [(v, o) for v, o, _ in _float_options()])
def test_non_finite_numbers_are_refused_by_every_float_flag(capsys, verb, option, value):
    args = [verb, *_REQUIRED.get(verb, []), f"{option}={value}"]
    if verb == "experiment":
        args = ["experiment", *_REQUIRED["experiment"], f"{option}={value}"]
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}: must be a finite number, not '{value}'" in err, err


@pytest.mark.parametrize(
    "field,value,words",
    [
        ("lr", 1e39, "learning rate must be from 1.18e-38 to 1e+06"),
        ("lr", 1e308, "learning rate must be from"),
        ("lr", 1e-320, "learning rate must be from"),  # a denormal: zero in a float32 step
        ("lr", -0.0, "learning rate must be greater than 0"),
        ("weight_decay", 1e308, "weight decay must be 0 or from 1.18e-38 to 1e+06"),
        ("weight_decay", 1e7, "weight decay must be 0 or from"),
        ("warmup_lr", 1e39, "warmup-lr must be from"),
        ("lr_gamma", 10.0, "lr-gamma must be in (0, 1]"),
    ],
)
def test_step_numbers_are_bounded_to_what_the_step_holds(field, value, words):
    with pytest.raises(ConfigError, match=r"^" + words.replace("(", r"\(").replace(")", r"\)").replace("+", r"\+")):
        TrainConfig(arch="resnet8", data="digits", iters=2, **{field: value})


def test_the_bounds_themselves_are_accepted():
    low, high = RATE_RANGE
    assert TrainConfig(arch="resnet8", data="digits", lr=high, weight_decay=high).lr == high
    assert TrainConfig(arch="resnet8", data="digits", lr=low, weight_decay=0.0, lr_gamma=1.0).weight_decay == 0.0


def test_the_cli_refuses_an_overflowing_learning_rate_in_one_line(tmp_path, capsys):
    assert main(["train", "--iters", "2", "--lr", "1e39", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "what the SGD step can hold" in err
    assert not (tmp_path / "r").exists()
