"""The one verdict rule (core.verdicts): a difference is called only beyond 2 standard errors.

Every oracle is worked by hand in the comments (binomial SE = 100·sqrt(p~(1-p~)/(n+2)) points
at the plus-two proportion p~ = (x+1)/(n+2) of x wrong images out of n;
SE of a difference = sqrt(SE_a² + SE_b²)).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from resviz.core.experiment import degradation_claims, net_measurements
from resviz.core.records import Record
from resviz.core.runs.history import RunHistory
from resviz.core.verdicts import K_SIGMA, Measured, across_seeds, binomial, compare, difference_note, verdict

#: Issue #18's run: 300 iterations, a record every 10 steps -> 30 records; the settled window
#: is the last 5 % of them, round(1.5) = 2 records = 20 steps of 128 images.
WINDOW = 20 * 128  # 2,560 images


def test_the_rule_is_two_standard_errors():
    assert K_SIGMA == 2.0


def test_binomial_standard_error_by_hand():
    # 86.21 % of 2,560: x = 2206.976, p~ = 2207.976 / 2562 = 0.861818; p~(1-p~) = 0.119087;
    # / 2562 = 4.64821e-5; sqrt = 0.0068178 -> 0.6818 points (the plain binomial: 0.6815)
    m = binomial(86.21, WINDOW)
    assert m.n == 2560 and m.basis == "binomial"
    assert m.se == pytest.approx(0.68178, abs=1e-4)
    # 50 % of 10,000: p~ = 5001 / 10002 = 0.5 exactly; sqrt(0.25 / 10002) = 0.0049995 points
    assert binomial(50.0, 10_000).se == pytest.approx(0.49995, abs=1e-6)
    assert str(binomial(86.21, WINDOW)) == "86.2 ± 0.7 %"
    assert str(binomial(50.0, 10_000)) == "50.0 ± 0.5 %"


def test_the_issue_85_55_vs_86_21_is_too_close_to_call():
    # SE 85.55 on 2,560: p~ = 2191.08 / 2562 = 0.855222, sqrt(0.855222 * 0.144778 / 2562)
    # = 0.6952 points; SE 86.21: 0.6818. SE(d) = sqrt(0.6952² + 0.6818²) = 0.9737,
    # 2σ = 1.947 > 0.66: too close to call.
    res56, plain56 = binomial(85.55, WINDOW), binomial(86.21, WINDOW)
    assert res56.se == pytest.approx(0.6952, abs=1e-3)
    assert compare(res56, plain56) is None
    assert compare(plain56, res56) is None  # and so is the other order


def test_the_issue_60_51_vs_86_21_holds_and_the_swapped_comparison_fails():
    # SE 60.51 on 2,560: p~ = 1550.056 / 2562 = 0.605018, sqrt(0.605018 * 0.394982 / 2562) =
    # 0.9658; SE(d) = sqrt(0.9658² + 0.6818²) = 1.1822, 2σ = 2.364 < 25.70: the deeper plain
    # net really is worse.
    plain20, plain56 = binomial(60.51, WINDOW), binomial(86.21, WINDOW)
    assert plain20.se == pytest.approx(0.9658, abs=1e-3)
    assert compare(plain20, plain56) is True  # plain-20 has the lower error: holds
    assert compare(plain56, plain20) is False  # swapped: the claim fails


def test_an_error_of_zero_still_has_an_uncertainty():
    """The digits run of issue #18: resnet-20 0 wrong of 3,840 training images, plain-20 4 wrong
    (0.104 %). The plain binomial SE of 0 % is 0, so 2σ was 0.1 and the 0.10-point gap "held";
    Fisher's exact test gives p = 0.125 (all 4 on one side: 2 * (1/2)^4), no result."""
    # 0 of 3,840: p~ = 1 / 3842 = 0.00026028, sqrt(0.00026028 * 0.99973972 / 3842) = 0.026025 points
    # 4 of 3,840: p~ = 5 / 3842 = 0.00130140, sqrt(0.0013014 * 0.9986986 / 3842) = 0.058162 points
    none, four = binomial(0.0, 3840), binomial(100 * 4 / 3840, 3840)
    assert none.se == pytest.approx(0.026025, abs=1e-5)
    assert four.se == pytest.approx(0.058162, abs=1e-5)
    # SE(d) = sqrt(0.026025² + 0.058162²) = 0.063719; 2σ = 0.12744 > 0.10417: too close to call
    assert compare(none, four) is None
    # shown with two decimals, where one would read "0.0 ± 0.0 %" and "2σ = 0.1"
    assert str(none) == "0.00 ± 0.03 %" and str(four) == "0.10 ± 0.06 %"
    assert difference_note(none, four) == "difference +0.10 points, 2σ = 0.13"
    # 40 wrong of 3,840 (1.04 %) against 0 is a result: p~ = 41/3842, SE 0.16577 -> 2σ = 0.3356 < 1.0417
    assert compare(none, binomial(100 * 40 / 3840, 3840)) is True


