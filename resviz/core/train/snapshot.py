"""What a training checkpoint holds beyond the weights, which one a resume starts from, and version facts."""

from __future__ import annotations

import platform
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from ..checkpoint import (
    all_finite,
    check_finite_weights,
    checkpoint_dict,
    load_checkpoint,
    save_checkpoint,
)
from ..errors import CheckpointError, RunError
from ..runs.files import checkpoint_files

if TYPE_CHECKING:
    from .trainer import Trainer

__all__ = ["training_state", "save_training_checkpoint", "newest_usable_checkpoint", "versions", "KEEP_CHECKPOINTS"]

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
    """Write ``step_NNNNNNN.pt`` atomically, then delete all but the newest ``keep`` (by step)."""
    path = save_checkpoint(folder / f"step_{state['step']:07d}.pt", state)
    for old in checkpoint_files(folder)[:-keep]:
        old.unlink(missing_ok=True)
    return path


def newest_usable_checkpoint(run_dir: Path, checkpoints: list[Path]) -> tuple[dict, list[str]]:
    """The newest checkpoint that loads, holds training state and is finite, and a note per one skipped.

    A skipped checkpoint is said, never silent (issue #9): resuming from an older one
    repeats the steps since, and the user should know why.
    """
    skipped: list[tuple[Path, str]] = []
    for path in reversed(checkpoints):
        try:
            state = load_checkpoint(path)
            if not isinstance(state.get("trainer"), dict) or not isinstance(state.get("model"), dict):
                raise CheckpointError(f"{path} holds no training state (optimizer, batch order)")
            check_finite_weights(state["model"], path.name)
            momentum = [v for s in state["trainer"]["optimizer"].get("state", {}).values() for v in s.values()
                        if isinstance(v, torch.Tensor)]
            if not all_finite(momentum):
                raise CheckpointError(f"{path.name} holds an optimizer state that is not finite (NaN or infinite)")
        except (CheckpointError, KeyError, TypeError, AttributeError) as exc:
            skipped.append((path, str(exc) if isinstance(exc, CheckpointError) else f"{path} is damaged ({exc!r})"))
            continue
        notes = [f"{p.name} is unreadable, so resuming from step {state['step']} instead: {why}" for p, why in skipped]
        return state, notes
    why = f" ({skipped[0][1]})" if skipped else ""
    raise RunError(
        f"{run_dir} has no readable checkpoint to resume from{why}; start it again with "
        f"`resviz train --out {run_dir} --force` (this replaces the run)"
    )


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
