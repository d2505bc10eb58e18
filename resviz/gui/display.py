"""Whether Qt can open its platform here, decided before a QApplication exists.

Qt aborts the whole process (SIGABRT, exit 134) when its platform plugin cannot start:
a stale ``DISPLAY=:99`` with no X server behind it, ``QT_QPA_PLATFORM=nonexistent``, no
display at all (issue #17). No Python code runs after that abort, so the checks happen
first, in two depths:

- :func:`display_problem` (the app, ``screenshot``): what makes Qt abort in practice,
  checked without Qt in microseconds: the platform named by ``QT_QPA_PLATFORM`` (or the
  default one) has a plugin, an X11 display's socket accepts a connection, a Wayland
  display's socket exists. Start-up stays fast (benchmarks/startup.py).
- :func:`probe_in_child` (``resviz doctor``): creates a QGuiApplication in a child process,
  so a platform that fails for any other reason (a missing xcb library) is a failed check
  line there, not an abort of the doctor.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

__all__ = ["display_problem", "probe_in_child", "platform_name", "available_platforms", "NO_DISPLAY_ADVICE"]

#: What to do when there is no usable display (the app's one line).
NO_DISPLAY_ADVICE = "run it on a virtual screen (xvfb-run -a resviz) or use the headless commands (resviz --help)"

#: Platforms that need no display server.
_HEADLESS = {"offscreen", "minimal", "minimalegl", "vnc", "linuxfb", "eglfs", "vkkhrdisplay"}


def platform_name(env: dict[str, str] | None = None) -> str:
    """The Qt platform plugin Qt will try first (Linux): QT_QPA_PLATFORM's, else its default."""
    env = os.environ if env is None else env
    requested = env.get("QT_QPA_PLATFORM", "").strip()
    if requested:
        # "xcb:option=value", or a list to try in turn ("wayland;xcb"): the first is judged
        return requested.split(";")[0].split(":")[0].strip()
    if env.get("WAYLAND_DISPLAY") and env.get("XDG_SESSION_TYPE") == "wayland":
        return "wayland"
    return "xcb"


def available_platforms() -> list[str] | None:
    """The platform plugins PySide6 ships (``xcb``, ``offscreen`` ...); None when unknown."""
    try:
        import PySide6
    except ImportError:
        return None
    folders = [Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms"]
    for var in ("QT_QPA_PLATFORM_PLUGIN_PATH",):
        if os.environ.get(var):
            folders.append(Path(os.environ[var]))
    for var in ("QT_PLUGIN_PATH",):
        folders += [Path(p) / "platforms" for p in os.environ.get(var, "").split(os.pathsep) if p]
    names = set()
    for folder in folders:
        try:
            entries = os.listdir(folder)
        except OSError:
            continue
        for entry in entries:
            stem = entry.split(".")[0]
            if stem.startswith("libq"):
                names.add(stem[len("libq") :])
            elif stem.startswith("q"):
                names.add(stem[1:])
    return sorted(names) if names else None


def _x11_reachable(display: str, timeout: float = 1.0) -> bool:
    """Whether the X server of ``display`` (``:0``, ``:99.0``, ``host:10``) accepts a connection."""
    host, _, rest = display.rpartition(":")
    number = rest.split(".")[0]
    if not number.isdigit():
        return False
    if host in ("", "unix") or host.startswith("/"):
        path = host if host.startswith("/") else f"/tmp/.X11-unix/X{number}"
        for address in (path, "\0" + path):  # the file socket, then Linux's abstract one
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    s.settimeout(timeout)
                    s.connect(address)
                    return True
            except OSError:
                continue
        if host == "":
            host = "localhost"  # Xlib falls back to TCP on localhost
        else:
            return False
    try:
        with socket.create_connection((host, 6000 + int(number)), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def display_problem(env: dict[str, str] | None = None) -> str | None:
    """One line saying why Qt would abort here, or None when it should start (Linux only)."""
    env = os.environ if env is None else env
    if not sys.platform.startswith("linux"):
        return None
    name = platform_name(env)
    plugins = available_platforms()
    if plugins is not None and name not in plugins:
        return (
            f"the Qt platform {name!r} (QT_QPA_PLATFORM) does not exist here; use one of "
            f"{', '.join(plugins)}, or unset QT_QPA_PLATFORM"
        )
    if name in _HEADLESS:
        return None
    if name == "wayland" or name.startswith("wayland-"):
        display = env.get("WAYLAND_DISPLAY", "")
        runtime = env.get("XDG_RUNTIME_DIR", "")
        path = Path(display) if display.startswith("/") else Path(runtime, display or "wayland-0")
        if not path.exists():
            return f"no Wayland display here ({path} does not exist); {NO_DISPLAY_ADVICE}"
        return None
    display = env.get("DISPLAY", "")
    if not display:
        if env.get("WAYLAND_DISPLAY"):
            return None  # Qt may still choose Wayland; let it try
        return f"no display here (DISPLAY and WAYLAND_DISPLAY are unset); {NO_DISPLAY_ADVICE}"
    if not _x11_reachable(display):
        return f"no X display answers at DISPLAY={display} (a stale setting?); {NO_DISPLAY_ADVICE}"
    return None


#: The child's program: create the application Qt would create, and say which platform came up.
_PROBE = "from PySide6 import QtGui; app = QtGui.QGuiApplication(['resviz-probe']); print(app.platformName())"


def probe_in_child(timeout: float = 30.0) -> tuple[bool, str]:
    """(ok, detail): create a QGuiApplication in a child process, which may abort safely.

    ``detail`` is the platform's name when it started, else Qt's last words and how the
    child ended.
    """
    try:
        res = subprocess.run(
            [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=timeout, env=dict(os.environ)
        )
    except subprocess.TimeoutExpired:
        return False, f"creating the Qt application did not finish in {timeout:.0f} s"
    except OSError as exc:
        return False, f"cannot start a child process to probe Qt: {exc}"
    if res.returncode == 0:
        return True, res.stdout.strip() or "started"
    lines = [ln.strip() for ln in res.stderr.splitlines() if ln.strip()]
    said = next((ln for ln in lines if "could not connect" in ln or "Could not" in ln), lines[0] if lines else "")
    how = f"killed by signal {-res.returncode}" if res.returncode < 0 else f"exit status {res.returncode}"
    return False, f"Qt cannot start its platform ({how}): {said}"[:300]
