"""The ``resviz`` command: no arguments opens the app, a verb works headless.

Each verb lives in its own module under ``resviz.cli`` with ``add_parser(subparsers)``
and ``run(args) -> int``. Verb modules import torch inside ``run`` only, so ``resviz
--help`` and the app's first paint never wait for it.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from .. import PAPER, __version__

__all__ = ["main", "gui_main", "build_parser", "VERBS"]

#: Verb modules, in the order ``resviz --help`` lists them.
VERBS: tuple[str, ...] = (
    "models",
    "train",
    "export",
    "report",
    "experiment",
    "eval",
    "attribute",
    "lesion",
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


def gui_main() -> int:
    """Entry point of the ``resviz-gui`` launcher: open the main window."""
    try:
        from ..gui.app import run_app
    except ImportError as exc:
        if exc.name and exc.name.startswith("resviz.gui"):
            print(
                "resviz: the app is not built yet; use the headless commands "
                "(`resviz --help` lists them).",
                file=sys.stderr,
            )
            return 1
        raise
    return run_app()