def test_the_threshold_is_strict_at_exactly_two_sigma():
    # SE 0.3 and 0.4 -> SE(d) = 0.5 exactly; 2σ = 1.0
    a = Measured(10.0, None, 0.3)
    assert compare(a, Measured(11.0, None, 0.4)) is None  # exactly 2σ: not called
    assert compare(a, Measured(11.01, None, 0.4)) is True
    assert compare(Measured(11.01, None, 0.4), a) is False
    assert compare(a, Measured(11.01, None, 0.4), k=3.0) is None  # 3σ = 1.5


def test_an_error_without_an_image_count_is_never_called():
    unknown = binomial(10.0, None)
    assert unknown.se is None and str(unknown) == "10.0 % (n unknown)"
    assert compare(unknown, binomial(90.0, 10_000)) is None


def test_seeds_give_the_mean_and_the_standard_error_of_the_mean():
    # 10, 12, 14: mean 12, std (n-1) = 2, SE = 2 / sqrt(3) = 1.1547 (the binomial floor on 3,000
    # images, p~ = 361 / 3002, sqrt(0.120253 * 0.879747 / 3002) = 0.594 points, is smaller)
    m = across_seeds([10.0, 12.0, 14.0], [1000, 1000, 1000])
    assert (m.value, m.n, m.runs, m.basis) == (12.0, 3000, 3, "seeds")
    assert m.std == pytest.approx(2.0)
    assert m.se == pytest.approx(2 / math.sqrt(3))
    # Two seeds that agree are not a noise-free measurement: the binomial floor of the pooled
    # 2,000 images, p~ = 201 / 2002 = 0.100400, sqrt(0.1004 * 0.8996 / 2002) = 0.6717 points.
    agree = across_seeds([10.0, 10.0], [1000, 1000])
    assert agree.std == 0.0 and agree.se == pytest.approx(0.67167, abs=1e-4)
    # One seed is the binomial
    assert across_seeds([86.21], [WINDOW]) == binomial(86.21, WINDOW)


def test_the_settled_window_counts_its_steps():
    h = RunHistory()
    h.extend([Record(step=s, scalars={"train_error": 50.0}) for s in range(10, 310, 10)])
    # 30 records -> the last round(1.5) = 2 -> steps 290 and 300, which cover steps 281..300
    assert h.settled_steps() == 20
    assert h.final_counts(128) == {"train_images": 2560, "test_images": None}
    short = RunHistory()
    short.extend([Record(step=7, scalars={"train_error": 50.0})])
    assert short.settled_steps() == 7  # one record: the window is the whole run so far
    assert RunHistory().settled_steps() == 0


def test_the_issue_run_is_judged_too_close_to_call_where_it_was_called_holds():
    rows = [
        {"name": "plain20", "train_error": 60.51, "train_images": WINDOW},
        {"name": "plain56", "train_error": 86.21, "train_images": WINDOW},
        {"name": "resnet20", "train_error": 59.22, "train_images": WINDOW},
        {"name": "resnet56", "train_error": 85.55, "train_images": WINDOW},
    ]
    claims = degradation_claims(net_measurements(rows), (20, 56))
    assert [(c.kind, verdict(c.holds)) for c in claims] == [
        ("degradation", "holds"),
        ("residual_beats_plain", "too close to call"),  # 59.22 vs 60.51: 1.29 < 2σ = 2.73
        ("residual_beats_plain", "too close to call"),  # 85.55 vs 86.21
        ("depth_helps", "does not hold"),  # resnet56 85.55 vs resnet20 59.22: far worse
    ]
    assert "resnet-56 85.5 ± 0.7 %, plain-56 86.2 ± 0.7 %" in claims[2].evidence  # 85.55 is 85.5499... in binary
    assert "difference +0.7 points, 2σ = 1.9" in claims[2].evidence


def test_with_seeds_a_net_is_its_mean_over_seeds():
    rows = [
        {"name": f"{net}-seed{s}", "net": net, "train_error": v, "train_images": 1000}
        for net, values in (("plain8", [5.0, 6.0]), ("plain14", [9.0, 11.0]))
        for s, v in enumerate(values)
    ]
    m = net_measurements(rows)
    assert m["plain8"].value == pytest.approx(5.5) and m["plain14"].value == pytest.approx(10.0)
    # plain14: std sqrt(2) = 1.4142, SE = 1.4142 / sqrt(2) = 1.0 (floor: sqrt(.1 * .9 / 2000) = 0.67)
    assert m["plain14"].se == pytest.approx(1.0)
    assert np.isclose(m["plain8"].std, math.sqrt(0.5))


def test_the_figures_say_what_the_test_curves_were_measured_on():
    from resviz.core.runs.history import test_images_note

    subset_then_whole = np.array([1000.0, 1000.0, 10_000.0])
    assert (
        test_images_note([subset_then_whole, subset_then_whole])
        == "test error on 1,000 test images during training, 10,000 at the end"
    )
    assert test_images_note([np.array([359.0, 359.0])]) == "test error on 359 test images"
    assert test_images_note([np.zeros(0)]) == ""  # runs from before the count was recorded
