"""Replacing a run with ``--force``: all or nothing (issue #17).

Found by attack: ``--force`` deleted the old run's files one by one and stopped at the first
that could not go (``status.json`` made a folder, a read-only ``checkpoints/``), leaving a
half-deleted run that neither ``export`` nor ``--resume`` could read. Now:

1. :func:`check_replaceable` looks at everything first: each file a run writes is a file (a
   folder of that name is not the run's, and is not deleted), ``checkpoints/`` is the run's
   own folder (a link to another run's would delete that run's checkpoints).
2. :func:`move_aside` renames the old run's files into a hidden folder inside the run folder
   (one file system, so each move is a rename). If one move fails, those already made are
   undone and the folder is as it was: one line, nothing changed.
3. Once the new run has started, :func:`discard` deletes the folder set aside; if the new run
   fails to start, :func:`restore` puts the old files back.
4. A process killed between 2 and 3 leaves the folder set aside (:func:`stale_asides`): the
   next ``--force`` deletes it with its own (it holds a run that was asked to be replaced),
   and a resume says where it is and leaves it (nothing is deleted that was not asked for).
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path

from ..errors import RunError
from .files import _LEFTOVER_PATTERNS, CHECKPOINT_DIR, RUN_FILES, checkpoint_files

__all__ = [
    "ASIDE_PREFIX",
    "check_checkpoint_folder",
    "check_replaceable",
    "discard",
    "move_aside",
    "restore",
    "stale_asides",
]

#: The hidden folder the old run's files wait in while the new run starts.
ASIDE_PREFIX = ".replaced-"
_NEW_FILES = ("config.json", "versions.json", "layout.json")


def _kind(mode: int) -> str:
    return "a folder" if stat.S_ISDIR(mode) else "a pipe, socket or device"


def check_checkpoint_folder(path: Path) -> None:
    """Refuse a run whose ``checkpoints`` is a link or not a folder: a run writes, and prunes,
    its checkpoints in a folder of its own (found by attack, issue #17: a link to another
    run's checkpoints/ had ``--force`` delete them, and a resume would prune them)."""
    ckpts = path / CHECKPOINT_DIR
    if ckpts.is_symlink() or (os.path.lexists(ckpts) and not ckpts.is_dir()):
        where = f"a link to {os.path.realpath(ckpts)}" if ckpts.is_symlink() else "not a folder"
        raise RunError(
            f"{path}: its {CHECKPOINT_DIR} is {where}; a run keeps its checkpoints in a folder of its own, "
            "and another run's are never written or deleted: remove it first (nothing was changed)"
        )


def check_replaceable(path: Path) -> None:
    """Refuse, before anything moves, a run whose files cannot all be replaced."""
    for name in ("config.json", *RUN_FILES):
        try:
            mode = os.lstat(path / name).st_mode
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise RunError(f"cannot replace the run {path}: {name}: {exc.strerror or exc}") from None
        if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
            raise RunError(
                f"cannot replace the run {path}: its {name} is {_kind(mode)}, not the file a run writes, so it is "
                "not the run's to delete; move it away first (nothing was changed)"
            )
    check_checkpoint_folder(path)


def _old_files(path: Path) -> list[Path]:
    """What the old run wrote: its files, its regular checkpoints and half-written temporaries."""
    files = [path / n for n in ("config.json", *RUN_FILES) if os.path.lexists(path / n)]
    ckpts = path / CHECKPOINT_DIR
    files += [p for p in checkpoint_files(ckpts) if p.is_symlink() or p.is_file()]
    for folder in (path, ckpts):
        for pattern in _LEFTOVER_PATTERNS:
            files += [f for f in folder.glob(pattern) if f.is_file() and f not in files]
    return files


def move_aside(path: Path) -> Path | None:
    """Move the old run's files into ``path/.replaced-PID``; None when there were none.

    All or nothing: a move that fails undoes the moves before it and raises one line.
    """
    check_replaceable(path)
    files = _old_files(path)
    if not files:
        return None
    moved: list[tuple[Path, Path]] = []
    aside = path / f"{ASIDE_PREFIX}{os.getpid()}"
    try:
        aside = Path(tempfile.mkdtemp(prefix=ASIDE_PREFIX, dir=path))  # unique: never a stale one's
        (aside / CHECKPOINT_DIR).mkdir()
        for f in files:
            dest = aside / f.relative_to(path)
            os.rename(f, dest)
            moved.append((f, dest))
    except OSError as exc:
        _undo(moved, aside)
        where = exc.filename or path
        raise RunError(
            f"cannot replace the run {path}: {where}: {exc.strerror or exc}; nothing was changed "
            "(make the folder writable, or train into a new folder)"
        ) from None
    return aside


def _undo(moved: list[tuple[Path, Path]], aside: Path) -> list[Path]:
    """Move files back; the ones that could not be moved back (they stay in ``aside``)."""
    stuck = []
    for src, dest in reversed(moved):
        try:
            os.rename(dest, src)
        except OSError:
            stuck.append(dest)
    if not stuck:
        shutil.rmtree(aside, ignore_errors=True)
    return stuck


def restore(path: Path, aside: Path | None) -> None:
    """The new run did not start: remove what it wrote and put the old run back."""
    if aside is None:
        return
    for name in _NEW_FILES:
        if os.path.lexists(aside / name):  # the old run had it: the new one's goes
            try:
                os.unlink(path / name)
            except OSError:
                pass
    moved = [(path / d.relative_to(aside), d) for d in sorted(aside.rglob("*")) if not d.is_dir() or d.is_symlink()]
    _undo(moved, aside)


def stale_asides(path: Path) -> list[Path]:
    """Folders an earlier ``--force`` set aside and was killed (SIGKILL, power loss) before it
    could delete or restore them. The caller holds the run's lock, so no live process owns
    one: each holds the files of a run that a ``--force`` replaced."""
    return sorted(p for p in path.glob(f"{ASIDE_PREFIX}*") if p.is_dir() and not p.is_symlink())


def discard(aside: Path | None) -> str | None:
    """Delete the old run set aside, now that the new one has started; a note if it could not be."""
    if aside is None:
        return None
    failed: list[str] = []
    handler = {"onexc" if sys.version_info >= (3, 12) else "onerror": lambda _f, p, _e: failed.append(p)}
    shutil.rmtree(aside, **handler)
    if failed:
        return f"the replaced run's files could not all be deleted; they are in {aside} (delete it by hand)"
    return None
