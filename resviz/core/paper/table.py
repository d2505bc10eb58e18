"""Table 6 of the paper with our numbers beside it: one row per net of the experiment.

Parameters are counted from the built model (on the ``meta`` device: nothing allocated),
so the column checks our nets against the paper's 0.27M ... 1.7M as well. Our test error is
the last evaluation of the run (the end of training, on the whole test split); the paper's
is Table 6's (best of 5 runs for ResNet-110). The training error is the settled one (mean of
the last 5 % of records, :func:`~resviz.core.runs.history.settled_mean`), measured on
augmented batches. Each of ours carries ± one binomial standard error on the images it was
measured on (:mod:`resviz.core.verdicts`), the uncertainty the claims are judged by.
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
        diff = None if paper is None or r.test_error is None else r.test_error - paper
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
                test_se=getattr(test_measured(r, test_images), "se", None),
                train_se=getattr(train_measured(r), "se", None),
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
            f"{_num(r.test_error, se=r.test_se)} | {paper} | {_num(r.difference, sign=True)} | "
            f"{_num(r.train_error, se=r.train_se)} | {status} |"
        )
    lines += [
        "",
        (
            "The paper's numbers are Table 6 of He et al. 2016 (CIFAR-10 test error); the paper gives none "
            "for the plain nets of 20 to 56 layers (Fig. 6 draws them). Ours are ± one binomial standard "
            "error on the images measured (the whole test split; the settled training window)."
        ),
    ]
    lines += [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def table_json(rows: list[TableRow], **extra) -> dict:
    """Table 6 as a JSON-ready dict: ``{"rows": [...], **extra}``."""
    return {**extra, "rows": [asdict(r) for r in rows]}
