"""`python -m build` makes an sdist and a wheel that work once installed in a fresh venv.

The venv gets the wheel alone (``--no-deps``) and sees the dependencies through a ``.pth``
line naming this interpreter's site-packages: installing torch again would take minutes and
gigabytes, and the point is resviz's own packaging. The test's checkout is kept off the
path (no PYTHONPATH, another working directory), so every import must come from the wheel.
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import resviz
from resviz.resources import APP_ID, ICON_SIZES

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
BIN = "Scripts" if os.name == "nt" else "bin"


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    res = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert res.returncode == 0, f"{cmd} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}"
    return res


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> dict[str, Path]:
    """The sdist and, built from it as PyPI's tools do, the wheel."""
    out = tmp_path_factory.mktemp("dist")
    # Without isolation the build uses this environment's setuptools (the test extra pins a
    # new enough one), so it works offline and takes seconds, not a download.
    _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(REPO)])
    (wheel,) = out.glob("resviz-*.whl")
    (sdist,) = out.glob("resviz-*.tar.gz")
    return {"wheel": wheel, "sdist": sdist}


@pytest.fixture(scope="module")
def venv(dists, tmp_path_factory) -> Path:
    """A fresh venv holding the wheel, seeing this environment's dependencies."""
    root = tmp_path_factory.mktemp("venv")
    away = {"cwd": root, "env": _env()}  # the checkout (and its resviz.egg-info) out of sight
    _run([sys.executable, "-m", "venv", "--without-pip", str(root)], **away)
    python = root / BIN / "python"
    # This pip installs into the new venv (--python), before it can see anything else.
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--ignore-installed",
            str(dists["wheel"]),
        ],
        **away,
    )
    purelib = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], **away
    ).stdout.strip()
    # Appended after the venv's own site-packages, so the wheel's resviz wins; a plain path
    # line, so this environment's own .pth files (an editable resviz) are not run.
    (Path(purelib) / "_resviz_test_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return root


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def _in_venv(venv: Path, *args: str, cwd: Path) -> str:
    return _run([str(venv / BIN / args[0]), *args[1:]], cwd=cwd, env=_env()).stdout


def test_wheel_holds_every_module_and_the_assets(dists):
    names = set(zipfile.ZipFile(dists["wheel"]).namelist())
    sources = {p.relative_to(REPO).as_posix() for p in (REPO / "resviz").rglob("*.py") if "__pycache__" not in p.parts}
    assert sources and sources <= names, f"modules missing from the wheel: {sorted(sources - names)}"
    assets = {"resviz/assets/resviz.svg"} | {f"resviz/assets/icons/resviz-{s}.png" for s in ICON_SIZES}
    assert assets <= names, f"assets missing from the wheel: {sorted(assets - names)}"
    assert not any(n.startswith(("tests/", "assets/", "packaging/")) for n in names)


def test_sdist_carries_the_desktop_files(dists):
    with tarfile.open(dists["sdist"]) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    expected = {
        f"packaging/{APP_ID}.desktop",
        f"packaging/{APP_ID}.metainfo.xml",
        "packaging/resviz.spec",
        "resviz/assets/resviz.svg",
        "resviz/resources.py",
    }
    assert expected <= names, f"missing from the sdist: {sorted(expected - names)}"


def test_installed_wheel_runs_the_headless_commands(venv, tmp_path):
    assert _in_venv(venv, "resviz", "--version", cwd=tmp_path).strip() == f"resviz {resviz.__version__}"
    table = _in_venv(venv, "resviz", "models", cwd=tmp_path)
    assert "resnet56" in table and "853,018" in table  # the paper's Table 6 count
    report = json.loads(_in_venv(venv, "resviz", "doctor", "--json", cwd=tmp_path))
    assert report["ok"], report
    checks = {c["check"]: c["detail"] for c in report["checks"]}
    assert checks["assets"].endswith(str(Path("resviz") / "assets")) and str(venv) in checks["assets"]
    assert "1438 train + 359 test images" in checks["digits"]


def test_installed_wheel_finds_its_assets_and_gui_package(venv, tmp_path):
    code = (
        "import json, importlib.resources, resviz, resviz.gui, resviz.resources as r; "
        "print(json.dumps({'package': resviz.__file__, 'gui': resviz.gui.__file__, "
        "'svg': str(r.app_icon_svg()), 'pngs': [str(r.app_icon_png(s)) for s in r.icon_sizes()], "
        "'files': str(importlib.resources.files('resviz.assets'))}))"
    )
    found = json.loads(_in_venv(venv, "python", "-c", code, cwd=tmp_path))
    paths = [found["package"], found["gui"], found["svg"], found["files"], *found["pngs"]]
    assert all(Path(p).is_relative_to(venv) for p in paths), found  # not the checkout
    assert all(Path(p).is_file() for p in [found["svg"], *found["pngs"]])


def test_installed_app_runs_offscreen(venv, tmp_path):
    """The window, drawn offscreen by the installed `resviz screenshot` (a missing verb fails)."""
    shot = tmp_path / "window.png"
    _in_venv(venv, "resviz", "screenshot", str(shot), cwd=tmp_path)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000, "the screenshot is not a drawn window"
