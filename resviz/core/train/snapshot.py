"""What a training checkpoint holds beyond the weights, and version facts for run folders."""

from __future__ import annotations

import platform
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..checkpoint import checkpoint_dict, save_checkpoint

if TYPE_CHECKING:
    from .trainer import Trainer

__all__ = ["training_state", "save_training_checkpoint", "versions", "KEEP_CHECKPOINTS"]

#: Checkpoints kept per run (older ones are deleted): enough to fall back from a damaged
#: newest file, few enough that a long run does not fill the disk.
KEEP_CHECKPOINTS = 3


def training_state(trainer: "Trainer") -> dict:
    """A resviz checkpoint plus what resuming needs: optimizer, batch order, RNG, lr state."""
    return checkpoint_dict(
        trainer.model,
        classes=trainer.dataset.classes,
        mean=trainer.dataset.mean,
        dataset=trainer.dataset.name,
        step=trainer.step,
        config=trainer.config.to_dict(),
        trainer={
            "optimizer": trainer.optimizer.state_dict(),
            "stream": trainer.stream.state_dict(),
            "lr": trainer.lr.state_dict(),
            "augment_generator": trainer.aug_generator.get_state(),
            "world_size": trainer.dist.world_size,
        },
    )


def save_training_checkpoint(folder: Path, state: dict, keep: int = KEEP_CHECKPOINTS) -> Path:
    """Write ``step_NNNNNNN.pt`` atomically, then delete all but the newest ``keep``."""
    path = save_checkpoint(folder / f"step_{state['step']:07d}.pt", state)
    for old in sorted(folder.glob("step_*.pt"))[:-keep]:
        old.unlink(missing_ok=True)
    return path


def versions(device: str) -> dict[str, str]:
    """The software and device a run was made with (versions.json)."""
    import torch

    from ... import __version__

    out = {
        "resviz": __version__,
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "platform": platform.platform(),
        "device": device,
    }
    try:
        import torchvision

        out["torchvision"] = torchvision.__version__
    except Exception as exc:  # a torch/torchvision mismatch must not stop training: record it
        out["torchvision"] = f"unavailable ({type(exc).__name__})"
    if torch.version.cuda:
        out["cuda"] = torch.version.cuda
    return out
