"""``resviz experiment paper --seeds N``: the plan, Table 6's "best (mean ± std)" and the claims
judged on the spread across seeds, on results made by hand (no training)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from resviz.core.errors import ConfigError, RunError
from resviz.core.paper.claims import paper_claims
from resviz.core.paper.cost import DataShape, Speed, estimate_cost
from resviz.core.paper.plan import PaperPlan
from resviz.core.paper.report import read_plan
from resviz.core.paper.results import NetResult, merge_seeds
from resviz.core.paper.table import table_json, table_markdown, table_rows

# -- the plan -------------------------------------------------------------------------


def test_each_net_trains_once_per_seed_and_the_twins_share_each_seed():
    plan = PaperPlan(depths=(20, 56), plain_depths=(20,), seed=3, seeds=2)
    assert plan.names() == [
        "plain20-seed3",
        "resnet20-seed3",
        "plain20-seed4",
        "resnet20-seed4",
        "resnet56-seed3",
        "resnet56-seed4",
    ]
    configs = dict(plan.nets())
    assert configs["plain20-seed4"].seed == configs["resnet20-seed4"].seed == 4
    assert configs["plain20-seed4"].is_plain and configs["resnet56-seed3"].arch == "resnet56"
    # every seed of a depth trains in that depth's lockstep group on a CPU; one group on a GPU
    assert plan.groups("cpu") == [plan.names()[:4], plan.names()[4:]]
    assert plan.groups("cuda") == [plan.names()]
    assert "seeds 3–4 (2 runs of each net)" in plan.budget()


def test_the_plan_with_seeds_survives_its_json_file_and_an_old_file_reads_as_one_seed():
    plan = PaperPlan(data="digits", depths=(8, 14), plain_depths=(8,), iters=30, seed=3, seeds=3)
    assert plan.to_dict()["seeds"] == 3
    assert PaperPlan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan
    one = PaperPlan(data="digits", depths=(8,), plain_depths=(), iters=30)
    assert "seeds" not in one.to_dict()  # paper.json exactly as before --seeds
    old = {k: v for k, v in plan.to_dict().items() if k != "seeds"}
    assert PaperPlan.from_dict(old).seeds == 1


@pytest.mark.parametrize("seeds", [0, 6, True, "2", 2.0, None])
def test_a_bad_number_of_seeds_says_what_to_give(seeds):
    with pytest.raises(ConfigError, match=r"^seeds takes a whole number from 1 to 5 .*, not "):
        PaperPlan(depths=(8,), plain_depths=(), seeds=seeds)


def test_a_damaged_seeds_in_paper_json_is_one_line(tmp_path):
    doc = {"plan": {**PaperPlan(data="digits", depths=(8,), plain_depths=()).to_dict(), "seeds": True}}
    (tmp_path / "paper.json").write_text(json.dumps(doc))
    with pytest.raises(RunError, match=r"paper.json is damaged: seeds takes a whole number from 1 to 5") as info:
        read_plan(tmp_path)
    assert "\n" not in str(info.value)


def test_the_cost_counts_every_seed():
    shape = DataShape(3, 16, 10, train=1000, test=300)
    speeds = {8: Speed(8, 1000.0, 3000.0)}
    one = PaperPlan(data="digits", depths=(8,), plain_depths=(8,), iters=100, batch_size=10)
    three = PaperPlan(data="digits", depths=(8,), plain_depths=(8,), iters=100, batch_size=10, seeds=3)
    a = estimate_cost(one, shape, speeds, device="cpu")
    b = estimate_cost(three, shape, speeds, device="cpu")
    per_net = 100 * 10 / 1000 + 25 * 600 / 3000  # as in test_paper.py: 1 s training + 5 s evaluating
    assert len(b.nets) == 6 and b.seconds == pytest.approx(6 * per_net) == pytest.approx(3 * a.seconds)
    assert b.full_schedule_seconds == pytest.approx(3 * a.full_schedule_seconds)


# -- Table 6 --------------------------------------------------------------------------


def _run(name, train, test, *, step=1000, status="finished", train_curve=None, test_images=10_000):
    steps = np.arange(10, step + 1, 10)
    values = np.full(len(steps), float(train)) if train_curve is None else np.asarray(train_curve, float)
    return NetResult(
        name=name,
        status=status,
        step=step,
        iters=1000,
        train_error=train,
        test_error=test,
        train_curve=(steps, values),
        test_curve=(steps[::10], np.full(len(steps[::10]), float(test))),
        responses=np.array([1.0, 0.5]),
        responses_metric="test_response_std",
        train_images=10_000,
        test_images=test_images,
    )


def _seeded(net, trains, tests, **kw):
    return {
        f"{net}-seed{i}": _run(f"{net}-seed{i}", a, b, **kw) for i, (a, b) in enumerate(zip(trains, tests, strict=True))
    }


def test_table6_gives_best_mean_and_std_over_the_seeds_as_the_paper_does_for_resnet110():
    # Test errors 6.50, 6.80, 6.20: best 6.20; mean 6.50; sample std sqrt((0 + .09 + .09) / 2) = 0.30.
    # Training errors 1.0, 2.0, 3.0: mean 2.00, std sqrt((1 + 0 + 1) / 2) = 1.00.
    results = merge_seeds(_seeded("resnet110", [1.0, 2.0, 3.0], [6.5, 6.8, 6.2]))
    assert list(results) == ["resnet110"] and len(results["resnet110"].runs) == 3
    (row,) = table_rows(results.values())
    assert row.seeds == 3 and row.test_best == pytest.approx(6.2)
    assert row.test_error == pytest.approx(6.5) and row.test_std == pytest.approx(0.3)
    assert row.train_error == pytest.approx(2.0) and row.train_std == pytest.approx(1.0)
    assert row.difference == pytest.approx(6.2 - 6.43)  # our best against the paper's best of 5
    # SE of the mean 0.30/sqrt(3) = 0.173 beats the pooled binomial floor 100·sqrt(.065·.935/30000) = 0.142
    assert row.test_se == pytest.approx(0.3 / np.sqrt(3))
    md = table_markdown([row], "Table 6")
    assert "| resnet110 | 18 | 110 | 1.73M | 1.7M | 6.20 (6.50 ± 0.30) | 6.43 | -0.23 | 2.00 ± 1.00 | finished |" in md
    assert "best (mean ± std) over the seeds" in md
    doc = table_json([row])["rows"][0]
    assert (doc["seeds"], doc["test_best"]) == (3, pytest.approx(6.2))


def test_one_seed_leaves_the_table_as_it_was():
    results = merge_seeds({"resnet20": _run("resnet20", 3.0, 8.5)})
    assert results["resnet20"].runs == []
    (row,) = table_rows(results.values())
    md = table_markdown([row], "Table 6")
    assert "| resnet20 | 3 | 20 | 0.27M | 0.27M | 8.50 ± 0.28 | 8.75 | -0.25 | 3.00 ± 0.17 | finished |" in md
    assert "seeds" not in md and "seeds" not in table_json([row])["rows"][0]


def test_a_net_waits_for_every_seed_and_its_status_is_the_least_advanced():
    runs = _seeded("resnet20", [3.0, 3.0], [8.0, 8.0]) | _seeded("resnet56", [1.0, 1.0], [7.0, 7.0])
    runs["resnet56-seed1"] = _run("resnet56-seed1", 1.0, 7.0, status="running", step=500)
    results = merge_seeds(runs)
    assert (results["resnet56"].status, results["resnet56"].step) == ("running", 500)
    plan = PaperPlan(depths=(20, 56), plain_depths=(), iters=1000, seeds=2)
    depth = paper_claims(plan, results, test_images=10_000)[0]
    assert depth.waiting_for == "resnet56-seed1 (500 of 1,000 iterations)"


# -- the claims -----------------------------------------------------------------------

PLAN = PaperPlan(depths=(20, 56), plain_depths=(), iters=1000, seeds=3)


def test_a_claim_that_holds_on_close_seeds_is_too_close_to_call_when_they_spread():
    r20 = _seeded("resnet20", [3.0] * 3, [8.5, 8.75, 9.0])
    # resnet-20: mean 8.75, std 0.25, SE max(0.25/sqrt(3) = 0.144, pooled binomial on 30,000
    # images 100·sqrt(.0875·.9125/30000) = 0.163) = 0.163.
    # Close seeds 6.9, 7.0, 7.1: mean 7.0, std 0.1, SE max(0.058, 0.147) = 0.147; SE(d) = 0.220,
    # 2σ = 0.44 < 1.75: holds.
    close = merge_seeds(r20 | _seeded("resnet56", [1.0] * 3, [6.9, 7.0, 7.1]))
    claim = paper_claims(PLAN, close)[0]
    assert claim.kind == "depth_helps" and claim.holds is True
    assert "resnet-20 8.8 ± 0.2 % over 3 seeds, resnet-56 7.0 ± 0.1 % over 3 seeds" in claim.evidence
    # Spread seeds 4.0, 7.0, 10.0: the same mean 7.0, std 3.0, SE 3/sqrt(3) = 1.732; SE(d) = 1.740,
    # 2σ = 3.48 > 1.75: too close to call.
    spread = merge_seeds(r20 | _seeded("resnet56", [1.0] * 3, [4.0, 7.0, 10.0]))
    claim = paper_claims(PLAN, spread)[0]
    assert claim.holds is None, claim.evidence
    assert "difference +1.8 points, 2σ = 3.5" in claim.evidence


def test_degradation_over_the_run_is_judged_on_the_spread_of_each_tenth():
    plan = PaperPlan(depths=(20,), plain_depths=(20, 56), iters=1000, seeds=2)
    steps = np.arange(10, 1001, 10)
    base = np.full(len(steps), 10.0)
    # plain-56 two points above plain-20 in every tenth, on 12,800 images a tenth and seed:
    # binomial SE(10 %) on 25,600 pooled = 0.19, SE(12 %) = 0.20, 2σ of the difference 0.55 < 2: holds.
    same = {f"plain20-seed{i}": _run(f"plain20-seed{i}", 10.0, 12.0, train_curve=base) for i in range(2)}
    close = same | {f"plain56-seed{i}": _run(f"plain56-seed{i}", 12.0, 14.0, train_curve=base + 2) for i in range(2)}
    res = {f"resnet20-seed{i}": _run(f"resnet20-seed{i}", 5.0, 9.0) for i in range(2)}
    claims = [c for c in paper_claims(plan, merge_seeds(close | res)) if c.kind == "degradation"]
    assert claims[0].holds is True and "mean of 2 and 2 seeds" in claims[0].evidence
    # The same means from seeds 6 points apart (9 and 15): std 4.24, SE 3.0 a tenth; 2σ = 8.5 > 2.
    apart = same | {
        "plain56-seed0": _run("plain56-seed0", 9.0, 14.0, train_curve=base - 1),
        "plain56-seed1": _run("plain56-seed1", 15.0, 14.0, train_curve=base + 5),
    }
    claims = [c for c in paper_claims(plan, merge_seeds(apart | res)) if c.kind == "degradation"]
    assert claims[0].holds is None, claims[0].evidence
