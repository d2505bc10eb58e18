"""Who writes a run folder: its status.json, and whether that writer is still alive.

Found by attack (issue #9): ``resviz train --out R --force`` beside a live run of R wiped
its history and left one run's config with the other's checkpoints. Every path that
could replace or continue a run (``train --force``, ``train --resume``, ``experiment
--force``, the app's Continue) asks :func:`live_writer` first, and :class:`RunReader`
uses the same judgement to show a killed writer's run as stopped.

The writer records its pid and host in status.json at every status change. A status of
``running`` or ``paused`` is live when

* the host is this one and the pid exists; for this very process (the app trains runs
  one after another in one process), only while one of its :class:`RunStore` has the
  folder open (:func:`claim` / :func:`release`);
* the host is another one: no process there can be looked at, so it counts as live and
  the message names the host and the way out.

A missing or unreadable status.json claims nothing: status.json is replaced atomically,
so garbage in it was not left by a writer mid-write.

Beyond the judgement, a writer holds an exclusive ``flock`` on ``RUN_DIR/.writer.lock``
from opening the folder until closing it (:func:`lock`): two processes that both passed
the checks above at the same moment (two ``--resume`` started together) cannot both
write, the second is refused. On this host the lock also settles the judgement: a lock
nobody holds means the writer has ended, whatever pid has been reused since.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

from ..errors import RunError
from ..records import StatusChange
from ..shell import shell_command

__all__ = [
    "LIVE_STATUSES",
    "LOCK_FILE",
    "STATUS_FILE",
    "StatusFile",
    "claim",
    "live_writer",
    "lock",
    "unlock",
    "read_status",
    "refuse_live_writer",
    "release",
]

STATUS_FILE = "status.json"
#: Held with flock(LOCK_EX) by the one process writing the run.
LOCK_FILE = ".writer.lock"
#: Statuses in which a writer may still be at work.
LIVE_STATUSES = ("running", "paused")
_KNOWN = ("running", "paused", "finished", "stopped", "failed")

_open_here: set[str] = set()  # run folders an open RunStore of this process writes
_lock = threading.Lock()


@dataclass(frozen=True)
class StatusFile:
    """status.json as its writer left it (or as garbage, read as stopped with the reason)."""

    change: StatusChange
    pid: int | None = None
    host: str | None = None


def _key(path: str | Path) -> str:
    return os.path.realpath(Path(path).expanduser())


def claim(path: str | Path) -> None:
    """Note that this process writes ``path`` (a RunStore opened it)."""
    with _lock:
        _open_here.add(_key(path))


def release(path: str | Path) -> None:
    """Note that this process no longer writes ``path``."""
    with _lock:
        _open_here.discard(_key(path))


def lock(run_dir: str | Path) -> int:
    """Take the run's writer lock (a file descriptor to pass to :func:`unlock`), or RunError.

    Non-blocking: a folder another process writes is refused at once, never waited for.
    """
    path = Path(run_dir) / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise RunError(f"cannot write the run folder {run_dir}: {exc.strerror or exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise RunError(
                f"cannot write {run_dir}: another process is writing it right now (it holds {path}); "
                "stop that run first"
            ) from None
        if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):  # a file system without locks
            return _NO_LOCK
        raise RunError(f"cannot lock the run folder {run_dir}: {exc.strerror or exc}") from None
    return fd


#: What :func:`lock` returns where the file system cannot lock (the status judgement stays).
_NO_LOCK = -1


def unlock(fd: int) -> None:
    """Release a lock taken by :func:`lock` (closing the descriptor releases the flock)."""
    if fd != _NO_LOCK:
        os.close(fd)


def _lock_free(run_dir: str | Path) -> bool | None:
    """True when nobody holds the run's lock, False when somebody does, None: cannot tell."""
    path = Path(run_dir) / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None  # no lock file: a run written before locks existed
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as exc:
        return False if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES) else None
    finally:
        os.close(fd)  # releases the shared lock too
    return True


def read_status(run_dir: str | Path) -> StatusFile | None:
    """The run's status file; None when there is none yet."""
    path = Path(run_dir) / STATUS_FILE
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        return _garbage(run_dir, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    if not isinstance(data, dict):
        return _garbage(run_dir, f"a JSON {type(data).__name__}, not an object")
    status, reason, step, when = data.get("status"), data.get("reason"), data.get("step", 0), data.get("time", 0.0)
    pid, host = data.get("pid"), data.get("host")
    bad = [
        name
        for name, ok in (
            ("status", status in _KNOWN),
            ("reason", reason is None or isinstance(reason, str)),
            ("step", isinstance(step, int) and not isinstance(step, bool) and step >= 0),
            ("time", isinstance(when, (int, float)) and not isinstance(when, bool)),
            ("pid", pid is None or (isinstance(pid, int) and not isinstance(pid, bool) and pid > 0)),
            ("host", host is None or isinstance(host, str)),
        )
        if not ok
    ]
    if bad:
        return _garbage(run_dir, f"bad {', '.join(bad)}")
    return StatusFile(StatusChange(status, reason, step, float(when)), pid, host)


def _garbage(run_dir: str | Path, problem: str) -> StatusFile:
    return StatusFile(
        StatusChange(
            "stopped",
            f"{Path(run_dir) / STATUS_FILE} is unreadable ({problem}); "
            f"if no process writes this run, continue it with `{shell_command('resviz', 'train', '--resume', run_dir)}`",
        )
    )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    except OverflowError:
        return False
    try:  # a zombie has ended; only its parent has not read its exit status yet
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def live_writer(run_dir: str | Path, *, locked: bool = False) -> str | None:
    """Why a process may still be writing ``run_dir`` (a clause naming it), or None.

    ``locked``: the caller holds the run's writer lock, so no other process of this host
    can be writing it; only a writer on another host is still possible.
    """
    found = read_status(run_dir)
    if found is None or found.change.status not in LIVE_STATUSES or found.pid is None:
        return None
    status = found.change.status
    if found.host not in (None, socket.gethostname()):
        return (
            f"its status.json says pid {found.pid} on host {found.host} is writing it ({status}), and resviz "
            f"cannot see processes on another host: stop it there, or, if it has ended, delete "
            f"{Path(run_dir) / STATUS_FILE} and try again"
        )
    if found.pid == os.getpid():
        with _lock:
            mine = _key(run_dir) in _open_here
        return (
            "this process is still writing it (a run of this app is training into it); stop it first" if mine else None
        )
    free = True if locked else _lock_free(run_dir)
    if free is True:
        return None  # the writer's lock was released: it has ended, whatever runs under its pid now
    if free is False or _pid_alive(found.pid):
        return (
            f"pid {found.pid} on this host is still writing it ({status}); stop that run first "
            f"(Ctrl+C in its terminal, or Stop in the app), or, if pid {found.pid} is some other program, "
            f"delete {Path(run_dir) / STATUS_FILE} and try again"
        )
    return None


def refuse_live_writer(run_dir: str | Path, doing: str, *, locked: bool = False) -> None:
    """Raise :class:`RunError` ("cannot ``doing`` RUN_DIR: ...") when a writer is alive."""
    reason = live_writer(run_dir, locked=locked)
    if reason is not None:
        raise RunError(f"cannot {doing} {run_dir}: {reason}")
