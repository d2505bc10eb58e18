"""The ``resviz`` command: no arguments opens the app, a verb works headless.

Each verb lives in its own module under ``resviz.cli`` with ``add_parser(subparsers)``
and ``run(args) -> int``. Verb modules import torch inside ``run`` only, so ``resviz
--help`` and the app's first paint never wait for it.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from .. import PAPER, __version__

__all__ = ["main", "gui_main", "app_dependency_problem", "build_parser", "VERBS", "APP_DEPENDENCIES"]

#: Verb modules, in the order ``resviz --help`` lists them.
VERBS: tuple[str, ...] = (
    "models",
    "zoo",
    "train",
    "export",
    "report",
    "experiment",
    "eval",
    "attribute",
    "lesion",
    "features",
    "landscape",
    "screenshot",
    "doctor",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="resviz",
        description=(
            "Watch residual learning happen. With no command, opens the app; "
            f"with one, works headless. Based on {PAPER}."
        ),
    )
    parser.add_argument("--version", action="version", version=f"resviz {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="COMMAND")
    for name in VERBS:
        importlib.import_module(f"resviz.cli.{name}").add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``resviz`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verb is None:
        return gui_main([])
    from ..core.errors import ResvizError

    try:
        return int(args.run(args) or 0)
    except ResvizError as exc:
        print(f"resviz: error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("resviz: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _reader_went_away()
    except OSError as exc:
        # A backstop: user paths are checked by core.inputs.usable_path, so an OSError here
        # is a path something else looked at; one line rather than a traceback (issue #17).
        print(f"resviz: error: {os_error_line(exc)}", file=sys.stderr)
        return 1


def one_line(message: str) -> str:
    """A message on one line whatever it quotes: a path with a newline in its name printed
    the rest of the message on a second line (issue #17)."""
    return message.replace("\r", "\\r").replace("\n", "\\n")


def os_error_line(exc: OSError) -> str:
    """``cannot use PATH: File name too long``: an OSError in one line, a long path elided."""
    from ..core.inputs import shown_path

    what = exc.strerror or str(exc) or type(exc).__name__
    if exc.filename is None:
        return what
    return f"cannot use {shown_path(exc.filename)}: {what}"


#: The exit status of a tool whose reader closed the pipe: 128 + SIGPIPE, what a shell
#: reports for `cat` or `grep` cut short by `| head`, so `set -o pipefail` scripts see it.
EXIT_BROKEN_PIPE = 141


def _reader_went_away() -> int:
    """``resviz export R | head``: the reader has what it wanted; end quietly (issue #9).

    Standard output is pointed at /dev/null so that the interpreter's final flush of what
    is still buffered does not print a second BrokenPipeError (Python docs, "Note on
    SIGPIPE").
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return EXIT_BROKEN_PIPE


#: The distribution that installs each of the app's dependencies, by import name (others:
#: the import name itself).
APP_DEPENDENCIES: dict[str, str] = {"PySide6": "PySide6-Essentials", "shiboken6": "PySide6-Essentials"}


def build_gui_parser() -> argparse.ArgumentParser:
    """``resviz-gui [-platform NAME] [PATH ...]``: the launcher's own arguments (issue #17:
    --help, an unknown flag and a path were all ignored and the window opened)."""
    parser = argparse.ArgumentParser(
        prog="resviz-gui",
        description=f"Open the resviz app. Based on {PAPER}.",
        epilog="The headless commands are in `resviz --help`.",
    )
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="run folders, experiment folders, images or weights files to open, as a drop on the window would",
    )
    parser.add_argument(
        "-platform",
        "--platform",
        dest="platform",
        metavar="NAME",
        help="the Qt platform plugin (xcb, wayland, offscreen ...), as QT_QPA_PLATFORM sets it",
    )
    parser.add_argument("--version", action="version", version=f"resviz {__version__}")
    return parser


def gui_main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``resviz-gui`` launcher: open the main window (and PATHs in it)."""
    args = build_gui_parser().parse_args(argv)
    from ..core.errors import ResvizError
    from ..core.inputs import usable_path

    try:
        for path in args.paths:  # a path that is not there: one line before any window opens
            if not usable_path(path).exists():
                raise ResvizError(f"{path} does not exist")
    except ResvizError as exc:
        print(f"resviz-gui: error: {exc}", file=sys.stderr)
        return 2
    if args.platform:
        os.environ["QT_QPA_PLATFORM"] = args.platform  # checked before Qt starts (gui.display)
    try:
        # The app's Qt stack first, so that a missing piece is one line rather than a
        # traceback; resviz.gui before pyqtgraph: it keeps None alive before any Qt call.
        for module in ("resviz.gui", "pyqtgraph"):
            importlib.import_module(module)
    except ImportError as exc:
        problem = app_dependency_problem(exc)
        if problem is None:
            raise  # an import inside resviz failed: a bug or a broken install; keep its traceback
        print(f"resviz: error: {problem}", file=sys.stderr)
        return 2
    from ..gui.app import run_app

    return run_app(paths=args.paths)


def app_dependency_problem(exc: ImportError) -> str | None:
    """One line saying why the app cannot start when ``exc`` comes from a package it needs
    (PySide6, pyqtgraph, ...); None when it comes from resviz itself (let that surface)."""
    name = exc.name or ""
    top = name.partition(".")[0]
    if not top or top == "resviz":
        return None
    if isinstance(exc, ModuleNotFoundError):
        return (
            f"the app needs {name}, which is not installed: pip install {APP_DEPENDENCIES.get(top, top)} "
            "(the headless commands work without it: resviz --help)"
        )
    # Installed but not loadable: a system library it links (libEGL, libxkbcommon) is
    # missing, or a release too old for a name resviz imports. The message says which.
    return f"the app cannot load {name}: {exc} (resviz doctor checks the installation)"
