"""The paper experiment's plan, Table 6, claims and cost, on numbers made by hand (no training)."""

from __future__ import annotations

import numpy as np
import pytest

from resviz.core.errors import ConfigError
from resviz.core.experiment import Claim
from resviz.core.paper.claims import (
    PAPER_CLAIM_KINDS,
    Pending,
    claims_markdown,
    paper_claims,
    tie_for_test_error,
)
from resviz.core.paper.cost import DataShape, Speed, estimate_cost
from resviz.core.paper.plan import PaperPlan, parse_depth_list
from resviz.core.paper.results import NetResult
from resviz.core.paper.table import table_markdown, table_rows

# -- the plan -------------------------------------------------------------------------


def test_the_default_plan_is_the_papers_nets_with_its_recipe():
    plan = PaperPlan()
    assert plan.names() == [
        "plain20",
        "resnet20",
        "plain32",
        "resnet32",
        "plain44",
        "resnet44",
        "plain56",
        "resnet56",
        "resnet110",
    ]
    configs = dict(plan.nets())
    r110, r56 = configs["resnet110"], configs["resnet56"]
    assert r110.warmup and r110.warmup_lr == 0.01 and not r56.warmup  # the paper's ResNet-110 warm-up only
    assert r56.milestone_steps() == [32_000, 48_000] and r56.iters == 64_000
    assert (r56.lr, r56.momentum, r56.weight_decay, r56.batch_size) == (0.1, 0.9, 1e-4, 128)
    assert configs["plain20"].is_plain and not configs["resnet20"].is_plain
    assert {c.seed for c in configs.values()} == {0}  # twins see the same batches
    assert plan.full_schedule


def test_a_smaller_budget_scales_the_milestones_and_the_measurements():
    plan = PaperPlan(depths=(8, 14), plain_depths=(8,), iters=2000)
    cfg = dict(plan.nets())["resnet14"]
    assert cfg.milestone_steps() == [1000, 1500]
    assert (cfg.telemetry_every, cfg.eval_every, cfg.checkpoint_every) == (10, 63, 125)
    tiny = dict(PaperPlan(depths=(8,), plain_depths=(), iters=20).nets())["resnet8"]
    assert (tiny.telemetry_every, tiny.eval_every, tiny.checkpoint_every) == (1, 1, 2)
    assert not plan.full_schedule and "3.1% of the paper's 64,000" in plan.budget()


def test_groups_are_one_on_a_gpu_and_one_per_depth_elsewhere():
    plan = PaperPlan(depths=(20, 56, 110), plain_depths=(20, 56))
    assert plan.groups("cuda") == [["plain20", "resnet20", "plain56", "resnet56", "resnet110"]]
    assert plan.groups("cpu") == [["plain20", "resnet20"], ["plain56", "resnet56"], ["resnet110"]]
    assert plan.groups("mps") == plan.groups("cpu")


def test_the_plan_survives_its_json_file():
    plan = PaperPlan(data="digits", depths=(8, 14), plain_depths=(), iters=30, seed=3)
    assert PaperPlan.from_dict(plan.to_dict()) == plan


@pytest.mark.parametrize("text,depths", [("20,56", (20, 56)), ("56 20;20", (20, 56)), ("8", (8,))])
def test_depth_lists(text, depths):
    assert parse_depth_list(text) == depths


