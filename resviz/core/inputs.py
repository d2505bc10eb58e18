"""Files the user hands resviz (images, weights, data sets): regular files, of bounded size.

Found by attacking the CLI (issue #9): ``--image`` a FIFO waited forever for a writer
(the app froze the same way), ``--image /dev/zero`` read until memory ran out, and every
path that could not be opened was said not to exist, a symbolic link loop included. Every
reader of a user's file goes through :func:`check_input_file` (and :func:`read_input_file`
where the bytes are wanted): a path that is not a regular file is refused *before* it is
opened, with words that say what it is, and no more than a limit's bytes are ever read.

Torch-free: the app decodes a dropped image while torch is still loading.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from .errors import ResvizError

__all__ = [
    "IMAGE_FORMATS",
    "check_input_file",
    "read_input_file",
    "describe_size",
    "why_unreadable",
    "usable_path",
    "shown_path",
    "what_it_is",
]

#: The image formats resviz opens, for the Inspect tab's decoder and data folders alike.
#: Pillow is told to try only these, so a file never reaches a plugin that runs an external
#: program (EPS goes through Ghostscript) or one of the rarely used decoders with a history
#: of bugs (FITS, PDF, McIdas ...).
IMAGE_FORMATS: tuple[str, ...] = ("PNG", "JPEG", "BMP", "WEBP", "TIFF", "GIF", "PPM")


def describe_size(n: int) -> str:
    """``1.5 GiB``, ``256 MiB``, ``12 KiB``: a byte count for messages."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            value = n / scale
            return f"{value:.0f} {unit}" if value >= 10 or value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"


