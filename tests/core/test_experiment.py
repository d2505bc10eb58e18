"""The degradation experiment's plan, depths and verdicts (core.experiment), without training."""

from __future__ import annotations

import pytest

from resviz.core.errors import ConfigError
from resviz.core.experiment import (
    CLAIM_KINDS,
    DEGRADATION_ITERS,
    claim_statements,
    degradation_claims,
    degradation_plan,
    parse_depths,
    summary_markdown,
)
from resviz.core.train.config import TrainConfig
from resviz.core.verdicts import Measured, binomial

#: The paper's outcome (section 4.1, Fig. 6): deeper plain worse, residual better, deeper residual better.
PAPER = {"plain20": 5.0, "plain56": 9.0, "resnet20": 3.0, "resnet56": 2.0}
#: Images behind each error in these tests: SE(5 %) = 100·sqrt(.05·.95/10000) = 0.218 points,
#: so every difference of a point or more below is far beyond 2σ.
N = 10_000


def _claims(errors: dict[str, float], depths=(20, 56)):
    return degradation_claims({k: binomial(v, N) for k, v in errors.items()}, depths)


def _by_kind(claims):
    return [(c.kind, c.holds) for c in claims]


def test_the_paper_outcome_bears_out_every_claim_with_its_numbers():
    claims = _claims(PAPER)
    assert _by_kind(claims) == [
        ("degradation", True),
        ("residual_beats_plain", True),
        ("residual_beats_plain", True),
        ("depth_helps", True),
    ]
    assert {c.kind for c in claims} == set(CLAIM_KINDS)
    degradation, res20, res56, depth = claims
    assert degradation.statement == "plain-56 trains worse than plain-20 (the degradation problem)"
    assert degradation.evidence.startswith("training error plain-20 5.0 ± 0.2 %, plain-56 9.0 ± 0.3 %; difference +4.0")
    assert res20.statement == "resnet-20 trains better than plain-20"
    assert res20.evidence.startswith("training error resnet-20 3.0 ± 0.2 %, plain-20 5.0 ± 0.2 %;")
    assert res56.evidence.startswith("training error resnet-56 2.0 ± 0.1 %, plain-56 9.0 ± 0.3 %;")
    assert depth.statement.startswith("resnet-56 trains better than resnet-20")
    assert depth.evidence.startswith("training error resnet-20 3.0 ± 0.2 %, resnet-56 2.0 ± 0.1 %;")


@pytest.mark.parametrize(
    "changed,verdicts",
    [
        # the deeper plain net trains better: no degradation here
        ({"plain56": 4.0}, [False, True, True, True]),
        # the residual 20 trains worse than its plain twin
        ({"resnet20": 6.0}, [True, False, True, True]),
        # the residual 56 trains worse than its plain twin (and so worse than resnet20 too)
        ({"resnet56": 10.0}, [True, True, False, False]),
        # the deeper residual net trains worse than the shallower one
        ({"resnet56": 4.0}, [True, True, True, False]),
    ],
)
def test_each_claim_fails_on_its_own_numbers(changed, verdicts):
    assert [c.holds for c in _claims({**PAPER, **changed})] == verdicts


def test_differences_within_two_standard_errors_are_too_close_to_call():
    def depth_helps(res20: float, res56: float):
        errors = {"plain20": Measured(5.0, None, 0.2), "plain56": Measured(9.0, None, 0.2)}
        # SE 0.3 and 0.4: the SE of the difference is 0.5 exactly, 2σ = 1.0
        errors |= {"resnet20": Measured(res20, None, 0.3), "resnet56": Measured(res56, None, 0.4)}
        return degradation_claims(errors, (20, 56))[-1].holds

    assert depth_helps(3.0, 1.9) is True  # 1.1 points better: beyond 2σ
    assert depth_helps(1.9, 3.0) is False  # 1.1 points worse: a loss
    assert depth_helps(3.0, 2.0) is None  # exactly 2σ: too close to call
    assert depth_helps(3.0, 3.5) is None
    assert depth_helps(3.0, 3.0) is None


