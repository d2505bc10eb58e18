"""PyTorch Lightning: ``Trainer(callbacks=[ResvizCallback("runs/mine")])`` (issue #21).

A thin callback around :func:`resviz.watch`: the watch starts when fitting starts (every
rank makes one, only rank 0 writes, as :class:`~resviz.core.watch.watch.Watch` does under
DDP), :meth:`Watch.step` runs after each training batch, and the run ends ``finished``
(with a checkpoint the Inspect tab loads) or ``failed`` with the exception.

Each training batch counts as one step. The gradients are read in ``on_train_batch_end``,
after Lightning's ``optimizer.step()`` and before its next ``zero_grad``, so they are the
gradients of the batch. The training error is recorded when ``training_step`` returns a
dict with ``logits`` (and the batch is ``(images, targets)``, or the dict has ``targets``).

Install with ``pip install resviz[lightning]``; ``import resviz`` never imports Lightning.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

try:
    from lightning.pytorch.callbacks import Callback
except ImportError as exc:  # pragma: no cover - only without the extra
    from ..core.errors import ConfigError

    raise ConfigError(
        f"resviz.integrations.lightning needs PyTorch Lightning ({exc}); install it with pip install resviz[lightning]"
    ) from None

from torch import Tensor

from ..core.limits import MAX_ITERS

__all__ = ["ResvizCallback"]


class ResvizCallback(Callback):
    """Watch the LightningModule being fitted into the run folder ``run_dir``.

    ``every``, ``blocks`` and the other options are :func:`resviz.watch`'s; ``checkpoint``:
    save the net and its first optimizer's state when fitting ends.
    """

    def __init__(self, run_dir: str | Path, every: int = 10, *, checkpoint: bool = True, **options: Any) -> None:
        super().__init__()
        self.run_dir = run_dir
        self.every = every
        self.checkpoint = checkpoint
        self.options = options
        self.watch = None

    def on_fit_start(self, trainer, pl_module) -> None:
        from ..core.watch import watch

        options = dict(self.options)
        planned = trainer.estimated_stepping_batches
        if "iters" not in options and isinstance(planned, (int, float)) and math.isfinite(planned):
            options["iters"] = int(min(max(planned, 1), MAX_ITERS))
        self.watch = watch(pl_module, self.run_dir, every=self.every, **options)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if self.watch is None:
            return
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        logits = outputs.get("logits") if isinstance(outputs, dict) else None
        targets = outputs.get("targets") if isinstance(outputs, dict) else None
        images = batch[0] if isinstance(batch, (list, tuple)) and batch and isinstance(batch[0], Tensor) else None
        if targets is None and isinstance(batch, (list, tuple)) and len(batch) > 1 and isinstance(batch[1], Tensor):
            targets = batch[1]
        lr = trainer.optimizers[0].param_groups[0]["lr"] if trainer.optimizers else None
        self.watch.step(
            loss=loss if isinstance(loss, (Tensor, float)) else None,
            logits=logits,
            targets=targets if logits is not None else None,
            lr=lr,
            images=len(images) if images is not None else None,
        )

    def on_fit_end(self, trainer, pl_module) -> None:
        if self.watch is None:
            return
        if self.checkpoint:
            self.watch.checkpoint(optimizer=trainer.optimizers[0] if trainer.optimizers else None)
        self.watch.close()
        self.watch = None

    def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
        if self.watch is None:
            return
        if isinstance(exception, KeyboardInterrupt):
            self.watch.close("stopped", "interrupted (Ctrl+C)")
        else:
            self.watch.close("failed", f"{type(exception).__name__}: {exception}")
        self.watch = None
