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
        return gui_main()
    from ..core.errors import ResvizError

    try:
        return int(args.run(args) or 0)
    except ResvizError as exc:
        print(f"resviz: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("resviz: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _reader_went_away()


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


def gui_main() -> int:
    """Entry point of the ``resviz-gui`` launcher: open the main window."""
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

    return run_app()


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
