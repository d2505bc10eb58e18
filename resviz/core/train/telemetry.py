"""Telemetry measured on the training device and fetched in one transfer per record.

Per step only device-side accumulations happen (loss sum, wrong-prediction count): no
``.item()``, so a GPU never waits for the host. Every k steps the trainer probes one step:
the blocks record ``|F(x)| / |shortcut(x)|`` and the 3x3 layers' response stds during the
forward pass (:class:`~resviz.core.models.Probe`), all weight-gradient norms come from one
``torch._foreach_norm``, and :meth:`Telemetry.collect` concatenates everything into one
tensor and copies it to the host once (DESIGN.md, "the hot path").
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..metrics import error_percent
from ..models import Probe, ResNet, level_of_block
from .distributed import SINGLE, DistContext
from ..records import Record

__all__ = ["Telemetry", "model_layout"]


def model_layout(model: ResNet) -> dict[str, list]:
    """Names for every index of the vector metrics, plus block facts the plots use."""
    conv_names = {id(m): n for n, m in model.named_modules()}
    blocks = model.blocks()
    return {
        "residual_ratio": model.block_names(),
        "response_std": [conv_names[id(m)] for m in model.conv3x3_layers()],
        "test_response_std": [conv_names[id(m)] for m in model.conv3x3_layers()],
        "grad_norm": [n for n, _ in model.weighted_layers()],
        "block_levels": level_of_block(model),
        "block_downsamples": [b.downsamples for b in blocks],
    }


class Telemetry:
    """Accumulates between records and assembles :class:`Record` objects."""

    def __init__(self, model: ResNet, device: torch.device, dist: DistContext = SINGLE) -> None:
        self.model = model
        self.device = device
        self.dist = dist
        self.layout = model_layout(model)
        self._weights = [m.weight for _, m in model.weighted_layers()]
        self._probe: Probe | None = None
        self._grad_norms: Tensor | None = None
        self._reset()

    def _reset(self) -> None:
        zero = torch.zeros((), device=self.device)
        self._loss_sum = zero.clone()
        self._wrong = zero.clone()
        self._steps = 0
        self._seen = 0

    @property
    def pending_steps(self) -> int:
        """Steps accumulated since the last record."""
        return self._steps

    def begin_step(self, probing: bool) -> None:
        """Attach a probe to the model for this step's forward pass, or not."""
        self._probe = Probe() if probing else None
        self.model.attach_probe(self._probe)

    def after_backward(self) -> None:
        """On a probing step: every weighted layer's gradient norm, in one fused call."""
        self.model.attach_probe(None)
        if self._probe is None:
            return
        grads = [w.grad if w.grad is not None else torch.zeros_like(w) for w in self._weights]
        self._grad_norms = torch.stack(torch._foreach_norm(grads)).float()

    def after_step(self, loss: Tensor, logits: Tensor, labels: Tensor) -> None:
        """Add this step's loss and errors to the device-side sums (no host sync)."""
        self._loss_sum += loss.detach().float()
        self._wrong += (logits.detach().argmax(dim=1) != labels).sum()
        self._steps += 1
        self._seen += labels.shape[0]

    def collect(
        self, step: int, lr: float, elapsed: float, test_wrong: Tensor | None = None, test_count: int = 0
    ) -> Record:
        """Everything since the last record, fetched in a single device-to-host copy.

        ``elapsed`` is the training time (s) since the last record, evaluation excluded;
        ``test_wrong`` a device count of wrong test predictions when the test split was just
        evaluated, out of ``test_count`` images over all ranks.
        """
        parts = [
            self._loss_sum.reshape(1),
            self._wrong.float().reshape(1),
            torch.tensor([elapsed], device=self.device),
        ]
        if test_wrong is not None:
            parts.append(test_wrong.float().reshape(1))
        probe, grads = self._probe, self._grad_norms
        if probe is not None and probe.residual_ratio:
            parts += [torch.stack(probe.residual_ratio), torch.stack(probe.response_std)]
        if grads is not None:
            parts.append(grads)
        # Under data parallelism the one collective per record sums every rank's numbers;
        # dividing by the world size then gives means over all ranks.
        flat = self.dist.all_reduce_sum(torch.cat([p.to(self.device) for p in parts]))
        host = flat.cpu().double().numpy()
        world = self.dist.world_size
        pos = 4 if test_wrong is not None else 3
        host[2] /= world  # mean elapsed time over ranks
        host[pos:] /= world
        out = {
            "lr": float(lr),
            "images_per_s": float(self._seen * world / max(host[2], 1e-9)),
            "loss": float(host[0] / max(self._steps * world, 1)),
            "train_error": error_percent(host[1], self._seen * world),
        }
        if test_wrong is not None:
            out["test_error"] = error_percent(host[3], test_count)
        vectors = {}
        if probe is not None and probe.residual_ratio:
            n_blocks, n_convs = len(probe.residual_ratio), len(probe.response_std)
            vectors["residual_ratio"] = host[pos : pos + n_blocks].astype("float32")
            pos += n_blocks
            vectors["response_std"] = host[pos : pos + n_convs].astype("float32")
            pos += n_convs
        if grads is not None:
            vectors["grad_norm"] = host[pos : pos + len(grads)].astype("float32")
        self._probe, self._grad_norms = None, None
        self._reset()
        return Record(step=step, scalars=out, vectors=vectors)
