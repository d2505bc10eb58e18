"""Telemetry measured on the training device and fetched in one transfer per record.

Per step only device-side accumulations happen (loss sum, wrong-prediction count): no
``.item()``, so a GPU never waits for the host. Every k steps the trainer probes one step:
the probing forward (:func:`~resviz.core.train.compiled.probed_forward`) returns
``|F(x)| / |shortcut(x)|`` per block and the 3x3 layers' response stds, all weight-gradient
norms come from one ``torch._foreach_norm`` (:class:`~resviz.core.train.compiled.TrainStep`),
and :meth:`Telemetry.collect` concatenates everything into one tensor and copies it to the
host once (DESIGN.md, "the hot path").
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..metrics import error_percent
from ..models import ResNet, level_of_block
from ..records import Record
from .compiled import StepOutput
from .distributed import SINGLE, DistContext

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
        self.device = device
        self.dist = dist
        self.layout = model_layout(model)
        self._probed: StepOutput | None = None
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

    def add(self, out: StepOutput) -> None:
        """Add one step's loss and errors to the device-side sums (no host sync); keep a
        probing step's vectors for the next record."""
        self._loss_sum += out.loss.float()
        self._wrong += out.wrong
        self._steps += 1
        self._seen += out.batch
        if out.residual_ratio is not None:
            self._probed = out

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
        probed = self._probed
        if probed is not None:
            parts += [probed.residual_ratio, probed.response_std, probed.grad_norm]
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
        if probed is not None:
            for name in ("residual_ratio", "response_std", "grad_norm"):
                n = len(getattr(probed, name))
                vectors[name] = host[pos : pos + n].astype("float32")
                pos += n
        self._probed = None
        self._reset()
        return Record(step=step, scalars=out, vectors=vectors)
