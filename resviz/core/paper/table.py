"""Table 6 of the paper with our numbers beside it: one row per net of the experiment.

Parameters are counted from the built model (on the ``meta`` device: nothing allocated),
so the column checks our nets against the paper's 0.27M ... 1.7M as well. Our test error is
the last evaluation of the run (the end of training, on the whole test split); the paper's
is Table 6's (best of 5 runs for ResNet-110). The training error is the settled one (mean of
the last 5 % of records, :func:`~resviz.core.runs.history.settled_mean`), measured on
augmented batches. Each of ours carries ± one binomial standard error on the images it was
measured on (:mod:`resviz.core.verdicts`), the uncertainty the claims are judged by.

A net trained with several seeds is given as Table 6 gives ResNet-110, "best (mean ± std)"
of the test error over the seeds ("6.43 (6.61±0.16)"), its training error as mean ± std;
its difference from the paper is our best against the paper's number.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from functools import cache

from ..archs import parse_arch
from .numbers import PAPER_PARAMS, paper_note, paper_test_error
from .results import NetResult

__all__ = ["TableRow", "count_params", "table_json", "table_markdown", "table_rows"]


@dataclass
class TableRow:
    """One line of Table 6: ours beside the paper's."""

    net: str
    kind: str
    n: int  # blocks per stage: the net has 6n+2 weighted layers
    layers: int
    params: int
    paper_params: str | None
    test_error: float | None
    paper_test_error: float | None
    difference: float | None  # ours - paper's, in percentage points
    train_error: float | None
    status: str
    step: int
    iters: int
    paper_note: str | None = None
    #: One standard error (points) of ``test_error`` and ``train_error``; None when unknown.
    test_se: float | None = None
    train_se: float | None = None
    #: With several seeds: how many, the best test error and the sample std of each error.
    seeds: int = 1
    test_best: float | None = None
    test_std: float | None = None
    train_std: float | None = None

    @property
    def test_text(self) -> str:
        """The test error cell: ``8.50 ± 0.28`` (one SE), or ``8.30 (8.50 ± 0.21)`` with seeds."""
        if self.seeds > 1 and self.test_best is not None:
            return f"{self.test_best:.2f} ({_num(self.test_error, se=self.test_std)})"
        return _num(self.test_error, se=self.test_se)

    @property
    def train_text(self) -> str:
        """The training error cell: ± one SE, or ± the std over the seeds."""
        return _num(self.train_error, se=self.train_std if self.seeds > 1 else self.train_se)


@cache
def count_params(name: str, num_classes: int = 10) -> int:
    """Learnable parameters of the net ``name`` for ``num_classes`` classes, from the built model."""
    import torch

    from ..models import build_model, count_parameters

    with torch.device("meta"):
        return count_parameters(build_model(name, num_classes=num_classes))


def table_rows(results: Iterable[NetResult], num_classes: int = 10, test_images: int | None = None) -> list[TableRow]:
    """Rows in Table 6's order: the ResNets by depth, then the plain nets by depth.

    ``test_images`` (the test split's size) stands in for the image count of runs from
    before it was recorded."""
    from .claims import test_measured, train_measured

    rows = []
    for r in sorted(results, key=lambda r: (r.kind == "plain", r.depth)):
        spec = parse_arch(r.name)
        paper = paper_test_error(spec.kind, spec.depth)
        test, train = test_measured(r, test_images), train_measured(r)
        tests = [x.test_error for x in r.seeds if x.test_error is not None]
        best = min(tests) if r.runs and tests else None
        ours = best if best is not None else r.test_error  # Table 6's own number for 5 runs is the best
        diff = None if paper is None or ours is None else ours - paper
        rows.append(
            TableRow(
                net=r.name,
                kind=spec.kind,
                n=(spec.depth - 2) // 6,
                layers=spec.depth,
                params=count_params(r.name, num_classes),
                paper_params=PAPER_PARAMS.get(spec.depth) if spec.kind == "resnet" else None,
                test_error=r.test_error,
                paper_test_error=paper,
                difference=diff,
                train_error=r.train_error,
                status=r.status,
                step=r.step,
                iters=r.iters,
                paper_note=paper_note(spec.kind, spec.depth),
                test_se=getattr(test, "se", None),
                train_se=getattr(train, "se", None),
                seeds=len(r.runs) or 1,
                test_best=best,
                test_std=getattr(test, "std", None) if r.runs else None,
                train_std=getattr(train, "std", None) if r.runs else None,
            )
        )
    return rows


def _num(value: float | None, sign: bool = False, se: float | None = None) -> str:
    if value is None:
        return "—"
    if se is not None:
        return f"{value:.2f} ± {se:.2f}"
    return f"{value:+.2f}" if sign else f"{value:.2f}"


def _params(n: int) -> str:
    return f"{n / 1e6:.2f}M" if n >= 10_000 else f"{n / 1e3:.1f}k"


def table_markdown(rows: list[TableRow], title: str) -> str:
    """Table 6 as Markdown, with the paper's notes below it."""
    lines = [
        title,
        "",
        "| net | n | layers | params (ours) | params (paper) | test error (%) | paper (%) | difference | training error (%) | status |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    notes = []
    for r in rows:
        paper = _num(r.paper_test_error)
        if r.paper_note:
            notes.append(f"{r.net}: {r.paper_note}")
            if r.paper_test_error is None:
                paper = r.paper_note.split(" (")[0]
        status = r.status if r.status == "finished" else f"{r.status} at {r.step:,} of {r.iters:,}"
        lines.append(
            f"| {r.net} | {r.n} | {r.layers} | {_params(r.params)} | {r.paper_params or '—'} | "
            f"{r.test_text} | {paper} | {_num(r.difference, sign=True)} | {r.train_text} | {status} |"
        )
    lines += [
        "",
        (
            "The paper's numbers are Table 6 of He et al. 2016 (CIFAR-10 test error); the paper gives none "
            "for the plain nets of 20 to 56 layers (Fig. 6 draws them). Ours are ± one binomial standard "
            "error on the images measured (the whole test split; the settled training window)."
        ),
    ]
    seeded = max((r.seeds for r in rows), default=1)
    if seeded > 1:
        lines.append(
            f"With {seeded} seeds of each net, our test error is best (mean ± std) over the seeds, as Table 6 "
            "gives ResNet-110's over 5 runs (± is then the sample std, not a standard error), the difference "
            "our best against the paper's; the training error is mean ± std. The claims are judged on the "
            "standard error of the mean over the seeds."
        )
    lines += [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def table_json(rows: list[TableRow], **extra) -> dict:
    """Table 6 as a JSON-ready dict: ``{"rows": [...], **extra}``."""
    return {**extra, "rows": [_row_json(r) for r in rows]}


def _row_json(row: TableRow) -> dict:
    d = asdict(row)
    if row.seeds == 1:  # table6.json as before seeds
        for key in ("seeds", "test_best", "test_std", "train_std"):
            del d[key]
    return d
