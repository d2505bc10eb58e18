"""Data-parallel training under torchrun, with PyTorch's own engine (DDP).

``torchrun --nproc-per-node N -m resviz train ...`` starts N processes with RANK,
WORLD_SIZE and LOCAL_RANK in their environment; :func:`init_distributed` turns that into a
process group (NCCL on CUDA, Gloo on CPU) and a :class:`DistContext` the trainer uses:

* the global batch stays the paper's 128 by default: each rank takes its 128 / N slice of
  every global batch of one shared permutation (DistributedSampler's semantics), so the
  batch order, and so a checkpoint, does not depend on N;
* per-rank telemetry (loss, training error, residual ratios, response stds) is summed over
  ranks in the same single collective per record that brings it to the host;
* only rank 0 writes the run folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.distributed as dist

from ..errors import ConfigError

if TYPE_CHECKING:
    from ..data import ImageSet

__all__ = ["DistContext", "init_distributed", "SINGLE"]


@dataclass(frozen=True)
class DistContext:
    """Where this process stands among the training processes."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that writes the run folder and prints progress."""
        return self.rank == 0

    def shard(self, split: ImageSet) -> ImageSet:
        """This rank's share of a split (every world_size-th image): its part of the test error."""
        if not self.distributed:
            return split
        from ..data import ImageSet

        return ImageSet(split.images[self.rank :: self.world_size], split.labels[self.rank :: self.world_size])

    @property
    def distributed(self) -> bool:
        """Under torchrun, with a process group (also with one process: DDP's path still runs)."""
        return self.world_size > 1 or self.backend is not None

    def all_reduce_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """Sum ``tensor`` over ranks in place (a no-op in a single process)."""
        if self.distributed:
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def sync_buffers(self, module: torch.nn.Module) -> None:
        """Copy rank 0's buffers (BN running statistics) to every rank.

        DDP broadcasts them at the start of each forward pass only, so after the last
        training step each replica holds the statistics of its own last batch; evaluation
        and the end of a run need them equal everywhere.
        """
        if self.distributed:
            for buf in module.buffers():
                dist.broadcast(buf, src=0)

    def any(self, flag: bool, device: torch.device) -> bool:
        """True on every rank when ``flag`` is true on any rank (stop consensus)."""
        if not self.distributed:
            return flag
        t = torch.tensor([1.0 if flag else 0.0], device=device)
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return bool(t.item() > 0)


SINGLE = DistContext()


def init_distributed(device: str = "auto") -> DistContext:
    """A process group from torchrun's environment; :data:`SINGLE` when not under torchrun.

    ``torchrun --nproc-per-node 1`` makes a group of one: the NCCL (or Gloo) and DDP code
    runs as it would with more processes, which is how a single GPU checks that path.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1 and "TORCHELASTIC_RUN_ID" not in os.environ:
        return SINGLE
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() and device in ("auto", "cuda")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("device cuda was asked for, but torch sees no CUDA GPU here; use --device cpu")
    backend = "nccl" if use_cuda else "gloo"
    if use_cuda:
        torch.cuda.set_device(local)
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    return DistContext(rank=rank, world_size=world, local_rank=local, backend=backend)


def shutdown_distributed(ctx: DistContext) -> None:
    """Leave the process group cleanly (torchrun waits for every rank)."""
    if ctx.distributed and dist.is_initialized():
        import gc

        dist.barrier()
        dist.destroy_process_group()
        # What still refers to the group (a DDP reducer not released, a finished Work) goes
        # now, while the interpreter is whole, not during its finalization (see
        # Trainer.release_distributed).
        gc.collect()
