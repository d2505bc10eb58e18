"""packaging/: the .desktop file and the AppStream metainfo are valid and agree with resviz.

The validators are Debian's desktop-file-utils and appstream; .ci/run installs both, so
these run in CI and skip, saying so, only on a machine without them.
"""

from __future__ import annotations

import configparser
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import tomllib

import resviz
from resviz.resources import APP_ID

REPO = Path(__file__).resolve().parents[2]
DESKTOP = REPO / "packaging" / f"{APP_ID}.desktop"
METAINFO = REPO / "packaging" / f"{APP_ID}.metainfo.xml"


def _validator(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (Debian package {package}; .ci/run installs it)")
    return path


def _desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive (Desktop Entry Specification)
    parser.read(DESKTOP, encoding="utf-8")
    return parser["Desktop Entry"]


def test_desktop_file_is_valid():
    res = subprocess.run(
        [_validator("desktop-file-validate", "desktop-file-utils"), str(DESKTOP)], capture_output=True, text=True
    )
    # desktop-file-validate exits 0 on hints too; we want none of them either.
    assert res.returncode == 0 and not res.stdout.strip() and not res.stderr.strip(), res.stdout + res.stderr


def test_metainfo_is_valid():
    res = subprocess.run(
        [_validator("appstreamcli", "appstream"), "validate", "--no-net", "--explain", str(METAINFO)],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    # Errors and warnings fail; infos (such as a tag newer than the validator) may pass.
    assert not any(line.startswith(("E:", "W:")) for line in res.stdout.splitlines()), res.stdout


def test_desktop_file_launches_the_gui_script_with_our_icon():
    entry = _desktop_entry()
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert entry["Exec"].split()[0] in scripts["gui-scripts"], "Exec must name an installed launcher"
    assert entry["Icon"] == APP_ID  # the name PNGs are installed under in the hicolor theme
    assert entry["Type"] == "Application" and entry["Terminal"] == "false"


def test_metainfo_names_this_app_and_release():
    root = ET.parse(METAINFO).getroot()
    assert root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.findtext("launchable") == DESKTOP.name
    releases = [r.get("version") for r in root.iter("release")]
    assert resviz.__version__ in releases, f"add a <release> for {resviz.__version__} to {METAINFO.name}"
    binaries = {b.text for b in root.iter("binary")}
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert binaries == set(scripts["scripts"]) | set(scripts["gui-scripts"])
