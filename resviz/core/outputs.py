"""Checks made before any file is written: never over an input, never into a run folder.

Found by attacking the CLI (issue #9): ``resviz export R --out R/metrics.sqlite`` replaced
the run's own database with CSV, ``--out R/config.json`` broke its resume, and ``attribute
--out X.png --image X.png`` overwrote the image it explained. Every verb that writes a file
the user names calls :func:`check_output` first, before any slow work, with the paths it
reads; the check is torch-free so it can run before torch is imported.

Issue #17: the check looks at the path that is *actually written*. matplotlib appends
``.png`` to a name without a suffix, so ``attribute --out pic`` wrote ``pic.png`` (the input)
while the guard looked at ``pic``. :func:`check_output` resolves the name first (``kind=FIGURE``:
the suffix added) and returns it; the writer writes that path and the message names it.
And one rule for every output, :func:`atomic_output`: the file is written under a temporary
name beside it and moved into place with ``os.replace``, so a symbolic or hard link at the
output is replaced, never written through, and a writer that fails leaves the old file.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from .errors import ConfigError
from .runs.reader import is_run_folder

__all__ = [
    "FIGURE",
    "FIGURE_SUFFIXES",
    "atomic_output",
    "check_output",
    "figure_format",
    "run_folder_of",
    "write_text_atomic",
]

#: ``kind`` of a matplotlib figure: a name without a suffix is written as NAME.png.
FIGURE = "figure"
#: The suffixes a figure may have (matplotlib's raster and vector formats that need no extra
#: package); any other is refused up front rather than failing in savefig after the work.
FIGURE_SUFFIXES = (".png", ".svg", ".pdf", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".eps", ".ps")


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


def resolve_output(path: str | Path, *, kind: str | None = None, what: str = "output", strict: bool = True) -> Path:
    """The path a writer of ``kind`` will write for ``path``: a figure without a suffix gains
    ``.png`` (matplotlib's ``savefig.format``), any other name is written as given."""
    text = os.fspath(path)
    if text.endswith(("/", os.sep)) or Path(text).name in ("", ".", ".."):
        raise ConfigError(f"the {what} {text} names a folder; give a file name")
    out = Path(text).expanduser()
    try:
        folder = out.is_dir()  # before a suffix is added: "--out DIR" wrote DIR.png beside it (found by attack)
    except OSError as exc:  # a name over 255 bytes (ENAMETOOLONG) ...
        raise ConfigError(f"cannot write the {what} {out}: {exc.strerror or exc}") from None
    if folder:
        raise ConfigError(f"the {what} {out} is a folder; give a file name")
    if kind == FIGURE:
        if not out.suffix:
            out = out.with_name(out.name + ".png")
        elif strict and out.suffix.lower() not in FIGURE_SUFFIXES:
            raise ConfigError(
                f"the {what} {out} ends in {out.suffix}: a figure is written as "
                + ", ".join(FIGURE_SUFFIXES[:-1])
                + f" or {FIGURE_SUFFIXES[-1]}"
            )
    return out


def figure_format(path: str | Path) -> str:
    """matplotlib's ``format=`` for a path :func:`resolve_output` returned (``.PNG`` -> ``png``)."""
    return Path(path).suffix[1:].lower() or "png"


@contextlib.contextmanager
def atomic_output(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; once the block ends, move it onto ``path``.

    ``os.replace`` swaps the directory entry: a symlink or hard link at ``path`` is replaced
    by the new file and whatever it led to is left as it was (found by attack, issue #17:
    ``report --out link.png`` wrote through a link to an ordinary file). A block that raises
    leaves the old file and no temporary.
    """
    path = Path(path)
    # A name of up to 255 bytes is allowed; its temporary must fit too (found by attack).
    stem = path.name.encode()[:200].decode(errors="ignore")
    tmp = path.with_name(f".{stem}.tmp{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through :func:`atomic_output`: a crash or a full disk while
    writing leaves the old file whole (or none), never a truncated one."""
    path = Path(path)
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def check_output(
    path: str | Path, *, inputs: Iterable[str | Path | None] = (), what: str = "output", kind: str | None = None
) -> Path:
    """Refuse an output path that would destroy something; return the path to write.

    The path is first resolved to the one the writer writes (:func:`resolve_output`): the
    checks and the "wrote" message are about that file.

    Refused, with a :class:`~resviz.core.errors.ConfigError` that says why: a path that is
    one of ``inputs`` (the same file under any name), a path inside a run folder (its
    database, config and checkpoints are the run), an existing folder, and an existing
    path that is not a regular file (a FIFO would block the writer, a device would swallow
    the data).
    """
    # The format is checked last: "is also an input" is the more important thing to say.
    out = resolve_output(path, kind=kind, what=what, strict=False)
    for src in inputs:
        if src is not None and _same_file(out, Path(src).expanduser()):
            raise ConfigError(f"the {what} {out} is also an input that is being read; write it somewhere else")
    run = run_folder_of(out)
    if run is not None:
        raise ConfigError(
            f"the {what} {out} is inside the run folder {run}, whose files are the run itself; write it somewhere else"
        )
    resolve_output(out, kind=kind, what=what)
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
