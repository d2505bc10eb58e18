"""Fig. 7 as the paper measured it: the trained net's layer responses on test images.

He et al. (section 4.2, Fig. 7) plot "the standard deviations of the layer responses ...
the outputs of each 3x3 layer, after BN and before other nonlinearity (ReLU/addition)",
of trained nets on CIFAR-10. The probe of a training step measures the same quantity on
the augmented mini-batch with BN in *training* mode, where BN normalises each channel of
the batch itself, so every response comes out near |gamma| and short runs all sit near 1
(issue #12). Here the net is in eval mode (BN applies its running statistics, as at test
time) and looks at a fixed batch of test images, the same images at every evaluation of
the run, so the values of one run form a curve over training and two runs of one data
set are measured on the same images.

The batch is the stratified subset of :data:`RESPONSE_IMAGES` test images that ``--limit 500``
means everywhere else (:func:`~resviz.core.inspect.subset.stratified_subset`: every class
its share, each class's images ranked by a fixed hash, no random generator), so it holds
every class equally however the split is sorted, and it lies inside the trainer's
1,000-image evaluation subset: one forward pass serves both (issue #18). The std is over every element of the layer's output
(images x channels x height x width), like :meth:`~resviz.core.models.Probe.response`;
larger inputs are fed in chunks whose moments are combined exactly (Chan et al. 1979).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from ..data import normalise
from ..models import Probe, ResNet

__all__ = ["RESPONSE_IMAGES", "RESPONSE_SEED", "measure_responses", "response_indices", "responses_and_errors"]

#: How many test images the measurement looks at (the whole split where it is smaller).
RESPONSE_IMAGES = 500
#: The seed of the stratified subset: fixed, so every run of a data set uses the same images;
#: the evaluation subset's (inspect.subset.SUBSET_SEED), so the batch lies inside it.
RESPONSE_SEED = 0
#: Pixels (images x height x width) per forward chunk: 500 CIFAR images in one pass, while a
#: 224 x 224 net takes ten at a time and its activations stay small.
_CHUNK_PIXELS = 500 * 32 * 32


def response_indices(
    labels: Tensor | np.ndarray, count: int = RESPONSE_IMAGES, seed: int = RESPONSE_SEED
) -> np.ndarray:
    """Indices (ascending) of the fixed test batch: the stratified subset of ``count`` images
    (the whole split where it is smaller). The subsets of one seed nest on a balanced split
    (the 500 lie inside the 1,000), since each class takes its images in one fixed order."""
    from ..inspect.subset import stratified_subset

    labels = torch.as_tensor(np.asarray(labels.cpu() if isinstance(labels, Tensor) else labels).ravel())
    picked = stratified_subset(labels, count, seed=seed)
    return np.arange(len(labels), dtype=np.int64) if picked is None else picked.numpy().astype(np.int64)


class _MomentProbe(Probe):
    """A probe that adds each 3x3 layer's (count, mean, M2) up over chunks; no ratios."""

    def __init__(self) -> None:
        super().__init__()
        self.moments: list[tuple[float, Tensor, Tensor]] = []
        self._layer = 0

    def next_chunk(self) -> None:
        self._layer = 0

    def ratio(self, residual: Tensor, shortcut: Tensor) -> None:
        pass  # Fig. 7 needs the responses only

    def response(self, out: Tensor) -> None:
        x = out.detach().float()
        n = float(x.numel())
        mean = x.mean()
        m2 = (x - mean).square().sum()
        i = self._layer
        self._layer += 1
        if i == len(self.moments):
            self.moments.append((n, mean, m2))
            return
        # Chan, Golub & LeVeque's pairwise update: exact, and stable in float32.
        na, mean_a, m2_a = self.moments[i]
        total = na + n
        delta = mean - mean_a
        self.moments[i] = (total, mean_a + delta * (n / total), m2_a + m2 + delta.square() * (na * n / total))

    def stds(self) -> Tensor:
        """The unbiased std of each layer's responses over every chunk, as one device tensor."""
        return torch.stack([(m2 / max(n - 1.0, 1.0)).sqrt() for n, _, m2 in self.moments])


def measure_responses(model: ResNet, images: Tensor, mean: Tensor, *, channels_last: bool = False) -> Tensor:
    """Std of every 3x3 layer's response (after BN, before addition and ReLU), BN in eval mode.

    ``images`` are uint8 N x C x H x W on the model's device, normalised chunk by chunk with
    the training mean ``mean`` as the trainer feeds them; the result is a float32 tensor
    in :meth:`~resviz.core.models.ResNet.conv3x3_layers` order, left on the device (the
    trainer copies it to the host with the record). The model's mode is restored.
    """
    return responses_and_errors(model, images, mean, channels_last=channels_last)[0]


def responses_and_errors(
    model: ResNet,
    images: Tensor,
    mean: Tensor,
    labels: Tensor | None = None,
    *,
    channels_last: bool = False,
    chunk: int | None = None,
) -> tuple[Tensor, Tensor | None]:
    """:func:`measure_responses`, and the number of wrong predictions on ``images`` when
    their ``labels`` are given: the probed pass is an ordinary forward pass in eval mode,
    so the trainer counts its test errors from it instead of reading the images twice.
    ``chunk`` caps the images per forward pass (the trainer's evaluation batch)."""
    h, w = images.shape[-2:]
    size = max(1, _CHUNK_PIXELS // (h * w))
    stds, wrong = _probed_pass(model, images, mean, labels, channels_last, min(size, chunk or size))
    # Tensors made under inference mode refuse in-place updates (DDP's all-reduce) later.
    return stds.clone(), None if wrong is None else wrong.clone()


@torch.inference_mode()
def _probed_pass(model, images, mean, labels, channels_last, chunk) -> tuple[Tensor, Tensor | None]:
    was_training = model.training
    probe = _MomentProbe()
    wrong = None if labels is None else torch.zeros((), device=images.device, dtype=torch.long)
    model.eval()
    model.attach_probe(probe)
    try:
        for start in range(0, len(images), chunk):
            x = normalise(images[start : start + chunk], mean)
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            probe.next_chunk()
            logits = model(x)
            if wrong is not None:
                wrong += (logits.argmax(dim=1) != labels[start : start + chunk]).sum()
    finally:
        model.attach_probe(None)
        model.train(was_training)
    return probe.stds(), wrong
