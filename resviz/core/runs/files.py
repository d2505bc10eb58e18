"""The files of a run folder: their names, atomic JSON, checkpoints in step order, leftovers.

Written to a temporary name and moved into place with ``os.replace`` (DESIGN.md, "Runs
on disk"), so a reader never sees half a file; a write killed halfway leaves only a
``.NAME.tmpPID`` file, removed the next time the run is opened for writing (issue #9).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from ..errors import RunError
from ..write_errors import discard, is_no_space, write_error

__all__ = [
    "CHECKPOINT_DIR",
    "RUN_FILES",
    "checkpoint_files",
    "odd_checkpoint_entries",
    "checkpoint_step",
    "read_json",
    "remove_leftovers",
    "write_json_atomic",
]

CHECKPOINT_DIR = "checkpoints"
#: The files a run writes beside config.json (and ``checkpoints/step_*.pt``).
RUN_FILES = (
    "versions.json",
    "layout.json",
    "status.json",
    "metrics.sqlite",
    "metrics.sqlite-wal",
    "metrics.sqlite-shm",
)
#: What a write killed halfway leaves: ``.NAME.tmpPID`` (see write_json_atomic, save_checkpoint).
_LEFTOVER_PATTERNS = (".step_*.pt.tmp*", *(f".{name}.tmp*" for name in ("config.json", *RUN_FILES[:3])))


def _write_text(path: Path, text: str) -> None:
    path.write_text(text)


def _overwrite(path: Path, text: str) -> None:
    data = text.encode()
    fd = os.open(path, os.O_WRONLY)  # no O_CREAT, no O_TRUNC: keep the blocks the file has
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.ftruncate(fd, len(data))
    finally:
        os.close(fd)


def write_json_atomic(path: Path, data: Any, *, in_place_when_full: bool = False) -> None:
    """Write JSON to a temporary file and move it into place: readers never see half.

    A failed write (a full disk) removes its temporary file and raises a one-line
    :class:`~resviz.core.errors.WriteError` (issue #9). With ``in_place_when_full`` (for
    status.json) a disk too full for a new file gets the text written over the old one
    instead, in the blocks it already holds: a run that failed for lack of space can
    still say so, at the price of a reader possibly seeing half a file for a moment.
    """
    text = json.dumps(data, indent=2, sort_keys=True, default=str)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        _write_text(tmp, text)
        os.replace(tmp, path)
    except OSError as exc:
        discard(tmp)
        if in_place_when_full and is_no_space(exc) and path.is_file():
            try:
                _overwrite(path, text)
                return
            except OSError:
                pass
        raise write_error(exc, path) from None


def read_json(path: Path) -> Any:
    """A JSON object from a run folder; RunError in one line when it is missing or not an object."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise RunError(f"{path.parent} is not a run folder: {path.name} is missing") from None
    except (OSError, ValueError) as exc:
        raise RunError(
            f"{path} is unreadable: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        ) from None
    if not isinstance(data, dict):
        raise RunError(f"{path} is unreadable: it holds a JSON {type(data).__name__}, not a JSON object")
    return data


def checkpoint_step(path: Path) -> int | None:
    """The step in a ``step_NNNNNNN.pt`` name, or None for another name."""
    digits = path.name[len("step_") : -len(".pt")]
    if path.name.startswith("step_") and path.name.endswith(".pt") and digits.isdigit():
        return int(digits)
    return None


def checkpoint_files(folder: Path) -> list[Path]:
    """The ``step_*.pt`` files of ``folder``, oldest step first.

    Sorted by the step number, not the name: from step 10,000,000 on the names grow an
    eighth digit and sort before the 7-digit ones as text (issue #9).

    Only regular files (or links to one): a folder, a pipe or a link loop of that name is no
    checkpoint, and reading or pruning it killed a resumed run (issue #17); see
    :func:`odd_checkpoint_entries`.
    """
    if not folder.is_dir():
        return []
    found = [(step, p) for p in folder.glob("step_*.pt") if (step := checkpoint_step(p)) is not None and p.is_file()]
    return [p for _, p in sorted(found)]


def odd_checkpoint_entries(folder: Path) -> list[tuple[Path, str]]:
    """Entries of ``folder`` named like a checkpoint that are not a file: (path, what it is)."""
    if not folder.is_dir():
        return []
    odd = []
    for p in sorted(folder.glob("step_*.pt")):
        if checkpoint_step(p) is None or p.is_file():
            continue
        try:
            mode = p.stat().st_mode
            what = "a folder" if stat.S_ISDIR(mode) else "a pipe, socket or device"
        except OSError as exc:  # a link loop (ELOOP) or a dangling link
            what = f"a link that leads nowhere ({exc.strerror or exc})"
        odd.append((p, what))
    return odd


def remove_leftovers(path: Path) -> list[Path]:
    """Delete the temporary files of writes that were killed halfway (issue #9)."""
    removed = []
    for folder in (path, path / CHECKPOINT_DIR):
        for pattern in _LEFTOVER_PATTERNS:
            for f in folder.glob(pattern):
                if f.is_file():
                    f.unlink(missing_ok=True)
                    removed.append(f)
    return removed