def test_more_depths_judge_the_shallowest_against_the_deepest():
    errors = {"plain8": 4.0, "plain14": 6.0, "plain20": 8.0, "resnet8": 3.0, "resnet14": 2.0, "resnet20": 1.0}
    claims = _claims(errors, (14, 8, 20))
    assert [c.statement.split(" trains")[0] for c in claims] == [
        "plain-20",
        "resnet-8",
        "resnet-14",
        "resnet-20",
        "resnet-20",
    ]
    assert all(c.holds for c in claims)


def test_statements_without_numbers_match_the_judged_claims():
    statements = claim_statements((8, 14))
    claims = _claims({"plain8": 1.0, "plain14": 2.0, "resnet8": 0.5, "resnet14": 0.1}, (8, 14))
    assert statements == [(c.kind, c.statement) for c in claims]
    assert [k for k, _ in statements] == ["degradation", "residual_beats_plain", "residual_beats_plain", "depth_helps"]


def test_the_plan_trains_plain_nets_first_then_residual_ones_with_the_same_recipe():
    base = TrainConfig(iters=DEGRADATION_ITERS, lr=0.05)
    plan = degradation_plan(base, (56, 20))
    assert [name for name, _ in plan] == ["plain20", "plain56", "resnet20", "resnet56"]
    assert [cfg.label for _, cfg in plan] == ["plain20", "plain56", "resnet20", "resnet56"]
    assert all(cfg.iters == 600 and cfg.lr == 0.05 for _, cfg in plan)
    assert [cfg.is_plain for _, cfg in plan] == [True, True, False, False]


@pytest.mark.parametrize(
    "text,depths",
    [
        ("20,56", [20, 56]),
        ("56, 20", [20, 56]),
        ("8; 14 20", [8, 14, 20]),
        (" 20 ,, 56 ", [20, 56]),
        ("20, 20, 56", [20, 56]),
    ],
)
def test_depth_lists_from_the_app_and_the_cli(text, depths):
    assert parse_depths(text) == depths


@pytest.mark.parametrize(
    "text,message",
    [
        ("20", "at least two depths"),
        ("20, 20", "at least two depths"),
        ("", "at least two depths"),
        ("20, x", "whole numbers"),
        ("20, 21", r"6n\+2"),
    ],
)
def test_bad_depth_lists_say_what_is_wrong(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_depths(text)


def test_the_summary_lists_runs_and_verdicts():
    rows = [
        {
            "name": n,
            "train_error": e,
            "train_images": N,
            "test_error": None if n == "plain20" else e + 1,
            "test_images": 1000,
            "seconds": 12.4,
        }
        for n, e in PAPER.items()
    ]
    claims = _claims({**PAPER, "resnet56": 2.9})  # 0.1 from resnet20: too close to call
    md = summary_markdown(rows, claims, TrainConfig(iters=600, batch_size=64))
    assert "600 iterations, batch 64" in md
    # SE of 2 % on 10,000 images (plus-two: p~ = 201/10002 = 0.020096):
    # 100·sqrt(0.020096·0.979904/10002) = 0.140; of 3 % on 1,000 (p~ = 31/1002 = 0.030938):
    # 100·sqrt(0.030938·0.969062/1002) = 0.547; of 5 % on 10,000 (p~ = 501/10002): 0.218
    assert "| plain20 | 5.00 ± 0.22 | 10,000 | n/a | 1,000 | 12 |" in md
    assert "| resnet56 | 2.00 ± 0.14 | 10,000 | 3.00 ± 0.55 | 1,000 | 12 |" in md
    assert "Schedule: the paper's schedule: lr 0.1 throughout these 600 iterations" in md
    assert "exceeds 2 standard errors of the difference" in md
    assert md.count("**holds**") == 3 and md.count("**too close to call**") == 1