@pytest.mark.parametrize(
    "text,message",
    [("", "at least one"), ("20,x", "whole numbers"), ("21", r"6n\+2"), ("20,50", "ImageNet"), ("152", "ImageNet")],
)
def test_bad_depth_lists_say_what_is_wrong(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_depth_list(text)


def test_no_plain_nets_at_all():
    assert parse_depth_list("none", allow_empty=True) == ()
    assert PaperPlan(depths=(20,), plain_depths="none").names() == ["resnet20"]


# -- results made by hand -------------------------------------------------------------


def _result(name, train, test, *, curve=None, responses=None, status="finished", step=1000, metric="test_response_std"):
    steps = np.arange(10, step + 1, 10)
    values = (
        np.full(len(steps), float(train))
        if curve is None
        else np.interp(steps, np.linspace(10, step, len(curve)), curve)
    )
    return NetResult(
        name=name,
        status=status,
        step=step,
        iters=1000,
        train_error=train,
        test_error=test,
        train_curve=(steps, values),
        test_curve=(steps[::10], np.full(len(steps[::10]), float(test))),
        responses=None if responses is None else np.asarray(responses, float),
        responses_metric=None if responses is None else metric,
    )


#: The paper's outcome: deeper ResNets better, deeper plain worse throughout, ResNets better, responses smaller.
PAPER = {
    "plain20": {"train": 5.0, "test": 9.5, "curve": [60, 20, 10, 5], "responses": [2.0, 1.5, 1.0]},
    "plain56": {"train": 8.0, "test": 12.0, "curve": [70, 30, 16, 8], "responses": [2.5, 2.0, 1.5]},
    "resnet20": {"train": 3.0, "test": 8.75, "responses": [1.0, 0.8, 0.6]},
    "resnet56": {"train": 1.0, "test": 6.97, "responses": [0.6, 0.5, 0.4]},
}
PLAN = PaperPlan(depths=(20, 56), plain_depths=(20, 56), iters=1000)


def _results(**changes):
    out = {}
    for name, kw in PAPER.items():
        kw = {**kw, **changes.get(name, {})}
        out[name] = _result(name, **kw)
    return out


def test_the_papers_outcome_bears_out_every_claim_with_its_numbers():
    claims = paper_claims(PLAN, _results(), test_images=10_000)
    assert [c.kind for c in claims] == [
        "depth_helps",
        "degradation",
        "residual_beats_plain",
        "residual_beats_plain",
        "responses_smaller",
        "responses_smaller",
        "responses_shrink",
    ]
    assert {c.kind for c in claims} == set(PAPER_CLAIM_KINDS)
    assert all(isinstance(c, Claim) and c.holds is True for c in claims), [(c.statement, c.evidence) for c in claims]
    depth, degradation, r20 = claims[0], claims[1], claims[2]
    assert depth.statement == "resnet-56 has a lower test error than resnet-20 (Table 6: 6.97% vs 8.75%)"
    assert depth.evidence == "test error resnet-20 8.75%, resnet-56 6.97%"
    assert "deeper higher in 9 of 9, lower in 0, within 0.25 points in 0" in degradation.evidence
    assert r20.evidence == "training error resnet-20 3.00%, plain-20 5.00%; test error resnet-20 8.75%, plain-20 9.50%"
    assert claims[4].evidence.startswith("mean std over the 3x3 layers resnet-20 0.800, plain-20 1.500 (ratio 0.53;")


@pytest.mark.parametrize(
    "changes,kind,verdict",
    [
        ({"resnet56": {"test": 9.0}}, "depth_helps", False),
        ({"resnet56": {"test": 8.6}}, "depth_helps", None),  # 0.15 points: within the tie
        # the deeper plain net catches up in the last tenth: not "over the whole run"
        ({"plain56": {"curve": [70, 30, 16, 1]}}, "degradation", False),
        ({"plain56": {"curve": [60, 20, 10, 5]}}, "degradation", None),  # the same curve: a tie everywhere
        ({"resnet20": {"train": 6.0}}, "residual_beats_plain", False),  # lower test error but higher training error
        ({"resnet20": {"train": 5.1}}, "residual_beats_plain", None),  # training error a tie, test error better
        ({"resnet20": {"responses": [2.0, 1.6, 1.0]}}, "responses_smaller", None),  # within 5 %
        ({"resnet20": {"responses": [3.0, 2.0, 1.0]}}, "responses_smaller", False),
        ({"resnet56": {"responses": [1.2, 0.8, 0.6]}}, "responses_shrink", False),
    ],
)
def test_each_claim_fails_on_its_own_numbers(changes, kind, verdict):
    claims = paper_claims(PLAN, _results(**changes), test_images=10_000)
    first = next(c for c in claims if c.kind == kind)
    assert first.holds is verdict, first.evidence
    others = [c for c in claims if c is not first and c.kind != kind]
    assert all(c.holds for c in others if c.kind not in ("responses_shrink", "depth_helps", "responses_smaller"))


def test_a_claim_waits_for_nets_that_are_still_training_missing_or_failed():
    results = _results()
    results["resnet56"] = _result("resnet56", 1.0, 7.0, status="running", step=500)
    results["plain56"].status = "failed"
    claims = paper_claims(PLAN, results)
    pending = [c for c in claims if isinstance(c, Pending)]
    assert [c.kind for c in pending] == [
        "depth_helps",
        "degradation",
        "residual_beats_plain",
        "responses_smaller",
        "responses_shrink",
    ]
    assert pending[0].waiting_for == "resnet56 (500 of 1,000 iterations)"
    assert "plain56 (failed)" in pending[2].waiting_for
    judged = [c for c in claims if not isinstance(c, Pending)]
    assert [c.statement for c in judged] == [
        "resnet-20 has lower training and test error than plain-20",
        "resnet-20's 3x3 layer responses are smaller than plain-20's",
    ]
    md = claims_markdown(PLAN, claims, ["1,000 iterations per net"])
    assert md.count("**not judged yet**") == 5 and md.count("**holds**") == 2
    assert "may still hold at the end of the full schedule" in md


def test_nets_stopped_at_different_steps_are_not_compared():
    results = _results()
    results["resnet56"] = _result("resnet56", 1.0, 7.0, status="stopped", step=500)
    results["resnet20"] = _result("resnet20", 3.0, 8.75, status="stopped", step=400)
    assert "ended at different iterations" in paper_claims(PLAN, results)[0].waiting_for


def test_a_training_batch_fallback_is_named_in_the_evidence():
    results = _results(resnet20={"metric": "response_std"})
    claim = next(c for c in paper_claims(PLAN, results) if c.kind == "responses_smaller")
    assert "training batch, BN in training mode" in claim.evidence


def test_errors_closer_than_one_test_image_are_a_tie():
    assert tie_for_test_error(10_000) == 0.25 and tie_for_test_error(359) == pytest.approx(100 / 359)
    assert tie_for_test_error(None) == 0.25
    results = _results(resnet56={"test": 8.5})  # 0.25 points better: a win on 10,000 images, a tie on 359
    assert paper_claims(PLAN, results, test_images=10_000)[0].holds is True
    assert paper_claims(PLAN, results, test_images=359)[0].holds is None


# -- Table 6 --------------------------------------------------------------------------


def _cifar_params(n: int, classes: int = 10) -> int:
    """By hand: 3x3 convs without bias, BN (weight and bias), option A shortcuts, the head."""
    conv = lambda i, o: 9 * i * o
    stem = conv(3, 16) + 2 * 16
    stage1 = n * (2 * conv(16, 16) + 4 * 16)
    stage2 = conv(16, 32) + conv(32, 32) + 4 * 32 + (n - 1) * (2 * conv(32, 32) + 4 * 32)
    stage3 = conv(32, 64) + conv(64, 64) + 4 * 64 + (n - 1) * (2 * conv(64, 64) + 4 * 64)
    return stem + stage1 + stage2 + stage3 + 64 * classes + classes


def test_table6_puts_the_papers_numbers_beside_ours_and_counts_parameters_from_the_model():
    results = [
        _result("plain20", 5.0, 9.5),
        _result("resnet20", 3.0, 8.5),
        _result("resnet110", 1.0, 7.0),
        _result("plain110", 60.0, 70.0, status="stopped", step=400),
    ]
    rows = {r.net: r for r in table_rows(results)}
    assert [r.net for r in table_rows(results)] == ["resnet20", "resnet110", "plain20", "plain110"]
    r20 = rows["resnet20"]
    assert (r20.layers, r20.n, r20.params, r20.paper_params) == (20, 3, _cifar_params(3), "0.27M")
    assert r20.params == 269_722
    assert r20.paper_test_error == 8.75 and r20.difference == pytest.approx(-0.25)
    assert rows["resnet110"].paper_test_error == 6.43 and rows["resnet110"].params == _cifar_params(18)
    assert rows["resnet110"].paper_note.startswith("best of 5 runs")
    assert rows["plain20"].paper_test_error is None and rows["plain20"].params == r20.params  # same weights
    assert rows["plain110"].paper_note == "higher than 60 % (Fig. 6 caption)"
    md = table_markdown(list(rows.values()), "Table 6")
    assert "| resnet20 | 3 | 20 | 0.27M | 0.27M | 8.50 | 8.75 | -0.25 | 3.00 | finished |" in md
    assert "| plain20 | 3 | 20 | 0.27M | — | 9.50 | — | — | 5.00 | finished |" in md
    assert "| plain110 | 18 | 110 | 1.73M | — | 70.00 | higher than 60 % | — | 60.00 | stopped at 400 of 1,000 |" in md


# -- the cost -------------------------------------------------------------------------


def test_the_estimate_is_the_work_over_the_measured_speed():
    plan = PaperPlan(data="digits", depths=(8,), plain_depths=(8,), iters=100, batch_size=10)
    shape = DataShape(3, 16, 10, train=1000, test=300)
    cfg = dict(plan.nets())["resnet8"]
    assert cfg.eval_every == 4  # 25 evaluations of 300 test + 300 Fig. 7 images
    est = estimate_cost(plan, shape, {8: Speed(8, 1000.0, 3000.0)}, device="cpu (1 thread)")
    per_net = 100 * 10 / 1000 + 25 * 600 / 3000  # 1 s of training, 5 s of evaluation
    assert [n.name for n in est.nets] == ["plain8", "resnet8"]
    assert est.nets[0].seconds == pytest.approx(per_net) and est.seconds == pytest.approx(2 * per_net)
    assert not est.long and est.suggestion is None
    assert "about 12s for 2 net(s)" in est.lines()[0]
    # a resumed experiment: plain8 is done, resnet8 has 40 iterations left
    left = estimate_cost(plan, shape, {8: Speed(8, 1000.0, 3000.0)}, device="cpu", remaining={"resnet8": 40})
    assert [n.name for n in left.nets] == ["resnet8"] and left.seconds == pytest.approx(0.4 + 10 * 0.2)


def test_a_long_estimate_offers_a_budget_that_fits_in_an_hour():
    plan = PaperPlan(data="cifar10", depths=(20, 56), plain_depths=(20, 56))
    shape = DataShape(3, 32, 10, 50_000, 10_000)
    speeds = {20: Speed(20, 200.0, 800.0), 56: Speed(56, 70.0, 280.0)}  # about this CPU's
    est = estimate_cost(plan, shape, speeds, device="cpu (2 threads)")
    assert est.long and est.seconds > 24 * 3600
    options, seconds = est.suggestion
    assert seconds <= 3600 and options in ("--iters 1000", "--iters 500", "--iters 200", "--iters 100")
    lines = "\n".join(est.lines())
    assert "full schedule (64,000 iterations per net) on a CPU" in lines and f"a smaller budget: {options}" in lines
    assert "days" in lines.splitlines()[0]  # more than two days: said in days
    # so slow that even 100 iterations of every net take over an hour: the shallowest pair alone
    crawl = {20: Speed(20, 20.0, 400.0), 56: Speed(56, 7.0, 150.0)}
    options, seconds = estimate_cost(plan, shape, crawl, device="cpu").suggestion
    # 100 iterations of plain56 and resnet56 alone: 2 x 100 x 128 / 7 = 3,657 s; of the pair of 20s:
    # 2 x (100 x 128 / 20 + 25 evaluations x 10,500 images / 400) = 2,592 s
    assert options == "--depths 20 --plain-depths 20 --iters 100" and seconds == pytest.approx(2592.5)


def test_wall_time_counts_nets_that_train_together_once():
    from resviz.core.paper.results import wall_seconds

    a = NetResult("plain20", "finished", 10, 10, spans=[(0.0, 30.0)])
    b = NetResult("resnet20", "finished", 10, 10, spans=[(0.0, 30.0)])  # its lockstep twin
    c = NetResult("resnet56", "finished", 10, 10, spans=[(30.0, 90.0), (200.0, 210.0)])  # then resumed later
    assert wall_seconds([a, b, c]) == pytest.approx(30 + 60 + 10)
    assert wall_seconds(
        [NetResult("plain8", "finished", 1, 1, spans=[(0, 5)]), NetResult("resnet8", "finished", 1, 1, spans=[(3, 8)])]
    ) == pytest.approx(8)


def test_measuring_a_speed_uses_the_trainers_threads_and_gives_the_process_its_own_back():
    """The app measures its estimate beside the window: torch's thread count (process-wide)
    is the trainer's while measuring, and the window's again after (issue 19)."""
    import torch

    from resviz.core.paper.cost import DataShape, measure_speed
    from resviz.core.train.config import TrainConfig

    seen = []
    real = torch.nn.functional.cross_entropy

    def spy(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return real(*args, **kwargs)

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        torch.nn.functional.cross_entropy = spy
        speed = measure_speed(8, DataShape(3, 8, 10, 100, 20), TrainConfig(arch="resnet8", batch_size=4, threads=1))
    finally:
        torch.nn.functional.cross_entropy = real
        after = torch.get_num_threads()
        torch.set_num_threads(before)
    assert seen and set(seen) == {1}  # trained with the trainer's one thread
    assert after == 2  # and the process's two are back
    assert speed.train_images_per_s > 0
