"""Qt must not abort the process (issue #17 items 13, 14).

A stale ``DISPLAY=:99``, ``QT_QPA_PLATFORM=nonexistent`` or a garbage DISPLAY made
``resviz``, ``resviz doctor`` and ``resviz screenshot`` die with SIGABRT (exit 134), and
``resviz-gui`` ignored --help, unknown flags, paths and ``-platform``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from resviz.gui.display import display_problem, platform_name


def _free_display() -> int:
    """A display number with no X server: no socket file and no TCP listener."""
    for n in range(171, 400):
        if os.path.exists(f"/tmp/.X11-unix/X{n}"):
            continue
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", 6000 + n)) != 0:
                return n
    pytest.skip("no free X display number found")


STALE = f":{_free_display()}"


def _env(**extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    env.update(OMP_NUM_THREADS="1", PYTHONPATH=os.getcwd(), **extra)
    return env


def _run(code_or_args, env, timeout=120) -> subprocess.CompletedProcess:
    cmd = [sys.executable, *code_or_args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)


GUI = ["-c", "import sys; from resviz.cli import gui_main; sys.exit(gui_main(sys.argv[1:]))"]


@pytest.mark.parametrize(
    "extra,words",
    [
        ({"DISPLAY": STALE}, f"no X display answers at DISPLAY={STALE}"),
        ({"DISPLAY": "garbage"}, "no X display answers at DISPLAY=garbage"),
        ({"QT_QPA_PLATFORM": "nonexistent"}, "the Qt platform 'nonexistent' (QT_QPA_PLATFORM) does not exist"),
        ({"QT_QPA_PLATFORM": "xcb", "DISPLAY": STALE}, "no X display answers"),
        ({}, "no display here (DISPLAY and WAYLAND_DISPLAY are unset)"),
    ],
)
def test_the_app_says_why_instead_of_aborting(extra, words):
    res = _run(["-m", "resviz"], _env(**extra))
    assert res.returncode == 1, (res.returncode, res.stderr)
    assert res.stderr.count("\n") == 1 and words in res.stderr, res.stderr


def test_screenshot_refuses_a_platform_that_does_not_exist(tmp_path):
    res = _run(["-m", "resviz", "screenshot", str(tmp_path / "x.png")], _env(QT_QPA_PLATFORM="nonexistent"))
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert res.stderr.count("\n") == 1 and "'nonexistent'" in res.stderr
    assert not (tmp_path / "x.png").exists()


def test_doctor_reports_a_failed_qt_check_among_the_others():
    code = (
        "import sys, resviz.cli.doctor as d; d.CHECKS = {k: d.CHECKS[k] for k in ('python', 'assets', 'qt')}; "
        "from resviz.cli import main; sys.exit(main(['doctor']))"
    )
    res = _run(["-c", code], _env(DISPLAY=STALE))
    assert res.returncode == 1, (res.returncode, res.stderr)
    lines = res.stdout.splitlines()
    assert any(ln.split()[:2] == ["ok", "python"] for ln in lines), res.stdout
    qt = next(ln for ln in lines if ln.split()[1:2] == ["qt"])
    assert qt.split()[0] == "FAIL" and "Qt cannot start its platform (killed by signal 6)" in qt, qt


def test_gui_help_and_unknown_flags():
    res = _run([*GUI, "--help"], _env())
    assert res.returncode == 0 and res.stdout.startswith("usage: resviz-gui") and "PATH" in res.stdout
    res = _run([*GUI, "--bogus"], _env())
    assert res.returncode == 2 and "unrecognized arguments: --bogus" in res.stderr


def test_gui_platform_flag_is_checked_like_the_variable():
    res = _run([*GUI, "-platform", "nonexistent"], _env(DISPLAY=STALE))
    assert res.returncode == 1 and "'nonexistent' (QT_QPA_PLATFORM) does not exist" in res.stderr, res.stderr


def test_gui_refuses_a_missing_path_before_any_window(tmp_path):
    res = _run([*GUI, str(tmp_path / "nothing-here")], _env())
    assert res.returncode == 2 and res.stderr == f"resviz-gui: error: {tmp_path / 'nothing-here'} does not exist\n"


def test_gui_passes_paths_to_the_window(monkeypatch, tmp_path):
    import resviz.gui.app as app_module
    from resviz.cli import gui_main

    seen = {}
    monkeypatch.setattr(app_module, "run_app", lambda paths=(): seen.setdefault("paths", list(paths)) and 0)
    assert gui_main([str(tmp_path)]) == 0
    assert seen["paths"] == [str(tmp_path)]


def test_display_problem_judges_the_platform_without_qt():
    assert platform_name({"QT_QPA_PLATFORM": "wayland;xcb"}) == "wayland"
    assert platform_name({"QT_QPA_PLATFORM": "offscreen:fontengine=freetype"}) == "offscreen"
    assert platform_name({}) == "xcb"
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}) is None
    assert "does not exist here" in display_problem({"QT_QPA_PLATFORM": "nonexistent"})
    assert "no X display answers" in display_problem({"DISPLAY": STALE})
    with socket.socket() as server:  # an X server is a listener on 6000 + N
        for n in range(300, 400):
            try:
                server.bind(("127.0.0.1", 6000 + n))
                break
            except OSError:
                continue
        server.listen(1)
        assert display_problem({"DISPLAY": f"127.0.0.1:{n}.0"}) is None
