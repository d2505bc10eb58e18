"""Each claim of the paper's CIFAR-10 section (4.2), judged against the experiment's nets.

* ``depth_helps``: the deeper ResNet has the lower test error (Table 6), for each pair of
  neighbouring depths;
* ``degradation``: "the deep plain nets ... exhibit higher training error when going
  deeper" (Fig. 6, left), over the whole run: judged on each tenth of it but the first
  (where every net starts at chance), for each pair of neighbouring plain depths;
* ``residual_beats_plain``: the ResNet has lower training *and* test error than the plain
  net of its depth (Fig. 6);
* ``responses_smaller``: "ResNets have generally smaller responses than their plain
  counterparts" (Fig. 7): the mean over the 3x3 layers of the response std;
* ``responses_shrink``: "the deeper ResNet has smaller magnitudes of responses" (Fig. 7).

Errors are compared by the one rule of :mod:`resviz.core.verdicts`: a difference is called
only when it exceeds two standard errors of the difference (binomial on the images each
error was measured on: the settled training window, the tenth of the run, the test split),
else it is too close to call; response means within :data:`RESPONSE_TIE` of each other too
(a response std is no proportion, so it has no binomial error). A claim is judged once both of its nets have ended at the same step (a
lockstep group stops together), and names what it waits for until then.

A net trained with several seeds (:func:`~resviz.core.paper.results.merge_seeds`) is judged
on the mean over its seeds with the standard error of that mean (never below the pooled
binomial error: :func:`~resviz.core.verdicts.across_seeds`), and waits for every seed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from ..archs import parse_arch
from ..experiment import Claim
from ..runs.history import FIG7_FALLBACK
from ..verdicts import K_SIGMA, Measured, across_seeds, binomial, compare, difference_note, rule_text, verdict
from .numbers import paper_test_error
from .plan import PaperPlan
from .results import NetResult

__all__ = [
    "CLAIM_TITLES",
    "PAPER_CLAIM_KINDS",
    "RESPONSE_TIE",
    "Pending",
    "claims_markdown",
    "paper_claims",
    "test_measured",
    "train_measured",
]

PAPER_CLAIM_KINDS: tuple[str, ...] = (
    "depth_helps",
    "degradation",
    "residual_beats_plain",
    "responses_smaller",
    "responses_shrink",
)
#: The heading of each kind, in the paper's words.
CLAIM_TITLES: dict[str, str] = {
    "depth_helps": "Deeper ResNets are more accurate (Table 6)",
    "degradation": "Deeper plain nets have higher training error over the whole run (Fig. 6, left)",
    "residual_beats_plain": "ResNets beat the plain nets of the same depth (Fig. 6)",
    "responses_smaller": "ResNets' layer responses are smaller than plain nets' (Fig. 7)",
    "responses_shrink": "Deeper ResNets' layer responses are smaller (Fig. 7)",
}
#: Mean response stds within 5 % of each other are too close to call.
RESPONSE_TIE = 0.05


@dataclass
class Pending:
    """A claim not judged yet: what it waits for (a net still training, missing or failed)."""

    kind: str
    statement: str
    waiting_for: str
    holds: None = None


Judged = Claim | Pending


def train_measured(r: NetResult) -> Measured | None:
    """A net's settled training error with its binomial standard error (its window's images);
    with seeds, their mean and the standard error across them."""
    if r.runs:
        return _across([(x.train_error, x.train_images) for x in r.runs])
    return None if r.train_error is None else binomial(r.train_error, r.train_images)


def test_measured(r: NetResult, test_images: int | None = None) -> Measured | None:
    """A net's last test error with its binomial standard error; ``test_images`` (the split's
    size) stands in for runs from before the count was recorded, whose last evaluation read
    the whole split. With seeds, their mean and the standard error across them."""
    if r.runs:
        return _across([(x.test_error, x.test_images or test_images) for x in r.runs])
    return None if r.test_error is None else binomial(r.test_error, r.test_images or test_images)


def _across(values: list[tuple[float | None, int | None]]) -> Measured | None:
    known = [(v, n) for v, n in values if v is not None]
    return across_seeds([v for v, _ in known], [n for _, n in known]) if known else None


def _m(m: Measured) -> str:
    """``8.8 ± 0.3 %``, and over how many seeds where there were several."""
    return f"{m} over {m.runs} seeds" if m.runs > 1 else str(m)


def _shown(name: str) -> str:
    spec = parse_arch(name)
    return f"{spec.kind}-{spec.depth}"


def _pct(v: float) -> str:
    return f"{v:.2f}%"


def _waiting(results: Mapping[str, NetResult], names: tuple[str, ...]) -> str | None:
    """Why a claim on ``names`` cannot be judged yet, or None when it can."""
    why = []
    for n in names:
        if n not in results:
            why.append(f"{n} (not started)")
            continue
        for r in results[n].seeds:  # every seed of a net trained with several
            if r.status in ("missing", "queued", "cancelled"):
                why.append(f"{r.name} (not started)")
            elif r.status == "failed":
                why.append(f"{r.name} (failed)")
            elif not r.ended:
                why.append(f"{r.name} ({r.step:,} of {r.iters:,} iterations)")
    if why:
        return ", ".join(why)
    runs = [r for n in names for r in results[n].seeds]
    if len({r.step for r in runs}) > 1:
        return "nets that ended at different iterations (" + ", ".join(f"{r.name} {r.step:,}" for r in runs) + ")"
    return None


def _depth_helps(r: Mapping[str, NetResult], a: str, b: str, test_images: int | None) -> Claim:
    ea, eb = test_measured(r[a], test_images), test_measured(r[b], test_images)
    if ea is None or eb is None:
        return Claim("depth_helps", "", None, "no test error was measured")
    return Claim(
        "depth_helps",
        "",
        compare(eb, ea),
        f"test error {_shown(a)} {_m(ea)}, {_shown(b)} {_m(eb)}; {difference_note(eb, ea)}",
    )


def _degradation(r: Mapping[str, NetResult], a: str, b: str, test_images: int | None) -> Claim:
    upto = r[a].step
    wa, wb = r[a].windows(upto), r[b].windows(upto)
    pairs = [(x, y) for x, y in list(zip(wa, wb, strict=False))[1:] if x is not None and y is not None]
    if not pairs:
        return Claim("degradation", "", None, "too few records to follow the run")
    # Each tenth's mean training error is measured on that tenth's mini-batches; with seeds,
    # each tenth is the mean over them, with the spread across seeds (never below binomial).
    n = int(upto / len(wa) * r[a].batch_size)
    ka, kb = len(r[a].seeds), len(r[b].seeds)
    tenths = [i + 1 for i, (x, y) in enumerate(list(zip(wa, wb, strict=False))[1:]) if x is not None and y is not None]
    calls = [compare(_tenth(r[a], upto, i, n), _tenth(r[b], upto, i, n)) for i in tenths]
    higher, lower = calls.count(True), calls.count(False)
    holds = True if higher == len(pairs) else (False if lower else None)
    curve = ", ".join(f"{x:.1f}/{y:.1f}" for x, y in pairs)
    se = binomial(sum(x for x, _ in pairs) / len(pairs), n).se or 0.0
    seeds = f", mean of {ka} and {kb} seeds, judged on their spread" if ka > 1 or kb > 1 else ""
    return Claim(
        "degradation",
        "",
        holds,
        f"training error per tenth of the run after the first, {_shown(a)}/{_shown(b)} (%): {curve} "
        f"(each on {n:,} images, ± about {se:.1f}{seeds}); deeper higher beyond {K_SIGMA:g}σ in {higher} of "
        f"{len(pairs)}, lower in {lower}, too close in {len(pairs) - higher - lower} "
        "(it holds when higher in every one)",
    )


def _tenth(r: NetResult, upto: int, i: int, n: int) -> Measured:
    """Tenth ``i``'s mean training error of ``r`` on ``n`` images a seed, across its seeds."""
    return across_seeds([x.windows(upto)[i] for x in r.seeds], [n] * len(r.seeds))


