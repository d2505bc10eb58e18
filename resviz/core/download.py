"""The one way resviz fetches a file from the internet: verified, resumable, cancellable (issue #20).

Used by the model zoo (:mod:`resviz.core.zoo`), torchvision weights by name
(:mod:`resviz.core.inspect.hub`) and the CIFAR-10 archive (:mod:`resviz.core.data.cifar10`).

- The bytes stream into a hidden ``.NAME.part`` file in the target folder and are moved to
  ``NAME`` with :func:`os.replace` only after their SHA-256 matches the published one: a
  mismatch is deleted and refused, never loaded, and no reader ever sees half a file.
- An interrupted download (a dropped connection, Cancel) leaves only the ``.part`` file;
  the next attempt asks the server for the rest with an HTTP ``Range`` request (RFC 9110
  section 14) and starts again cleanly when the server sends the whole file instead.
- The size is bounded like any weights file (:data:`~resviz.core.limits.MAX_CHECKPOINT_BYTES`)
  before and while bytes arrive, so a hostile or broken server cannot fill the disk.
- Offline (``offline=True``, no DNS, a refused connection) the one-line error names the
  file, its URL and the folder to put it in.
- Two processes fetching one file (the app and a CLI command, two CLI commands) take turns:
  the ``.part`` file is locked (``flock``) while bytes go into it, and the one that waited
  finds the file the other verified instead of appending to its ``.part`` (which would have
  mixed two streams into a file that fails its hash, blamed on the server).

The cache is torch's hub cache (``torch.hub.get_dir()/checkpoints``), where torchvision keeps
its weights: a file torchvision already downloaded is reused. Qt-free and torch-free.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import http.client
import os
import re
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ResvizError
from .inputs import describe_size
from .limits import MAX_CHECKPOINT_BYTES

__all__ = [
    "RemoteFile",
    "DownloadError",
    "DownloadCancelled",
    "hub_cache_dir",
    "fetch",
    "cached_path",
    "verify_file",
    "sha256_of",
    "Progress",
]

#: ``progress(bytes_done, bytes_total_or_None)``, called as bytes arrive.
Progress = Callable[[int, "int | None"], None]

_CHUNK = 1 << 20
_HEX = re.compile(r"^[0-9a-f]{8,64}$")
#: Seconds a connection or a read may stall before the download is given up (the whole
#: transfer may take longer: this bounds silence, not duration).
DEFAULT_TIMEOUT = 30.0


class DownloadError(ResvizError):
    """A file could not be fetched or did not verify; the message says where to put it by hand."""


class DownloadCancelled(DownloadError):
    """The user cancelled; the ``.part`` file stays so that the next attempt resumes."""


@dataclass(frozen=True)
class RemoteFile:
    """A file somewhere on the internet, and the SHA-256 it must have.

    ``sha256`` is the whole hex digest or, where the publisher gives only that, its first
    8 or more hex digits (pytorch_resnet_cifar10 and torchvision put them in the file name).
    """

    url: str
    filename: str
    sha256: str
    size: int | None = None  # bytes, when published

    def __post_init__(self) -> None:
        if not _HEX.match(self.sha256):
            raise ValueError(f"{self.filename}: sha256 must be 8 to 64 lower-case hex digits, not {self.sha256!r}")
        if "/" in self.filename or self.filename.startswith("."):
            raise ValueError(f"{self.filename!r} is not a plain file name")


def hub_cache_dir() -> Path:
    """``torch.hub.get_dir()/checkpoints``, computed without importing torch when it is not loaded.

    torch's rule (torch/hub.py ``get_dir``/``_get_torch_home``): ``torch.hub.set_dir`` if
    called, else ``$TORCH_HOME/hub``, ``$TORCH_HOME`` defaulting to ``$XDG_CACHE_HOME/torch``
    and that to ``~/.cache/torch``.
    """
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "hub"):
        return Path(torch.hub.get_dir()) / "checkpoints"
    home = os.getenv("TORCH_HOME", os.path.join(os.getenv("XDG_CACHE_HOME", "~/.cache"), "torch"))
    return Path(os.path.expanduser(home)) / "hub" / "checkpoints"


def _by_hand(remote: RemoteFile, folder: Path) -> str:
    return f"download {remote.url} on a machine that is online and put it in {folder} (keep the name {remote.filename})"


def sha256_of(path: Path, cancel: Any = None) -> str:
    """The hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            _check_cancel(cancel, remote=None, folder=None)
            digest.update(chunk)
    return digest.hexdigest()


