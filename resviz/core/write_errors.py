"""One line for a write that failed: "no space left on DEVICE while writing FILE" (issue #9).

Found by attack: a run on a 2 MB tmpfs ended in four chained tracebacks with status.json
left ``running``. Every writer of a run folder (checkpoints, status and config JSON, the
SQLite database) turns its ``OSError`` or ``sqlite3.Error`` into a :class:`WriteError`
with this message, and the trainer ends the run ``failed`` with it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
from pathlib import Path

from .errors import WriteError

__all__ = ["discard", "is_no_space", "is_torch_short_write", "mount_point", "write_error"]

_NO_SPACE = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))


def is_torch_short_write(exc: BaseException) -> bool:
    """True for torch's zip writer reporting a write that fell short (issue #17).

    ``torch.save`` checks the file position after each record it writes; on a full disk the
    OS takes fewer bytes than asked and torch raises ``RuntimeError: [enforce fail at
    inline_container.cc:...] unexpected pos N vs M`` (seen on a 1.5 MB tmpfs; on 0.9 MB the
    OS's ENOSPC arrived first). A write to a regular file falls short only when the device
    or the quota is full, so this is "no space left" too.
    """
    text = str(exc)
    return isinstance(exc, RuntimeError) and "unexpected pos" in text and "inline_container" in text


def is_no_space(exc: BaseException) -> bool:
    """True for "no space left" and "quota exceeded", from the OS, from SQLite or from torch's
    zip writer (:func:`is_torch_short_write`)."""
    if is_torch_short_write(exc):
        return True
    if isinstance(exc, OSError):
        return exc.errno in _NO_SPACE
    if isinstance(exc, sqlite3.Error):
        return getattr(exc, "sqlite_errorcode", None) == getattr(sqlite3, "SQLITE_FULL", 13) or "disk is full" in str(
            exc
        )
    return False


def mount_point(path: str | Path) -> Path:
    """The mount point of the file system ``path`` (or its nearest existing parent) is on."""
    p = Path(os.path.abspath(path))
    while not p.exists() and p != p.parent:
        p = p.parent
    try:
        dev = p.stat().st_dev
        while p != p.parent and p.parent.stat().st_dev == dev:
            p = p.parent
    except OSError:
        pass
    return p


def write_error(exc: BaseException, path: str | Path) -> WriteError:
    """A :class:`WriteError` that says in one line why ``path`` could not be written."""
    if is_no_space(exc):
        return WriteError(f"no space left on {mount_point(path)} while writing {path}")
    text = str(exc).strip()
    reason = getattr(exc, "strerror", None) or (text.splitlines()[0] if text else type(exc).__name__)
    return WriteError(f"cannot write {path}: {reason}")


def discard(path: str | Path) -> None:
    """Remove a temporary file if it is there, and never raise.

    ``unlink(missing_ok=True)`` still raises when the folder itself is gone or has become a
    file (NotADirectoryError): found by attack, a run folder replaced by a file while its
    net trained turned one net's failed checkpoint into four chained tracebacks that ended
    every net of its lockstep group, because the cleanup's error replaced the WriteError.
    """
    with contextlib.suppress(OSError):
        os.unlink(path)