def _residual_beats_plain(r: Mapping[str, NetResult], res: str, plain: str, test_images: int | None) -> Claim:
    R, P = r[res], r[plain]
    parts, verdicts = [], []
    for what, a, b in (
        ("training", train_measured(R), train_measured(P)),
        ("test", test_measured(R, test_images), test_measured(P, test_images)),
    ):
        if a is None or b is None:
            continue
        verdicts.append(compare(a, b))
        parts.append(f"{what} error {_shown(res)} {_m(a)}, {_shown(plain)} {_m(b)} ({difference_note(a, b)})")
    if not verdicts:
        return Claim("residual_beats_plain", "", None, "no errors were measured")
    holds = False if False in verdicts else (True if all(verdicts) and len(verdicts) == 2 else None)
    return Claim("residual_beats_plain", "", holds, "; ".join(parts))


def _mean_response(n: NetResult) -> float | None:
    if n.responses is None:
        return None
    v = n.responses[np.isfinite(n.responses)]
    return float(v.mean()) if len(v) else None


def _where(*nets: NetResult) -> str:
    if any(n.responses_metric == FIG7_FALLBACK for n in nets):
        return "training batch, BN in training mode (these runs have no test-batch measurement)"
    return "fixed test batch, BN in eval mode"


def _responses(kind: str, r: Mapping[str, NetResult], small: str, large: str) -> Claim:
    """``small`` should have the smaller mean response std than ``large``."""
    ms, ml = _mean_response(r[small]), _mean_response(r[large])
    if ms is None or ml is None:
        return Claim(kind, "", None, "no layer responses were measured")
    ratio = ms / ml if ml > 0 else float("inf")
    holds = True if ratio <= 1 - RESPONSE_TIE else (False if ratio >= 1 + RESPONSE_TIE else None)
    return Claim(
        kind,
        "",
        holds,
        f"mean std over the 3x3 layers {_shown(small)} {ms:.3f}, {_shown(large)} {ml:.3f} "
        f"(ratio {ratio:.2f}; {_where(r[small], r[large])})",
    )