def what_it_is(mode: int) -> str:
    """``a file``, ``a folder``, ``a named pipe (FIFO)``, ``a device`` ...: for messages."""
    if stat.S_ISREG(mode):
        return "a file"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _not_a_file(path: Path, mode: int) -> str | None:
    """What ``path`` is when it is not a regular file (None when it is one)."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return f"{shown_path(path)} is a folder"
    if stat.S_ISFIFO(mode):
        return f"{shown_path(path)} is a named pipe (FIFO), not a file: reading it would wait for a writer"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return f"{shown_path(path)} is a device, not a file"
    if stat.S_ISSOCK(mode):
        return f"{shown_path(path)} is a socket, not a file"
    return f"{shown_path(path)} is not a regular file"


def why_unreadable(path: str | os.PathLike, exc: OSError) -> str:
    """The accurate words for a path ``os.stat`` failed on: 'does not exist' only when it does not."""
    return _stat_failure(Path(path), exc)


def _stat_failure(path: Path, exc: OSError) -> str:
    """The accurate words for a path that cannot be looked at: 'does not exist' only when it does not."""
    if exc.errno == errno.ENOENT:
        if os.path.islink(path):
            return f"{shown_path(path)} is a symbolic link to {os.readlink(path)}, which does not exist"
        return f"{shown_path(path)} does not exist"
    if exc.errno == errno.ELOOP:
        return f"{shown_path(path)} is a symbolic link loop (the links lead back to themselves)"
    if exc.errno == errno.ENOTDIR:
        return f"{shown_path(path)} does not exist (a part of the path is a file, not a folder)"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"{shown_path(path)} cannot be read: permission denied"
    if exc.errno == errno.ENAMETOOLONG:
        return _too_long(path)
    return f"cannot read {shown_path(path)}: {exc.strerror or exc}"


#: Characters of a path a message shows before eliding the middle: a 300-byte name must
#: not turn the one-line refusal into a screenful.
_SHOWN_CHARS = 120


def shown_path(path: str | os.PathLike) -> str:
    """``path`` for a message: as is, or its start and end around an ellipsis when very long."""
    text = os.fspath(path)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    text = text.replace("\n", "\\n")
    if len(text) <= _SHOWN_CHARS:
        return text
    half = _SHOWN_CHARS // 2
    return f"{text[:half]}...{text[-half:]} ({len(text)} characters)"


def _too_long(path: Path) -> str:
    """Which part of ``path`` is longer than the file system allows (ENAMETOOLONG)."""
    longest = max(path.parts, key=lambda part: len(os.fsencode(part)), default="")
    size = len(os.fsencode(longest))
    if size > 255:
        return (
            f"{shown_path(path)} cannot be used: one of its names is {size} bytes long, more than the "
            "255 a file system allows; give a shorter name"
        )
    return f"{shown_path(path)} cannot be used: the path is longer than the system allows; give a shorter one"


def usable_path(path: str | os.PathLike, *, error: type[ResvizError] = ResvizError) -> Path:
    """``path`` (user-expanded) when the system can look it up, whether or not it exists.

    The one check of every path a user hands resviz (run folders, data folders, weights,
    experiment folders), before ``Path.exists()`` and friends, which raise for anything but
    "does not exist": a name over 255 bytes gave ``OSError: [Errno 36]`` in eleven commands
    (issue #17). Any error of looking the path up other than its absence (a name too long,
    a NUL byte, a link loop, a parent folder without permission) is ``error`` in one line.
    """
    if isinstance(path, str) and not path.strip():
        raise error(f"an empty path ({path!r}) names no file or folder; give one")
    try:
        p = Path(path).expanduser()
        os.stat(p)
    except (FileNotFoundError, NotADirectoryError):
        return p
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return p
        raise error(_stat_failure(Path(path), exc)) from None
    except (ValueError, TypeError) as exc:  # an embedded NUL byte; not a path at all
        raise error(f"{shown_path(str(path))!r} is not a usable path: {exc}") from None
    return p


def check_input_file(
    path: str | os.PathLike,
    *,
    limit: int,
    what: str,
    error: type[ResvizError] = ResvizError,
    folder_hint: str = "",
) -> os.stat_result:
    """The ``stat`` of ``path`` when it is a regular file of at most ``limit`` bytes.

    Otherwise ``error`` with a message naming the path and what it is: missing, a broken
    link, a link loop, a folder (``folder_hint`` says what to do instead), a FIFO, a device,
    unreadable, or larger than ``limit`` (``what`` names the kind of file in that message).
    """
    path = Path(path)
    try:
        st = os.stat(path)
    except OSError as exc:
        raise error(_stat_failure(path, exc)) from None
    except ValueError as exc:  # an embedded NUL byte
        raise error(f"{path!r} is not a usable file name: {exc}") from None
    problem = _not_a_file(path, st.st_mode)
    if problem is not None:
        if stat.S_ISDIR(st.st_mode) and folder_hint:
            problem += f", {folder_hint}"
        raise error(problem)
    if st.st_size > limit:
        raise error(
            f"{path} is {describe_size(st.st_size)}, more than the {describe_size(limit)} resviz reads "
            f"from {what}; it is not {what} resviz can use"
        )
    return st


def read_input_file(
    path: str | os.PathLike,
    *,
    limit: int,
    what: str,
    error: type[ResvizError] = ResvizError,
    folder_hint: str = "",
) -> bytes:
    """The bytes of ``path`` (checked as :func:`check_input_file` does), never more than ``limit``.

    The file is opened without blocking and checked again once open, so a FIFO or device
    swapped in after the check is still refused, and at most ``limit + 1`` bytes are read
    (a file that grows while it is read is refused too).
    """
    path = Path(path)
    check_input_file(path, limit=limit, what=what, error=error, folder_hint=folder_hint)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise error(_stat_failure(path, exc)) from None
    try:
        problem = _not_a_file(path, os.fstat(fd).st_mode)
        if problem is not None:
            raise error(problem)
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise error(f"cannot read {path}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if size > limit:
        raise error(f"{path} holds more than the {describe_size(limit)} resviz reads from {what}")
    return b"".join(chunks)
