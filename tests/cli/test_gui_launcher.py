"""``resviz`` with no verb (and ``resviz-gui``): a missing Qt is explained, a bug surfaces."""

from __future__ import annotations

import subprocess
import sys

import pytest

from resviz.cli import app_dependency_problem

# Runs the launcher in a fresh interpreter where one module cannot be imported (None in
# sys.modules makes `import` raise ModuleNotFoundError naming it), and never opens a window.
_LAUNCH = "import sys; sys.modules[{hidden!r}] = None; from resviz.cli import gui_main; sys.exit(gui_main())"


def _launch_without(module: str) -> subprocess.CompletedProcess:
    code = _LAUNCH.format(hidden=module)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("module,package", [("PySide6", "PySide6-Essentials"), ("pyqtgraph", "pyqtgraph")])
def test_a_missing_qt_dependency_is_one_line_naming_it_and_how_to_install_it(module, package):
    res = _launch_without(module)
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr.count("\n") == 1, res.stderr
    # The module Python could not find (hidden here, PySide6's first import is PySide6.QtCore).
    assert res.stderr.startswith(f"resviz: error: the app needs {module}"), res.stderr
    assert f", which is not installed: pip install {package} (" in res.stderr


def test_an_import_error_inside_resviz_gui_surfaces_with_its_traceback():
    res = _launch_without("resviz.gui.app")
    assert res.returncode == 1
    assert "Traceback" in res.stderr and "ModuleNotFoundError" in res.stderr and "resviz.gui.app" in res.stderr
    assert "not built yet" not in res.stderr and "resviz: error" not in res.stderr


def test_which_import_errors_are_explained():
    gl = ImportError("libEGL.so.1: cannot open shared object file: No such file or directory", name="PySide6.QtGui")
    assert app_dependency_problem(gl) == (
        "the app cannot load PySide6.QtGui: libEGL.so.1: cannot open shared object file: No such file or directory "
        "(resviz doctor checks the installation)"
    )
    missing = ModuleNotFoundError("No module named 'shiboken6'", name="shiboken6")
    assert app_dependency_problem(missing).startswith(
        "the app needs shiboken6, which is not installed: pip install PySide6-Essentials"
    )
    assert app_dependency_problem(ModuleNotFoundError(name="numpy.linalg")).startswith(
        "the app needs numpy.linalg, which is not installed: pip install numpy "
    )
    for ours in (
        ModuleNotFoundError(name="resviz.gui.plots"),
        ImportError("cannot import name 'x'", name="resviz.gui"),
        ImportError("no name"),
    ):
        assert app_dependency_problem(ours) is None, ours
