"""Test error of a loaded net on a data set's test split (``resviz eval``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor

from ..data import ImageSet
from ..errors import DataError
from ..inference import inference_copy, to_input_format
from ..metrics import display_percent, error_percent
from ..models import ResNet
from .cancel import CancelToken, raise_if_cancelled
from .finite import count_wrong, first_nonfinite_layer
from .preprocess import Preprocess
from .subset import class_counts, stratified_subset

__all__ = ["EvalResult", "evaluate", "evaluating", "evaluation_images", "input_batches", "check_classes"]

Progress = Callable[[int, int], None]


@contextmanager
def evaluating(model: ResNet) -> Iterator[None]:
    """Eval mode without autograd for a while; the model's mode is restored after.

    ``inference_mode`` rather than ``no_grad``: nothing computed here ever needs a
    gradient, and it also skips the version-counter bookkeeping.
    """
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            yield
    finally:
        model.train(was_training)


def evaluation_images(data: ImageSet, limit: int | None = None) -> ImageSet:
    """The test images a ``limit`` means: all, or a fixed class-stratified subset of that many.

    See :mod:`resviz.core.inspect.subset`: the first ``limit`` of a folder would be one class.
    """
    if limit is not None and int(limit) < 1:
        raise DataError("no test images to evaluate on (the split is empty or --limit is 0)")
    idx = stratified_subset(data.labels, limit)
    subset = data if idx is None else ImageSet(data.images[idx], data.labels[idx])
    if len(subset) < 1:
        raise DataError("no test images to evaluate on (the split is empty or --limit is 0)")
    return subset


def input_batches(
    data: ImageSet, preprocess: Preprocess, *, batch_size: int = 250, device=None
) -> Iterator[tuple[Tensor, Tensor]]:
    """All of ``data``, preprocessed for the net, in order, in chunks (pick a subset first
    with :func:`evaluation_images`)."""
    n = len(data)
    if n < 1:
        raise DataError("no test images to evaluate on (the split is empty or --limit is 0)")
    for i in range(0, n, batch_size):
        j = min(n, i + batch_size)
        x = preprocess.batch(data.images[i:j])
        y = data.labels[i:j]
        yield (x, y) if device is None else (x.to(device), y.to(device))


def check_classes(model: ResNet, classes: list[str], data_classes: list[str], data_name: str) -> list[str]:
    """Raise DataError when the head and the data set disagree in size; notes otherwise."""
    if model.num_classes != len(data_classes):
        raise DataError(
            f"the net has {model.num_classes} classes but {data_name} has {len(data_classes)}: "
            "evaluate it on the data set it was trained on"
        )
    if list(classes) != list(data_classes) and not all(c.startswith("class ") for c in classes):
        return [f"class names differ from {data_name}'s; labels are compared by index"]
    return []


@dataclass
class EvalResult:
    """Top-1 (and top-5) errors as exact counts; the percentages derive from them."""

    wrong: int
    wrong5: int | None  # None when the net has 5 classes or fewer
    n_images: int
    #: Test images per class (by name) in what was evaluated: a limit's subset is stratified.
    class_counts: dict[str, int] = field(default_factory=dict)
    #: The summed cross-entropy loss (nats) over the images: the error's smooth companion (issue #20).
    loss_sum: float | None = None

    @property
    def loss(self) -> float | None:
        """Mean cross-entropy loss per image, the quantity training minimises (None if not measured)."""
        return None if self.loss_sum is None or self.n_images < 1 else self.loss_sum / self.n_images

    @property
    def error(self) -> float:
        """Top-1 test error in percent."""
        return error_percent(self.wrong, self.n_images)

    @property
    def top5_error(self) -> float | None:
        """Top-5 test error in percent (None for nets of 5 classes or fewer)."""
        return None if self.wrong5 is None else error_percent(self.wrong5, self.n_images)

    def to_dict(self) -> dict:
        """Counts exact, percentages rounded for display."""
        return {
            "error": display_percent(self.error),
            "top5_error": display_percent(self.top5_error),
            "wrong": self.wrong,
            "top5_wrong": self.wrong5,
            "n_images": self.n_images,
            "loss": self.loss,
            "class_counts": dict(self.class_counts),
        }


def _images(start: int, n: int) -> str:
    """``test images 1-250``: which batch an error message is about."""
    return f"test images {start + 1}-{start + n}"


def evaluate(
    model: ResNet,
    data: ImageSet,
    preprocess: Preprocess,
    *,
    batch_size: int = 250,
    limit: int | None = None,
    classes: list[str] | None = None,
    fold: bool = True,
    progress: Progress | None = None,
    token: CancelToken | None = None,
) -> EvalResult:
    """The test error of ``model`` as it is now (switches included) on ``data``.

    Runs on a BN-folded, channels-last working copy (:func:`~resviz.core.inference.inference_copy`);
    ``fold=False`` runs ``model`` itself.

    ``limit`` takes a fixed class-stratified subset (:func:`evaluation_images`); ``classes`` name
    the labels in :attr:`EvalResult.class_counts`.
    """
    work = inference_copy(model) if fold else model
    device = next(work.parameters()).device
    data = evaluation_images(data, limit)
    wrong = wrong5 = seen = 0
    loss_sum = 0.0
    total = len(data)
    top5 = model.num_classes > 5
    with evaluating(work):
        for x, y in input_batches(data, preprocess, batch_size=batch_size, device=device):
            raise_if_cancelled(token)
            x = to_input_format(x, work)
            logits = work(x)
            batch_wrong, batch_wrong5 = count_wrong(
                logits, y, lambda x=x: first_nonfinite_layer(model, x), top5=top5, what=_images(seen, len(y))
            )
            wrong += batch_wrong
            wrong5 += batch_wrong5
            loss_sum += float(F.cross_entropy(logits.float(), y, reduction="sum"))
            seen += len(y)
            if progress:
                progress(seen, total)
    return EvalResult(wrong, wrong5 if top5 else None, seen, class_counts(data.labels, classes), loss_sum)