def _table6(a: int, b: int) -> str:
    pa, pb = paper_test_error("resnet", a), paper_test_error("resnet", b)
    return f" (Table 6: {pb:.2f}% vs {pa:.2f}%)" if pa is not None and pb is not None else ""


def _expectations(plan: PaperPlan) -> list[tuple[str, str, tuple[str, ...], Callable[..., Claim]]]:
    """(kind, statement, the nets it compares, how to judge them) in the order claims.md lists them."""
    res = list(plan.depths)
    plain = list(plan.plain_depths)
    both = [d for d in res if d in plain]
    out: list[tuple[str, str, tuple[str, ...], Callable[..., Claim]]] = []
    for a, b in pairwise(res):
        out.append(
            (
                "depth_helps",
                f"resnet-{b} has a lower test error than resnet-{a}{_table6(a, b)}",
                (f"resnet{a}", f"resnet{b}"),
                lambda r, t, a=a, b=b: _depth_helps(r, f"resnet{a}", f"resnet{b}", t),
            )
        )
    for a, b in pairwise(plain):
        out.append(
            (
                "degradation",
                f"plain-{b} has a higher training error than plain-{a} over the whole run",
                (f"plain{a}", f"plain{b}"),
                lambda r, t, a=a, b=b: _degradation(r, f"plain{a}", f"plain{b}", t),
            )
        )
    for d in both:
        out.append(
            (
                "residual_beats_plain",
                f"resnet-{d} has lower training and test error than plain-{d}",
                (f"resnet{d}", f"plain{d}"),
                lambda r, t, d=d: _residual_beats_plain(r, f"resnet{d}", f"plain{d}", t),
            )
        )
    for d in both:
        out.append(
            (
                "responses_smaller",
                f"resnet-{d}'s 3x3 layer responses are smaller than plain-{d}'s",
                (f"resnet{d}", f"plain{d}"),
                lambda r, t, d=d: _responses("responses_smaller", r, f"resnet{d}", f"plain{d}"),
            )
        )
    for a, b in pairwise(res):
        out.append(
            (
                "responses_shrink",
                f"resnet-{b}'s layer responses are smaller than resnet-{a}'s",
                (f"resnet{a}", f"resnet{b}"),
                lambda r, t, a=a, b=b: _responses("responses_shrink", r, f"resnet{b}", f"resnet{a}"),
            )
        )
    return out


def paper_claims(plan: PaperPlan, results: Mapping[str, NetResult], test_images: int | None = None) -> list[Judged]:
    """Every claim the plan's nets can speak to: a :class:`Claim` with its verdict, or
    :class:`Pending` naming what it waits for. ``test_images``: the size of the test split."""
    out: list[Judged] = []
    for kind, statement, names, judge in _expectations(plan):
        waiting = _waiting(results, names)
        if waiting is not None:
            out.append(Pending(kind, statement, waiting))
            continue
        claim = judge(results, test_images)
        claim.statement = statement
        out.append(claim)
    return out


def claims_markdown(
    plan: PaperPlan, claims: list[Judged], budget_lines: list[str], test_images: int | None = None
) -> str:
    """claims.md: the budget, then each claim by kind with its verdict and its numbers."""
    lines = ["# The paper's CIFAR-10 claims (He et al. 2016, section 4.2), checked here", "", "## Budget", ""]
    lines += [f"- {b}" for b in budget_lines]
    if not plan.full_schedule:
        lines += [
            "",
            (
                "The paper's claims are about nets trained for 64,000 iterations; on a shorter budget a claim "
                "that does not hold here may still hold at the end of the full schedule."
            ),
        ]
    for kind in PAPER_CLAIM_KINDS:
        of_kind = [c for c in claims if c.kind == kind]
        if not of_kind:
            continue
        lines += ["", f"## {CLAIM_TITLES[kind]}", ""]
        for c in of_kind:
            if isinstance(c, Pending):
                lines.append(f"- {c.statement}: **not judged yet** (waiting for {c.waiting_for})")
            else:
                lines.append(f"- {c.statement}: **{verdict(c.holds)}** ({c.evidence})")
    lines += [
        "",
        f"{rule_text()} Mean responses within {RESPONSE_TIE:.0%} of each other are too close to call too.",
        "",
        (
            "Test errors are the last evaluation, on the whole test split; the test curves during training "
            "were measured on a fixed class-stratified subset of it (--eval-subset, 1,000 images by default)."
        ),
    ]
    return "\n".join(lines) + "\n"