#: Files verified in this process, by (path, size, mtime): a 230 MB file is hashed once.
_VERIFIED: set[tuple[str, int, int]] = set()


def verify_file(path: Path, remote: RemoteFile) -> None:
    """Refuse ``path`` unless its SHA-256 starts with ``remote.sha256`` (not deleted: it may be the user's)."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key in _VERIFIED:
        return
    if st.st_size > MAX_CHECKPOINT_BYTES:
        raise DownloadError(
            f"{path} is {describe_size(st.st_size)}, more than the {describe_size(MAX_CHECKPOINT_BYTES)} "
            "resviz reads from a weights file; it was not loaded"
        )
    got = sha256_of(path)
    if not got.startswith(remote.sha256):
        raise DownloadError(
            f"{path} does not match its published SHA-256 (expected {remote.sha256}..., found {got[:16]}...): "
            f"it was not loaded; delete it and {_by_hand(remote, path.parent)}, or download it again"
        )
    _VERIFIED.add(key)


def cached_path(remote: RemoteFile, folder: Path | None = None) -> Path | None:
    """Where ``remote`` lies in the cache, if it is there (not verified: :func:`fetch` does that)."""
    path = (folder or hub_cache_dir()) / remote.filename
    return path if path.is_file() else None


def fetch(
    remote: RemoteFile,
    folder: Path | None = None,
    *,
    offline: bool = False,
    progress: Progress | None = None,
    cancel: Any = None,
    timeout: float = DEFAULT_TIMEOUT,
    limit: int = MAX_CHECKPOINT_BYTES,
) -> Path:
    """The verified file ``folder/remote.filename``, downloaded first when missing and allowed.

    ``cancel`` is a :class:`threading.Event`, a CancelToken or a callable returning True to
    stop; it is checked between chunks. A cached file is verified too (once per process).
    """
    folder = Path(folder) if folder is not None else hub_cache_dir()
    path = folder / remote.filename
    if path.is_file():
        verify_file(path, remote)
        return path
    if offline:
        raise DownloadError(
            f"{remote.filename} is not in {folder} and downloading is off (--offline): {_by_hand(remote, folder)}"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(
            f"cannot create {folder} for {remote.filename} ({exc.strerror or exc}): choose a writable cache (TORCH_HOME)"
        ) from None
    part = folder / f".{remote.filename}.part"
    with _part_locked(part, path, remote, folder, cancel) as done_elsewhere:
        if done_elsewhere:  # another process fetched it while this one waited
            verify_file(path, remote)
            return path
        _download(remote, part, folder, progress=progress, cancel=cancel, timeout=timeout, limit=limit)
        got = sha256_of(part)
        if not got.startswith(remote.sha256):
            part.unlink(missing_ok=True)
            raise DownloadError(
                f"the download of {remote.url} does not match its published SHA-256 (expected {remote.sha256}..., "
                f"got {got[:16]}...): it was deleted and not loaded; try again later, or {_by_hand(remote, folder)}"
            )
        os.replace(part, path)
    st = path.stat()
    _VERIFIED.add((str(path), st.st_size, st.st_mtime_ns))
    return path


@contextlib.contextmanager
def _part_locked(part: Path, path: Path, remote: RemoteFile, folder: Path, cancel: Any) -> Iterator[bool]:
    """Hold an exclusive ``flock`` on ``part`` while the download writes it; yields True when
    ``path`` appeared meanwhile (another process finished it). The lock is on the file's
    inode, which the other process may have renamed onto ``path`` or deleted while this one
    waited: then this one opens ``part`` afresh and locks again. An empty ``part`` (nothing
    arrived, or it was only made to be locked) is removed at the end; one with bytes stays,
    for the next attempt to resume."""
    try:
        import fcntl
    except ImportError:  # no flock (Windows): one process at a time is the user's to keep
        yield path.is_file()
        return
    while True:
        fd = os.open(part, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _flock_waiting(fcntl, fd, remote, folder, cancel)
            if path.is_file():
                break
            try:
                mine = os.fstat(fd)
                now = os.stat(part)
            except FileNotFoundError:
                now = None
            if now is not None and (mine.st_ino, mine.st_dev) == (now.st_ino, now.st_dev):
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # the part was renamed or deleted while this process waited: again
    try:
        yield path.is_file()
    finally:
        with contextlib.suppress(OSError):
            if os.stat(part).st_size == 0 and os.fstat(fd).st_ino == os.stat(part).st_ino:
                part.unlink()
        os.close(fd)


def _flock_waiting(fcntl: Any, fd: int, remote: RemoteFile, folder: Path, cancel: Any) -> None:
    """Take the lock, waiting (and cancellable) while another process holds it."""
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise DownloadError(f"cannot lock {folder} for {remote.filename}: {exc.strerror or exc}") from None
        _check_cancel(cancel, remote, folder)
        time.sleep(0.1)


def _download(
    remote: RemoteFile, part: Path, folder: Path, *, progress: Progress | None, cancel: Any, timeout: float, limit: int
) -> None:
    """Stream the file into ``part``, resuming what a previous attempt left there."""
    have = part.stat().st_size if part.is_file() else 0
    request = urllib.request.Request(remote.url, headers={"User-Agent": "resviz"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    _check_cancel(cancel, remote, folder)
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 (https URLs of the zoo)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # the part is complete or bigger than the file: start again
            exc.close()
            os.truncate(part, 0)  # emptied, not deleted: this process holds its lock (_part_locked)
            return _download(remote, part, folder, progress=progress, cancel=cancel, timeout=timeout, limit=limit)
        exc.close()
        raise DownloadError(f"{remote.url} answered {exc.code} {exc.reason}: {_by_hand(remote, folder)}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
        raise DownloadError(f"cannot reach {remote.url} ({_reason(exc)}): {_by_hand(remote, folder)}") from None
    with response:
        resumed = have > 0 and response.status == 206 and _range_start(response) == have
        if not resumed:
            have = 0  # the server sent the whole file (no Range support): a clean restart
        length = response.headers.get("Content-Length")
        total = have + int(length) if length and length.isdigit() else None
        if total is None and remote.size is not None:
            total = remote.size
        if total is not None and total > limit:
            part.unlink(missing_ok=True)
            raise DownloadError(
                f"{remote.url} is {describe_size(total)}, more than the {describe_size(limit)} resviz reads "
                "from a weights file; it was not downloaded"
            )
        done = have
        if progress is not None:
            progress(done, total)
        # read1: what has arrived (up to a chunk), so that Cancel and progress are not held
        # back until a whole MiB came from a slow server.
        read = getattr(response, "read1", response.read)
        try:
            with open(part, "ab" if resumed else "wb") as out:
                while True:
                    _check_cancel(cancel, remote, folder)
                    chunk = read(min(_CHUNK, limit + 1 - done))
                    if not chunk:
                        break
                    done += len(chunk)
                    if done > limit:
                        raise _TooBig()
                    out.write(chunk)
                    if progress is not None:
                        progress(done, total)
        except _TooBig:
            part.unlink(missing_ok=True)
            raise DownloadError(
                f"{remote.url} sent more than the {describe_size(limit)} resviz reads from a weights file; "
                "the download was deleted"
            ) from None
        except DownloadCancelled:
            raise
        except (OSError, http.client.HTTPException) as exc:  # a dropped connection, a timeout, a full disk
            raise DownloadError(
                f"the download of {remote.url} stopped after {describe_size(done)} ({_reason(exc)}): run it again to "
                f"resume, or {_by_hand(remote, folder)}"
            ) from None
    if total is not None and done != total:
        raise DownloadError(
            f"the connection to {remote.url} closed after {describe_size(done)} of {describe_size(total)}: run it "
            f"again to resume, or {_by_hand(remote, folder)}"
        )


class _TooBig(Exception):
    pass


def _range_start(response: Any) -> int | None:
    """The first byte of a 206 answer's ``Content-Range: bytes START-END/TOTAL``."""
    m = re.match(r"bytes\s+(\d+)-", response.headers.get("Content-Range", ""))
    return int(m.group(1)) if m else None


def _check_cancel(cancel: Any, remote: RemoteFile | None, folder: Path | None) -> None:
    if cancel is None:
        return
    if hasattr(cancel, "is_set"):
        stop = cancel.is_set()
    elif hasattr(cancel, "cancelled"):
        stop = bool(cancel.cancelled)
    else:
        stop = bool(cancel())
    if stop:
        what = remote.filename if remote is not None else "the check"
        raise DownloadCancelled(f"the download of {what} was cancelled; it resumes where it stopped next time")


def _reason(exc: BaseException) -> str:
    """The cause in a few words: DNS failure, refused, timed out ..."""
    reason = getattr(exc, "reason", None) or exc
    if isinstance(reason, socket.gaierror):
        return "no network: the host name does not resolve"
    if isinstance(reason, ConnectionRefusedError):
        return "the connection was refused"
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return "timed out"
    text = str(reason).splitlines()[0] if str(reason) else type(reason).__name__
    return text[:160]
