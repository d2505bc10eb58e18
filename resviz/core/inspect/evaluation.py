"""Test error of a loaded net on a data set's test split (``resviz eval``)."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

import torch
from torch import Tensor

from ..data import ImageSet
from ..errors import DataError
from ..models import ResNet
from .cancel import CancelToken, raise_if_cancelled
from .preprocess import Preprocess

__all__ = ["EvalResult", "evaluate", "evaluating", "input_batches", "check_classes"]

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


def input_batches(
    data: ImageSet, preprocess: Preprocess, *, batch_size: int = 250, limit: int | None = None, device=None
) -> Iterator[tuple[Tensor, Tensor]]:
    """The first ``limit`` test images, preprocessed for the net, in order, in chunks."""
    n = len(data) if limit is None else min(len(data), int(limit))
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
    """Top-1 (and top-5) test error in percent."""

    error: float
    top5_error: float | None  # None when the net has 5 classes or fewer
    n_images: int

    def to_dict(self) -> dict:
        return {"error": self.error, "top5_error": self.top5_error, "n_images": self.n_images}


def evaluate(
    model: ResNet,
    data: ImageSet,
    preprocess: Preprocess,
    *,
    batch_size: int = 250,
    limit: int | None = None,
    progress: Progress | None = None,
    token: CancelToken | None = None,
) -> EvalResult:
    """The test error of ``model`` as it is now (switches included) on ``data``."""
    device = next(model.parameters()).device
    wrong = wrong5 = seen = 0
    total = len(data) if limit is None else min(len(data), limit)
    top5 = model.num_classes > 5
    with evaluating(model):
        for x, y in input_batches(data, preprocess, batch_size=batch_size, limit=limit, device=device):
            raise_if_cancelled(token)
            logits = model(x)
            wrong += int((logits.argmax(1) != y).sum())
            if top5:
                hit = (logits.topk(5, dim=1).indices == y[:, None]).any(dim=1)
                wrong5 += int((~hit).sum())
            seen += len(y)
            if progress:
                progress(seen, total)
    return EvalResult(100.0 * wrong / seen, 100.0 * wrong5 / seen if top5 else None, seen)
