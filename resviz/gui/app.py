"""Starting the app: the window first, torch in the background (issue 4: < 2 s to a window).

``run_app()`` is what ``resviz`` (no arguments) and ``resviz-gui`` call. Nothing on this
path imports torch: the window is built from torch-free modules, painted, and only then
does :class:`~resviz.gui.engine.EngineLoader` start importing torch, torchvision and
Captum in a thread.

``RESVIZ_STARTUP_TRACE=FILE`` appends a JSON line with the wall-clock time of the first
paint and of the engine being ready (``benchmarks/startup.py`` reads it).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import traceback
from collections.abc import Sequence

from PySide6 import QtCore, QtGui, QtWidgets

from .. import __version__
from . import settings
from .display import display_problem
from .engine import EngineLoader

__all__ = ["run_app", "make_app", "create_window", "window_icon"]

log = logging.getLogger(__name__)


def make_app(argv: Sequence[str] | None = None) -> QtWidgets.QApplication:
    """The QApplication with resviz's names (for QSettings), style, theme and icon."""
    app = QtWidgets.QApplication.instance()
    if app is None:
        app = QtWidgets.QApplication(list(argv) if argv is not None else sys.argv[:1])
    app.setOrganizationName(settings.ORGANISATION)
    app.setApplicationName(settings.APPLICATION)
    app.setApplicationVersion(__version__)
    app.setApplicationDisplayName("resviz")
    icon = window_icon()
    if icon is not None:
        app.setWindowIcon(icon)
    return app


def window_icon() -> QtGui.QIcon | None:
    """THE one place the app icon is set.

    The icon files come from ``resviz.resources`` (``app_icon_png(size)``); if they are
    missing (a broken install), the window simply has Qt's default icon.
    """
    from .. import resources

    icon = QtGui.QIcon()
    try:
        for size in resources.ICON_SIZES:
            icon.addFile(str(resources.app_icon_png(size)), QtCore.QSize(size, size))
        QtGui.QGuiApplication.setDesktopFileName(resources.APP_ID)
    except Exception as exc:  # a broken install must not stop the app from opening
        log.warning("no app icon: %s", exc)
        return None
    return None if icon.isNull() else icon


def create_window(engine: EngineLoader | None = None):
    """The main window over a (not yet started) engine loader, with the theme applied."""
    from .main_window import MainWindow

    return MainWindow(engine or EngineLoader())


class _AfterFirstPaint(QtCore.QObject):
    """Starts the engine import once the window has painted (and writes the startup trace)."""

    def __init__(self, window: QtWidgets.QWidget, engine: EngineLoader) -> None:
        super().__init__(window)
        self._engine = engine
        self._trace = os.environ.get("RESVIZ_STARTUP_TRACE")
        self._done = False
        window.installEventFilter(self)
        if self._trace:
            engine.ready.connect(lambda: self._write("engine_ready"))

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if not self._done and event.type() == QtCore.QEvent.Type.Paint:
            self._done = True
            # After this paint has been flushed: the import thread competes for the GIL.
            QtCore.QTimer.singleShot(0, self._on_painted)
        return False

    def _on_painted(self) -> None:
        self._write("first_paint")
        self._engine.start()

    def _write(self, event: str) -> None:
        if not self._trace:
            return
        with open(self._trace, "a") as f:
            f.write(json.dumps({"event": event, "time": time.time(), "pid": os.getpid()}) + "\n")


def _excepthook(kind, value, tb) -> None:
    """A bug in a slot must not end the app silently: log it and say so in the window."""
    text = "".join(traceback.format_exception(kind, value, tb))
    log.error("unexpected error:\n%s", text)
    sys.stderr.write(text)
    for widget in QtWidgets.QApplication.topLevelWidgets():
        if isinstance(widget, QtWidgets.QMainWindow) and widget.statusBar() is not None:
            widget.statusBar().showMessage(f"internal error: {value} (details on the terminal)", 15_000)


def run_app(argv: Sequence[str] | None = None, paths: Sequence[str | os.PathLike] = ()) -> int:
    """Open the main window (and ``paths`` in it, as a drop would); returns the exit status."""
    problem = display_problem()  # Qt would abort the process (SIGABRT) rather than raise
    if problem is not None:
        print(f"resviz: {problem}", file=sys.stderr)
        return 1
    logging.basicConfig(level=logging.INFO, format="resviz: %(message)s")
    app = make_app(argv)
    engine = EngineLoader()
    window = create_window(engine)
    _AfterFirstPaint(window, engine)
    sys.excepthook = _excepthook
    window.show()
    if paths:
        from pathlib import Path

        window.open_paths([Path(p).expanduser() for p in paths])
    status = int(app.exec())
    # Closed before torch finished loading: let the import end (the window is gone) rather
    # than tear the interpreter down under a half-imported torch, whose finalisers then
    # print errors on the terminal.
    engine.wait(timeout=30)
    return status
