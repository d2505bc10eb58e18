"""Checks made before any file is written: never over an input, never into a run folder.

Found by attacking the CLI (issue #9): ``resviz export R --out R/metrics.sqlite`` replaced
the run's own database with CSV, ``--out R/config.json`` broke its resume, and ``attribute
--out X.png --image X.png`` overwrote the image it explained. Every verb that writes a file
the user names calls :func:`check_output` first, before any slow work, with the paths it
reads; the check is torch-free so it can run before torch is imported.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from .errors import ConfigError
from .runs.reader import is_run_folder

__all__ = ["check_output", "run_folder_of"]


def run_folder_of(path: str | Path) -> Path | None:
    """The run folder ``path`` lies in (at any depth), or None."""
    # realpath: a symlink that leads into a run folder writes into the run folder.
    p = Path(os.path.realpath(Path(path).expanduser()))
    for folder in [p.parent, *p.parent.parents]:
        try:
            if is_run_folder(folder):
                return folder
        except OSError:
            return None
    return None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist: compare the names they resolve to
        return os.path.realpath(a) == os.path.realpath(b)


def check_output(path: str | Path, *, inputs: Iterable[str | Path | None] = (), what: str = "output") -> Path:
    """Refuse an output path that would destroy something; return it as a Path.

    Refused, with a :class:`~resviz.core.errors.ConfigError` that says why: a path that is
    one of ``inputs`` (the same file under any name), a path inside a run folder (its
    database, config and checkpoints are the run), an existing folder, and an existing
    path that is not a regular file (a FIFO would block the writer, a device would swallow
    the data).
    """
    out = Path(path).expanduser()
    for src in inputs:
        if src is not None and _same_file(out, Path(src).expanduser()):
            raise ConfigError(f"the {what} {out} is also an input that is being read; write it somewhere else")
    run = run_folder_of(out)
    if run is not None:
        raise ConfigError(
            f"the {what} {out} is inside the run folder {run}, whose files are the run itself; write it somewhere else"
        )
    try:
        st = os.stat(out)
    except FileNotFoundError:
        return out
    except OSError as exc:
        raise ConfigError(f"cannot write the {what} {out}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise ConfigError(f"the {what} {out} is a folder; give a file name")
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(f"the {what} {out} exists and is not a regular file (a pipe or a device); give a file name")
    return out
