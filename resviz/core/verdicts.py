"""One rule for every verdict resviz gives: a difference is called only when it is larger
than the measurement's own uncertainty.

Every error a claim compares is a :class:`Measured`: the error (%), the number of images it
was measured on and its standard error (one σ, in percentage points). Two errors are
compared by the difference ``d`` of their values and the standard error of that difference,
``SE(d) = sqrt(SE_a² + SE_b²)`` (the two measurements are independent draws): the claim is
called only when ``|d| > K_SIGMA * SE(d)`` — "holds" when ``d`` has the expected sign,
"does not hold" when it has the other — and is "too close to call" otherwise. With
``K_SIGMA = 2`` a true tie is called either way about 5 % of the time (a two-sided 2σ test).

Where the standard error comes from (say it wherever a ± is shown):

* **binomial** (one run per net): an error of ``p`` measured on ``n`` images has the
  sampling error of a proportion, ``sqrt(p(1-p)/n)``, taken at the plus-two proportion
  ``p~ = (x+1)/(n+2)`` of its ``x`` wrong images (Agresti & Coull 1998; Agresti & Caffo 2000
  show that adding one success and one failure to each sample gives honest intervals for a
  difference of proportions). Without it an error of 0 has no uncertainty at all: 0 wrong
  out of 3,840 training images against 4 wrong (0.10 %) was called a difference (2σ = 0.1
  points), where Fisher's exact test gives p = 0.125; with it the 2σ is 0.13 points and the
  call is too close. Away from 0 and 100 % it is the plain binomial error to three digits.
  ``n`` is the settled training-error
  window's image count (the mini-batches of its last 5 % of records,
  :func:`resviz.core.runs.history.settled_mean`) or the number of test images evaluated
  (the test split, or the fixed evaluation subset). It is used rather than the spread
  between the window's records because a short run's settled window holds one or two
  records — too few to estimate a spread — while the binomial error is known exactly from
  ``n``. It is a lower bound: it ignores that the weights move during the window and that
  another seed would train a different net, which is why ``--seeds`` exists.
* **seeds** (``--seeds N``, N ≥ 2): the mean over the N seeds, with the standard error of
  that mean, ``std / sqrt(N)`` (std over the seeds, N-1 in the denominator) — the spread
  the paper's Table 6 reports for ResNet-110 ("mean ± std" over 5 runs). It covers both the
  image sampling and the seed-to-seed variation; it is never taken below the binomial
  error of the pooled images, so two seeds that happen to agree do not make a
  noise-free measurement.

Torch-free and Qt-free: the CLI, the paper experiment and the app's panels all import it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "K_SIGMA",
    "Measured",
    "across_seeds",
    "binomial",
    "compare",
    "difference_note",
    "rule_text",
    "verdict",
]

#: How many standard errors of the difference a difference must exceed to be called.
K_SIGMA = 2.0


@dataclass(frozen=True)
class Measured:
    """An error (%) with the images it was measured on and its standard error (points, 1σ).

    ``basis`` says where the standard error comes from: ``"binomial"`` or ``"seeds"``;
    ``runs`` how many runs were averaged (1 unless seeds), ``std`` their spread (seeds).
    """

    value: float
    n: int | None
    se: float | None
    basis: str = "binomial"
    runs: int = 1
    std: float | None = None

    def __str__(self) -> str:
        """``86.2 ± 0.9 %`` (the ± is one standard error); the bare value when it is unknown.
        Two decimals where one would round the error away: 0 of 3,840 is ``0.00 ± 0.03 %``."""
        if self.se is None:
            return f"{self.value:.1f} % (n unknown)"
        d = 2 if self.se < 0.1 else 1
        return f"{self.value:.{d}f} ± {self.se:.{d}f} %"

    def to_dict(self) -> dict:
        return {
            "value": self.value,
            "n": self.n,
            "se": self.se,
            "basis": self.basis,
            "runs": self.runs,
            "std": self.std,
        }


def binomial(value: float, n: int | None) -> Measured:
    """An error of ``value`` % measured on ``n`` images: SE = 100·sqrt(p~(1-p~)/(n+2)) points,
    ``p~ = (p·n + 1)/(n + 2)`` (the plus-two proportion; see the module's notes).

    ``n`` None or 0 (a run from before image counts were recorded): the SE is unknown and no
    difference against it is called.
    """
    if not n:
        return Measured(float(value), None, None)
    p = min(max(value / 100.0, 0.0), 1.0)
    adjusted = (p * n + 1.0) / (n + 2.0)
    return Measured(float(value), int(n), 100.0 * math.sqrt(adjusted * (1.0 - adjusted) / (n + 2.0)))


def across_seeds(values: Sequence[float], n_each: Sequence[int | None]) -> Measured:
    """The mean of one error over several seeds, with the standard error of that mean.

    ``values`` one error (%) per seed, ``n_each`` the images each was measured on. One seed
    is :func:`binomial`. With more, SE = max(std/sqrt(N), binomial SE of the pooled images).
    """
    values = [float(v) for v in values]
    if not values:
        raise ValueError("across_seeds needs at least one value")
    if len(values) == 1:
        return binomial(values[0], n_each[0])
    k = len(values)
    mean = sum(values) / k
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (k - 1))
    pooled = sum(n_each) if all(n_each) else None
    floor = binomial(mean, pooled).se or 0.0
    return Measured(mean, pooled, max(std / math.sqrt(k), floor), basis="seeds", runs=k, std=std)


def compare(lower: Measured, higher: Measured, k: float = K_SIGMA) -> bool | None:
    """Whether ``lower`` really is the lower error: True when ``higher - lower > k·SE(d)``,
    False when ``lower - higher > k·SE(d)``, None (too close to call) otherwise — and
    whenever either standard error is unknown."""
    if lower.se is None or higher.se is None:
        return None
    d = higher.value - lower.value
    se = math.hypot(lower.se, higher.se)
    if abs(d) <= k * se:
        return None
    return d > 0


def difference_note(lower: Measured, higher: Measured, k: float = K_SIGMA) -> str:
    """``difference 0.7 points, 2σ = 1.9``: the numbers behind :func:`compare`."""
    if lower.se is None or higher.se is None:
        return "no image counts recorded, so no uncertainty to judge the difference by"
    se = math.hypot(lower.se, higher.se)
    # Two decimals where one would round the threshold to 0.0-0.4 and hide the comparison
    # ("difference +0.10 points, 2σ = 0.13", not "+0.1 points, 2σ = 0.1").
    d = 2 if k * se < 0.45 else 1
    return f"difference {higher.value - lower.value:+.{d}f} points, {k:g}σ = {k * se:.{d}f}"


def verdict(holds: bool | None) -> str:
    """A claim's verdict in words: holds, does not hold, too close to call."""
    return {True: "holds", False: "does not hold", None: "too close to call"}[holds]


def rule_text(k: float = K_SIGMA) -> str:
    """The rule in one sentence, for reports and panels."""
    return (
        f"A difference is called only when it exceeds {k:g} standard errors of the difference "
        f"(± is one standard error: binomial on the images measured, or the spread across seeds); "
        "otherwise it is too close to call."
    )
