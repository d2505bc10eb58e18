"""``resviz doctor``: one line per check of the installation, exit 1 when one fails."""

from __future__ import annotations

import json

from resviz.cli import main
from resviz.cli.doctor import CHECKS


def test_doctor_passes_here_and_reports_each_check(capsys):
    assert main(["doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    assert [c["check"] for c in report["checks"]] == list(CHECKS)
    details = {c["check"]: c["detail"] for c in report["checks"]}
    assert "1438 train + 359 test images, 3x16x16, 10 classes" == details["digits"]
    assert details["training"].startswith("resnet8 forward and backward on 32 digits on ")
    assert "8 PNGs (16-512 px)" in details["assets"]
    assert "devices: cpu (" in details["torch"] and "training picks " in details["torch"]
    assert details["qt"].endswith("drew the icon on the 'offscreen' platform")  # conftest: offscreen


def test_doctor_reports_a_failed_check_and_goes_on(capsys, monkeypatch):
    import resviz.resources
    from resviz.core.errors import ResvizError

    def broken(size):
        raise ResvizError(f"resviz's asset 'icons/resviz-{size}.png' is missing from the installed package")

    monkeypatch.setattr(resviz.resources, "app_icon_png", broken)
    assert main(["doctor"]) == 1
    captured = capsys.readouterr()
    lines = {line.split()[1]: line for line in captured.out.splitlines()[1:]}
    assert lines["assets"].lstrip().startswith("FAIL") and "missing from the installed package" in lines["assets"]
    assert lines["qt"].lstrip().startswith("ok"), "checks after a failure still run"
    assert "1 of 7 checks failed" in captured.err and "Traceback" not in captured.err


def test_doctor_warns_on_a_torch_or_pillow_below_the_security_floors(capsys, monkeypatch):
    import PIL
    import torch

    monkeypatch.setattr(torch, "__version__", "2.9.1+cpu")
    monkeypatch.setattr(PIL, "__version__", "12.2.0")
    assert main(["doctor", "--json"]) == 0  # a warning, not a failure
    checks = {c["check"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    assert checks["torch"]["ok"] and checks["torch"]["warning"]
    assert (
        "torch 2.9.1+cpu is older than 2.10" in checks["torch"]["detail"]
        and "CVE-2026-24747" in checks["torch"]["detail"]
    )
    assert checks["libraries"]["warning"] and "Pillow 12.2.0" in checks["libraries"]["detail"]
    assert "pillow 12.2.0 is older than 12.3" in checks["libraries"]["detail"]
    assert not checks["digits"]["warning"]
    assert main(["doctor"]) == 0
    captured = capsys.readouterr()
    lines = {line.split()[1]: line for line in captured.out.splitlines()[1:]}
    assert lines["torch"].lstrip().startswith("warn") and lines["digits"].lstrip().startswith("ok")
    assert "2 check(s) found something to fix" in captured.err


def test_doctor_does_not_warn_at_the_floors(monkeypatch):
    from resviz.cli.doctor import _below_floor

    assert _below_floor("torch", "2.10.0") == "" and _below_floor("torch", "2.14.1+cu128") == ""
    assert _below_floor("pillow", "12.3.0") == "" and _below_floor("torchvision", "0.25.0") == ""
    assert "older than 0.25" in _below_floor("torchvision", "0.24.1")
