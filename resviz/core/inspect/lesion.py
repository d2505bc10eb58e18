"""The lesion study of Veit, Wilber and Belongie 2016 (arXiv:1605.06431, section 4).

Test error of the net with one block's residual branch deleted, and with one block's
shortcut removed, for every block in turn, beside the intact net's error. Residual nets
behave like ensembles of shallower paths and shrug off most single deletions; plain nets
(and removed shortcuts) do not.

A lesion at block ``i`` changes nothing before block ``i``, so the study runs the intact
net once block by block, keeps the activation entering every block and the residual
branch's F(x) of every block, and recomputes only after block ``i`` (issue 5): the lesioned
block's own output comes from what was kept (relu(F(x)) without the shortcut,
relu(shortcut(x)) without the branch). For ``L`` blocks that is ``L + L(L-1)`` block
evaluations per image instead of ``L(2L + 1)``. A lesion of a switch that is off already
is the intact net, and is not run again. Images go in chunks so the kept activations stay
small.

The study runs on a working copy with BN folded into the convolutions, in channels-last
layout (:func:`~resviz.core.inference.inference_copy`, issue #11): eval-mode BN is a fixed
affine map, so the copy computes the same logits (to float rounding) in fewer passes.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from torch import Tensor

from ..data import ImageSet
from ..inference import inference_copy, to_input_format
from ..metrics import display_percent, error_percent
from ..models import ResNet
from .cancel import CancelToken, raise_if_cancelled
from .evaluation import evaluating, evaluation_images, input_batches
from .finite import count_wrong, first_nonfinite_layer
from .preprocess import Preprocess
from .subset import class_counts
from .surgery import LESION_KINDS, BlockInfo, Surgery, block_table

__all__ = ["LesionResult", "lesion_study"]

Progress = Callable[[int, int], None]


@dataclass
class LesionResult:
    """Wrong counts of the intact net and of each single lesion, depth order.

    The counts are exact; the test errors in percent derive from them through
    :func:`~resviz.core.metrics.error_percent`, and exports round them for display.
    """

    arch: str
    blocks: list[BlockInfo]
    intact_wrong: int
    residual_wrong: list[int]  # block i's residual branch deleted
    shortcut_wrong: list[int]  # block i's shortcut removed
    n_images: int
    #: Test images per class (by name) in the study: a limit's subset is stratified.
    class_counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    reuse_prefix: bool = True
    notes: list[str] = field(default_factory=list)

    @property
    def intact_error(self) -> float:
        """The intact net's test error in percent."""
        return error_percent(self.intact_wrong, self.n_images)

    @property
    def residual_error(self) -> list[float]:
        """Test error in percent with block i's residual branch deleted."""
        return [error_percent(w, self.n_images) for w in self.residual_wrong]

    @property
    def shortcut_error(self) -> list[float]:
        """Test error in percent with block i's shortcut removed."""
        return [error_percent(w, self.n_images) for w in self.shortcut_wrong]

    def rows(self) -> list[dict]:
        """One row per block: its name, level, whether it downsamples, both errors
        (percent, rounded for display) and the exact counts behind them."""
        intact = display_percent(self.intact_error)
        return [
            {
                "block": b.index,
                "name": b.name,
                "level": b.level,
                "downsamples": b.downsamples,
                "residual_deleted_error": display_percent(error_percent(r, self.n_images)),
                "shortcut_removed_error": display_percent(error_percent(s, self.n_images)),
                "intact_error": intact,
                "residual_deleted_wrong": r,
                "shortcut_removed_wrong": s,
                "intact_wrong": self.intact_wrong,
                "n_images": self.n_images,
            }
            for b, r, s in zip(self.blocks, self.residual_wrong, self.shortcut_wrong, strict=True)
        ]

    def to_csv(self) -> str:
        """The rows as CSV text (errors in percent, rounded; counts exact)."""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(self.rows()[0]) if self.blocks else ["block"])
        writer.writeheader()
        writer.writerows(self.rows())
        return out.getvalue()

    def to_dict(self) -> dict:
        """Counts exact, percentages rounded for display."""
        return {
            "arch": self.arch,
            "blocks": [asdict(b) for b in self.blocks],
            "n_images": self.n_images,
            "class_counts": dict(self.class_counts),
            "intact_error": display_percent(self.intact_error),
            "residual_error": [display_percent(e) for e in self.residual_error],
            "shortcut_error": [display_percent(e) for e in self.shortcut_error],
            "intact_wrong": self.intact_wrong,
            "residual_wrong": list(self.residual_wrong),
            "shortcut_wrong": list(self.shortcut_wrong),
            "seconds": round(self.seconds, 3),
            "reuse_prefix": self.reuse_prefix,
            "notes": list(self.notes),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def lesion_study(
    model: ResNet,
    data: ImageSet,
    preprocess: Preprocess,
    *,
    limit: int | None = None,
    classes: list[str] | None = None,
    batch_size: int = 100,
    reuse_prefix: bool = True,
    fold: bool = True,
    progress: Progress | None = None,
    token: CancelToken | None = None,
) -> LesionResult:
    """Single-block lesions of ``model`` (as it is now: the "intact" net) on ``data``.

    ``progress(done, total)`` is called after every lesion of every chunk; ``token`` is
    checked as often. ``reuse_prefix=False`` runs every lesion through the whole net, and
    ``fold=False`` on ``model`` itself rather than on a BN-folded copy (the references the
    benchmark and tests compare with). ``limit`` takes a fixed
    class-stratified subset (:func:`~resviz.core.inspect.evaluation.evaluation_images`);
    ``classes`` name the labels in :attr:`LesionResult.class_counts`.
    """
    started = time.perf_counter()
    work = inference_copy(model) if fold else model
    blocks = work.blocks()
    n_blocks = len(blocks)
    surgery = Surgery(work)
    device = next(work.parameters()).device
    data = evaluation_images(data, limit)
    n = len(data)
    chunks = -(-n // batch_size)
    per_chunk = 1 + len(LESION_KINDS) * n_blocks
    wrong = {kind: [0] * n_blocks for kind in LESION_KINDS}
    wrong_intact = seen = done = 0
    with evaluating(work):
        for x, y in input_batches(data, preprocess, batch_size=batch_size, device=device):
            raise_if_cancelled(token)
            x = to_input_format(x, work)
            if reuse_prefix:
                entering, residuals, logits = _intact_pass(work, x)
            else:
                logits = work(x)
            intact = _wrong(logits, y, model, x)
            wrong_intact += intact
            done += 1
            for i, block in enumerate(blocks):
                for kind in LESION_KINDS:
                    raise_if_cancelled(token)
                    if not getattr(block, _SWITCH[kind]):
                        wrong[kind][i] += intact  # switched off already: the lesion is the intact net
                    else:
                        with surgery.lesioned(kind, i):
                            if reuse_prefix:
                                out = _after_block(work, blocks, i, block.combine(entering[i], residuals[i]))
                            else:
                                out = work(x)
                            wrong[kind][i] += _wrong(out, y, work, x, f"the {kind} lesion of block {i}")
                    done += 1
                    if progress:
                        progress(done, chunks * per_chunk)
            seen += len(y)
    return LesionResult(
        arch=model.arch_name,
        blocks=block_table(model),
        intact_wrong=wrong_intact,
        residual_wrong=wrong["residual"],
        shortcut_wrong=wrong["shortcut"],
        n_images=seen,
        class_counts=class_counts(data.labels, classes),
        seconds=time.perf_counter() - started,
        reuse_prefix=reuse_prefix,
    )


#: The block switch each lesion turns off.
_SWITCH = {"residual": "residual_on", "shortcut": "shortcut_on"}


def _intact_pass(model: ResNet, x: Tensor) -> tuple[list[Tensor], list[Tensor | None], Tensor]:
    """What enters every block, every block's F(x) (None where deleted), and the logits."""
    h = model.stem(x)
    entering, residuals = [], []
    for block in model.blocks():
        entering.append(h)
        residual = block.residual(h) if block.residual_on else None
        residuals.append(residual)
        h = block.combine(h, residual)
    return entering, residuals, model.head(h)


def _after_block(model: ResNet, blocks: list, i: int, h: Tensor) -> Tensor:
    """The logits when the net is run on from block ``i``'s output ``h``."""
    for block in blocks[i + 1 :]:
        h = block(h)
    return model.head(h)


def _wrong(logits: Tensor, labels: Tensor, model: ResNet, x: Tensor, what: str = "the intact net") -> int:
    """Wrong answers in a chunk, refused when the logits are not finite (issue #17)."""
    return count_wrong(logits, labels, lambda: first_nonfinite_layer(model, x), what=f"test images ({what})")[0]
