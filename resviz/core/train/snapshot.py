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
from ..shell import shell_command

if TYPE_CHECKING:
    from .config import TrainConfig
    from .trainer import Trainer

__all__ = [
    "KEEP_CHECKPOINTS",
    "augment_seed",
    "newest_usable_checkpoint",
    "restore_training_state",
    "resume_point",
    "save_training_checkpoint",
    "training_state",
    "training_state_is_finite",
    "versions",
]

#: Checkpoints kept per run (older ones are deleted): enough to fall back from a damaged
#: newest file, few enough that a long run does not fill the disk.
KEEP_CHECKPOINTS = 3


def training_state(trainer: Trainer) -> dict:
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


def restore_training_state(trainer: Trainer, ckpt: dict) -> None:
    """Put a :func:`training_state` back into a freshly built trainer: the inverse of saving."""
    from ..inspect.statedict import fit_state_dict

    # The mismatches by name, not torch's truncated "Error(s) in loading state_dict" (issue #9).
    fit_state_dict(
        trainer.model,
        ckpt["model"],
        arch=trainer.config.arch,
        label=f"the checkpoint of step {ckpt.get('step')}",
        hint="It was not written for this run's net (copied from another run?); move it out of "
        "checkpoints/ to resume from the one before, or start the run again with --force",
    )
    trainer.model.set_shortcuts(ckpt["shortcuts"])
    state = ckpt["trainer"]
    trainer.optimizer.load_state_dict(state["optimizer"])
    trainer.stream.load_state_dict(state["stream"])
    trainer.lr.load_state_dict(state["lr"])
    trainer.step = trainer.last_checkpoint_step = int(ckpt["step"])
    rank = trainer.dist.rank
    if state.get("world_size", 1) == trainer.dist.world_size == 1 and "augment_generator" in state:
        trainer.aug_generator.set_state(state["augment_generator"])  # exactly where it was
    else:  # another world size: fresh, but reproducible, augmentation streams
        trainer.aug_generator.manual_seed(augment_seed(trainer.config.seed, trainer.step, rank))


def augment_seed(seed: int, step: int, rank: int) -> int:
    """A seed for the augmentation stream of one rank, from a given step on."""
    return (seed * 1_000_003 + step * 10_007 + rank + 1) % (2**63)


def training_state_is_finite(trainer: Trainer) -> bool:
    """Weights, BN statistics and momentum buffers: all finite (one device reduction)."""
    tensors = [*trainer.model.parameters(), *trainer.model.buffers()]
    for state in trainer.optimizer.state.values():
        tensors += [v for v in state.values() if isinstance(v, torch.Tensor)]
    return all_finite(tensors)


def save_training_checkpoint(folder: Path, state: dict, keep: int = KEEP_CHECKPOINTS) -> Path:
    """Write ``step_NNNNNNN.pt`` atomically, then delete all but the newest ``keep`` (by step).

    Only regular files are pruned (:func:`~resviz.core.runs.files.checkpoint_files`), and one
    that cannot be deleted is kept: pruning is housekeeping, never a reason for a run to die
    (issue #17: a folder named step_0000029.pt ended a resumed run at its first save)."""
    path = save_checkpoint(folder / f"step_{state['step']:07d}.pt", state)
    for old in checkpoint_files(folder)[:-keep]:
        try:
            old.unlink(missing_ok=True)
        except OSError:
            pass
    return path


#: What makes a checkpoint this run's (issue #17): another run's checkpoint of the same net,
#: copied or linked into checkpoints/, was resumed from silently. The rest of the config may
#: differ between a run and its checkpoints (the device, threads, how often it records).
IDENTITY = ("arch", "shortcut", "plain", "data", "image_size", "seed", "batch_size")


_NOT_OURS = "not this run's"


class ForeignCheckpoint(CheckpointError):
    """A readable checkpoint that is not this run's (:func:`check_own_checkpoint`)."""


def check_own_checkpoint(path: Path, state: dict, run_config: dict | None) -> None:
    """Refuse a checkpoint that is not this run's: the step inside differs from the step in
    its name, or its config names another net, data set, seed or batch size."""
    from ..inspect.fields import checkpoint_fields
    from ..runs.files import checkpoint_step

    fields = checkpoint_fields(state, path.name)  # types, step range, mean vs image_shape
    named = checkpoint_step(path)
    if named is not None and fields.step != named:
        raise ForeignCheckpoint(
            f"{path.name} holds step {fields.step}, not the step {named} of its name (copied from another run?)"
        )
    if run_config is None:
        return
    if fields.config is None:
        raise ForeignCheckpoint(f"{path.name} records no run config, so it cannot be told to be this run's")
    differ = [k for k in IDENTITY if fields.config.get(k) != run_config.get(k)]
    if differ:
        what = ", ".join(f"{k} {fields.config.get(k)!r} (this run: {run_config.get(k)!r})" for k in differ)
        raise ForeignCheckpoint(f"{path.name} is another run's: its {what}")


