"""The app's remembered choices (window geometry, theme, last training settings).

One place names the organisation and application so every ``QSettings()`` in the app
reads the same store. Tests and ``resviz screenshot`` call :func:`use_private_settings`
so they never read or write the user's own settings.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6 import QtCore

__all__ = ["ORGANISATION", "APPLICATION", "settings", "use_private_settings", "value", "runs_root"]

ORGANISATION = "resviz"
APPLICATION = "resviz"


_FORMAT = QtCore.QSettings.Format.NativeFormat


def settings() -> QtCore.QSettings:
    """The app's settings store (an INI file when :func:`use_private_settings` was called)."""
    return QtCore.QSettings(_FORMAT, QtCore.QSettings.Scope.UserScope, ORGANISATION, APPLICATION)


def use_private_settings(folder: str | Path) -> None:
    """Keep every setting in INI files under ``folder`` instead of the user's store.

    ``QSettings(organisation, application)`` ignores ``setDefaultFormat``, so the format
    is passed explicitly by :func:`settings`.
    """
    global _FORMAT
    _FORMAT = QtCore.QSettings.Format.IniFormat
    for scope in (QtCore.QSettings.Scope.UserScope, QtCore.QSettings.Scope.SystemScope):
        QtCore.QSettings.setPath(QtCore.QSettings.Format.IniFormat, scope, str(folder))


def value(key: str, default: Any) -> Any:
    """``settings().value(key)`` converted to the type of ``default`` (bad values -> default).

    INI files keep everything as text, so booleans come back as "true"/"false"; this
    turns them back into the type the caller expects.
    """
    raw = settings().value(key, default)
    if raw is None:
        return default
    try:
        if isinstance(default, bool):
            if isinstance(raw, str):
                return raw.strip().lower() in ("1", "true", "yes", "on")
            return bool(raw)
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, str):
            return str(raw)
    except (TypeError, ValueError):
        return default
    return raw


def runs_root() -> Path:
    """Where runs trained in the app are written: ``$RESVIZ_RUNS_DIR``, the setting
    ``runs/root``, else the platform's app-data folder (``~/.local/share/resviz/runs``)."""
    if env := os.environ.get("RESVIZ_RUNS_DIR"):
        return Path(env)
    stored = value("runs/root", "")
    if stored:
        return Path(stored)
    base = QtCore.QStandardPaths.writableLocation(QtCore.QStandardPaths.StandardLocation.AppLocalDataLocation)
    if not base:
        base = str(Path.home() / ".local" / "share" / APPLICATION)
    return Path(base) / "runs"
