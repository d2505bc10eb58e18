"""How a run reads its test split: the test error and Fig. 7's responses, at the least cost.

Evaluating is not training, and on a CPU it ate most of a short experiment (issue #18;
``benchmarks/eval_share.py``: 60 % of the time before, 12 % after):
``resviz experiment degradation --depths 20,56 --iters 300`` read the whole CIFAR-10 test
split (10,000 images) at each of its 10 evaluations per net, plus Fig. 7's probed pass over
500 more. Three things bring it down, and the test errors stay what they were:

- During training an evaluation reads a fixed class-stratified subset (``--eval-subset``,
  1,000 images by default: the same images for every net, seed and evaluation, by
  :func:`~resviz.core.inspect.subset.stratified_subset`'s fixed hash); the last one reads
  the whole split, so the final test error is the split's.
- Fig. 7's fixed batch (:mod:`.responses`) is the stratified subset of 500 under the same
  hash (since issue #18; before, 500 others from a seeded permutation), so it lies inside
  both the 1,000 and the whole split: its probed pass, a forward
  pass in eval mode like any other, also counts its errors, and the plain pass reads only
  the rest. 1,000 images per evaluation instead of 1,500.
- The passes run under ``torch.inference_mode`` (no autograd bookkeeping at all, where
  ``no_grad`` keeps some) in batches of 100 on the CPU: 2x faster there than ``no_grad``
  with 500 (resnet56, 2 threads; the activations of 100 CIFAR images stay in cache).

BN is not folded into the convs for the plain pass: torch.fx's ``fuse`` traces the model by
patching ``torch.nn.Module.__call__`` for the whole process, and the app trains its lockstep
groups in threads, so one thread's trace hung another's (the paper experiment's test, in a
fresh clone); it bought no measurable time in the CIFAR-10 run either (11 % with and without).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from ..data import eval_batches, normalise
from ..data.base import ImageSet
from .distributed import DistContext
from .responses import RESPONSE_IMAGES, measure_responses, response_indices, responses_and_errors

__all__ = ["TestEvaluation", "eval_batch_size"]


def eval_batch_size(device: torch.device) -> int:
    """Test images per forward pass: 100 on the CPU (the activations stay in cache: 1.5-2x
    faster than 500 on the project's 2-core machine), 500 where a bigger batch fills a GPU."""
    return 100 if device.type == "cpu" else 500


class TestEvaluation:
    """The test error of a training run (whole split or fixed subset) and Fig. 7's responses.

    ``test_data`` is the whole split on the model's device (in memory, or a streamed folder
    that decodes its own batches); ``subset`` the images per evaluation during training
    (0 or None: the whole split every time); ``bf16``: evaluate under bf16 autocast (CUDA);
    ``responses``: the size of Fig. 7's fixed batch.
    """

    __test__ = False  # not a pytest class, whatever its name

    def __init__(
        self,
        model: torch.nn.Module,
        test_data,
        mean: Tensor,
        dist: DistContext,
        *,
        subset: int | None,
        channels_last: bool = False,
        bf16: bool = False,
        responses: int = RESPONSE_IMAGES,
    ) -> None:
        self.model = model
        self.test_data = test_data
        self.mean = mean
        self.dist = dist
        self.channels_last = channels_last
        self.bf16 = bf16
        self.device = mean.device
        self.batch = eval_batch_size(self.device)
        self.responses = responses
        streamed = hasattr(test_data, "eval_batches")
        #: This rank's share of the whole split.
        self.test_shard = test_data.shard(dist.rank, dist.world_size) if streamed else dist.shard(test_data)
        #: The subset's split indices, and this rank's share of its images; None where an
        #: evaluation reads the whole split (a streamed split is never held in memory whole).
        self.subset_index = None if streamed else self._subset_index(subset)
        self.subset_shard = None
        if self.subset_index is not None:
            whole = ImageSet(test_data.images[self.subset_index], test_data.labels[self.subset_index])
            self.subset_shard = dist.shard(whole)
        # One probed pass can also count errors only where this process reads the images it
        # probes: not under DDP (each rank reads a shard, every rank probes the whole batch),
        # not streamed, and not under bf16 autocast (the probed pass runs in float32, and one
        # test error should not mix two precisions).
        self._shared_pass = not (dist.distributed or streamed or bf16)
        self._response_index: Tensor | None = None
        self._response_images: Tensor | None = None

    def _subset_index(self, size: int | None) -> Tensor | None:
        from ..inspect.subset import stratified_subset

        if not size:
            return None
        index = stratified_subset(self.test_data.labels, size)
        return None if index is None else index.to(self.device)

    def run(self, full: bool) -> tuple[Tensor, np.ndarray]:
        """Wrong predictions on this rank's share (a device scalar, summed over ranks by the
        telemetry) of the whole split when ``full`` (or where there is no subset), else of the
        subset; and Fig. 7's responses, float32 on the host."""
        whole = full or self.subset_index is None
        fig7 = self.response_index()
        if self._shared_pass:
            read = torch.arange(len(self.test_data), device=self.device) if whole else self.subset_index
            if bool(torch.isin(fig7, read).all()):
                return self._one_pass(read, fig7)
        wrong = self.count_wrong(self.test_shard if whole else self.subset_shard)
        return wrong, self._responses()

    def _one_pass(self, read: Tensor, fig7: Tensor) -> tuple[Tensor, np.ndarray]:
        """The probed pass over Fig. 7's batch counts its errors; the plain pass reads the rest."""
        images, labels = self.test_data.images, self.test_data.labels
        stds, wrong = responses_and_errors(
            self.model, images[fig7], self.mean, labels[fig7], channels_last=self.channels_last, chunk=self.batch
        )
        rest = _Gathered(images, labels, read[~torch.isin(read, fig7)])
        return wrong + self.count_wrong(rest), _host(stds)

    @torch.no_grad()  # the caller's DDP all-reduce updates the count in place: no inference tensor
    def count_wrong(self, shard) -> Tensor:
        """Wrong predictions on ``shard`` (in memory or streamed), as a device scalar."""
        self.dist.sync_buffers(self.model)
        return self._count(shard).clone()

    @torch.inference_mode()
    def _count(self, shard) -> Tensor:
        self.model.eval()
        wrong = torch.zeros((), device=self.device, dtype=torch.long)
        try:
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
                for images, labels in eval_batches(shard, self.batch):
                    x = normalise(images, self.mean)
                    if self.channels_last:
                        x = x.contiguous(memory_format=torch.channels_last)
                    wrong += (self.model(x).argmax(dim=1) != labels).sum()
        finally:
            self.model.train()
        return wrong

    def response_index(self) -> Tensor:
        """The split indices of Fig. 7's fixed test batch, on the device."""
        if self._response_index is None:
            self._response_index = torch.as_tensor(
                response_indices(self.test_data.labels, self.responses), device=self.device
            )
        return self._response_index

    def _responses(self) -> np.ndarray:
        """Fig. 7 on its own: one probed pass in eval mode over the fixed batch. Every rank
        measures the same images with the same (synchronised) weights, so under DDP no
        collective is needed: rank 0's numbers are everyone's."""
        if self._response_images is None:
            self._response_images = self.test_data.images[self.response_index()]
        return _host(measure_responses(self.model, self._response_images, self.mean, channels_last=self.channels_last))


class _Gathered:
    """Some images of an in-memory split, gathered a batch at a time (never all at once: an
    in-memory folder of large images would double its memory for one evaluation)."""

    def __init__(self, images: Tensor, labels: Tensor, index: Tensor) -> None:
        self.images, self.labels, self.index = images, labels, index

    def eval_batches(self, batch_size: int):
        for i in range(0, len(self.index), batch_size):
            part = self.index[i : i + batch_size]
            yield self.images[part], self.labels[part]


def _host(stds: Tensor) -> np.ndarray:
    return stds.cpu().numpy().astype("float32")