def newest_usable_checkpoint(
    run_dir: Path, checkpoints: list[Path], run_config: dict | None = None
) -> tuple[dict, list[str]]:
    """The newest checkpoint that loads, holds training state, is this run's and is finite,
    and a note per one skipped.

    A skipped checkpoint is said, never silent (issue #9): resuming from an older one
    repeats the steps since, and the user should know why. ``run_config`` (config.json) is
    what a checkpoint must match to be this run's (:func:`check_own_checkpoint`).
    """
    from ..runs.files import CHECKPOINT_DIR, odd_checkpoint_entries

    skipped: list[tuple[Path, str]] = [
        (p, f"{CHECKPOINT_DIR}/{p.name} is {what}, not a checkpoint file")
        for p, what in odd_checkpoint_entries(run_dir / CHECKPOINT_DIR)
    ]
    odd_notes = [f"skipped {why}" for _, why in skipped]
    foreign: set[Path] = set()
    for path in reversed(checkpoints):
        try:
            state = load_checkpoint(path)
            if not isinstance(state.get("trainer"), dict) or not isinstance(state.get("model"), dict):
                raise CheckpointError(f"{path} holds no training state (optimizer, batch order)")
            check_own_checkpoint(path, state, run_config)
            check_finite_weights(state["model"], path.name)
            momentum = [
                v
                for s in state["trainer"]["optimizer"].get("state", {}).values()
                for v in s.values()
                if isinstance(v, torch.Tensor)
            ]
            if not all_finite(momentum):
                raise CheckpointError(f"{path.name} holds an optimizer state that is not finite (NaN or infinite)")
        except (CheckpointError, KeyError, TypeError, AttributeError) as exc:
            skipped.append((path, str(exc) if isinstance(exc, CheckpointError) else f"{path} is damaged ({exc!r})"))
            if isinstance(exc, ForeignCheckpoint):
                foreign.add(path)
            continue
        notes = odd_notes + [
            f"{p.name} is {_NOT_OURS if p in foreign else 'unreadable'}, so resuming from step {state['step']} "
            f"instead: {why}"
            for p, why in skipped[len(odd_notes) :]
        ]
        return state, notes
    reasons = skipped[len(odd_notes) :] or skipped  # the newest checkpoint's reason first
    why = f" ({reasons[0][1]})" if reasons else ""
    raise RunError(
        f"{run_dir} has no readable checkpoint to resume from{why}; to start it again, run `resviz train` with "
        f"the settings in {run_dir / 'config.json'} and "
        f"`{shell_command('--out', run_dir, '--force')}` (this replaces the run)"
    )


def resume_point(run_dir: str | Path, overrides: dict | None = None) -> tuple[TrainConfig, dict, list[str]]:
    """The config, the newest usable checkpoint and the notes for continuing ``run_dir``.

    Refuses a run another process may still be writing (the same rule as ``--force``) and
    a finished one; a damaged database fails here, before any data is loaded. Every
    fallback taken is a note (issue #9, "silent fallbacks"): a newest checkpoint that is
    unreadable or not finite, a metrics database that is gone.
    """
    from ..runs.database import check_database
    from ..runs.reader import RunReader
    from ..runs.replace import check_checkpoint_folder
    from ..runs.writer import refuse_live_writer
    from .config import TrainConfig

    with RunReader(run_dir) as reader:
        where = reader.path
        refuse_live_writer(where, "continue")
        check_checkpoint_folder(where)  # a link to another run's checkpoints/ (issue #17)
        if reader.status().status == "finished":
            raise RunError(f"{where} has finished its {reader.config.get('iters')} iterations; nothing to resume")
        config = TrainConfig.from_dict({**reader.config, **(overrides or {})})
        check_database(where / "metrics.sqlite")
        state, notes = newest_usable_checkpoint(where, reader.checkpoints(), reader.config)
        if int(state["step"]) > config.iters:  # "finished 28/10 iterations" (issue #17)
            raise RunError(
                f"{where / 'config.json'} says iters {config.iters}, but its newest checkpoint is at step "
                f"{state['step']:,}: the two contradict each other (was config.json edited?); "
                "restore its iters, or train a new run"
            )
    if not (where / "metrics.sqlite").exists():
        notes.append(
            f"{where / 'metrics.sqlite'} is missing: the run's history up to step {state['step']} is gone, "
            "and its curves start again from there"
        )
    return config, state, notes


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
