"""``resviz doctor``: check that this installation works end to end, and say what it runs on.

Meant for the first minute after installing (a wheel, a distribution package or the
PyInstaller bundle, where no ``python -c`` is at hand) and for bug reports: it loads the
embedded digits set, runs one training step of the smallest CIFAR net on it, and finds the
app's icon and draws it with Qt, printing one line per check. Exit status 0 when every check passes.

A check that works but found something to fix says ``warn``: a torch or Pillow older than
the floors pyproject.toml sets for security (torch 2.10: CVE-2025-32434 and CVE-2026-24747
in ``torch.load(weights_only=True)``; Pillow 12.3: decompression bombs and decoder bugs),
as a distribution package or an old environment may hold. Warnings leave the status 0.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
from collections.abc import Callable

#: (package, minimum version, why): what resviz's floors protect against.
SECURITY_FLOORS = {
    "torch": (
        (2, 10),
        "torch.load(weights_only=True), how resviz reads every weights file, runs code before 2.6 "
        "(CVE-2025-32434) and corrupts the heap before 2.10 (CVE-2026-24747)",
    ),
    "torchvision": ((0, 25), "torchvision 0.25 is the pair of torch 2.10"),
    "pillow": (
        (12, 3),
        "Pillow fixed decompression bombs and decoder bugs up to 12.3 (FITS CVE-2026-40192, PDF, EPS, McIdas)",
    ),
}


class DoctorWarning(Exception):
    """Raised by a check that works but found something to fix; its text is the whole detail."""


def _version(text: str) -> tuple[int, ...]:
    """``2.14.1+cpu`` -> (2, 14, 1)."""
    return tuple(int(x) for x in re.findall(r"\d+", text.split("+")[0])[:3])


def _below_floor(package: str, version: str) -> str:
    """A warning when ``version`` of ``package`` is older than its security floor, else ""."""
    floor, why = SECURITY_FLOORS[package]
    if _version(version) >= floor:
        return ""
    wanted = ".".join(map(str, floor))
    return f"WARNING: {package} {version} is older than {wanted}: {why}; upgrade it (pip install '{package}>={wanted}')"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "doctor",
        help="check this installation: torch and its devices, the digits set, a training step, the app's assets and Qt",
        description=(
            "Check this installation end to end and print what it runs on. "
            "Exit status 0 when every check passes, 1 otherwise."
        ),
    )
    p.add_argument("--json", action="store_true", help="print a JSON object instead of a table")
    p.set_defaults(run=run)


def _python() -> str:
    where = "a PyInstaller bundle" if getattr(sys, "frozen", False) else sys.prefix
    return f"{platform.python_version()} on {platform.system()} {platform.machine()}, from {where}"


def _torch() -> str:
    import torch

    from ..core.device import describe_device, resolve_device

    devices = [torch.device("cpu")] + [torch.device("cuda", i) for i in range(torch.cuda.device_count())]
    names = [describe_device(d) for d in devices]
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        names.append("mps")
    build = f"CUDA {torch.version.cuda} build" if torch.version.cuda else "CPU-only build"
    detail = f"{torch.__version__} ({build}); devices: {', '.join(names)}; training picks {resolve_device('auto')}"
    warning = _below_floor("torch", str(torch.__version__))
    if warning:
        raise DoctorWarning(f"{detail}; {warning}")
    return detail


def _libraries() -> str:
    import captum
    import PIL
    import torchvision

    detail = f"torchvision {torchvision.__version__}, captum {captum.__version__}, Pillow {PIL.__version__}"
    warnings = [
        w for w in (_below_floor("torchvision", torchvision.__version__), _below_floor("pillow", PIL.__version__)) if w
    ]
    if warnings:
        raise DoctorWarning("; ".join([detail, *warnings]))
    return detail


def _digits() -> str:
    from ..core.data import load_dataset

    data = load_dataset("digits")
    c, h, w = data.image_shape
    return f"{len(data.train)} train + {len(data.test)} test images, {c}x{h}x{w}, {data.num_classes} classes"


def _training_step() -> str:
    # One SGD step of resnet8 (n=1, the smallest of the paper's 6n+2 family) on 32 digits:
    # proves the models, autograd and the optimiser work on the device training would use,
    # in well under a second.
    import torch
    import torch.nn.functional as F

    from ..core.data import load_dataset, normalise
    from ..core.device import resolve_device
    from ..core.models import build_model

    torch.manual_seed(0)
    device = resolve_device("auto")  # the device `resviz train` would use
    data = load_dataset("digits")
    model = build_model("resnet8", num_classes=data.num_classes).to(device)
    x = normalise(data.train.images[:32].to(device), data.mean.to(device))
    y = data.train.labels[:32].to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss = F.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if not torch.isfinite(loss):
        raise RuntimeError(f"the loss is {loss.item()}")
    return f"resnet8 forward and backward on 32 digits on {device}, loss {loss.item():.3f}"


def _assets() -> str:
    from ..resources import app_icon_png, app_icon_svg, icon_sizes

    svg = app_icon_svg()
    for size in icon_sizes():
        app_icon_png(size)
    sizes = icon_sizes()
    return f"icon SVG and {len(sizes)} PNGs ({sizes[0]}-{sizes[-1]} px) in {svg.parent}"


#: The QApplication the qt check had to create, kept alive for the rest of the process.
_QT_APP: list = []


def _qt() -> str:
    import pyqtgraph
    import PySide6
    from PySide6 import QtCore, QtGui, QtSvg, QtWidgets

    versions = f"PySide6 {PySide6.__version__} (Qt {QtCore.qVersion()}), pyqtgraph {pyqtgraph.__version__}"
    app = QtWidgets.QApplication.instance()
    if app is None:
        # Without a screen Qt aborts the whole process rather than raising, so only draw
        # where one is named (or QT_QPA_PLATFORM=offscreen asks for none).
        if sys.platform.startswith("linux") and not any(
            os.environ.get(v) for v in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")
        ):
            return f"{versions}; no display, so nothing drawn (QT_QPA_PLATFORM=offscreen draws without one)"
        # Qt aborts the process when its platform cannot start (a stale DISPLAY=:99,
        # QT_QPA_PLATFORM=nonexistent): try in a child first, so that this is a failed
        # check among the others rather than an abort of the doctor (issue #17).
        from ..gui.display import probe_in_child

        started, detail = probe_in_child()
        if not started:
            raise RuntimeError(detail)
        # A QApplication, not a QGuiApplication: whatever runs next in this process (the
        # app, pytest-qt) can take it over. Kept for the life of the process.
        _QT_APP.append(app := QtWidgets.QApplication(["resviz"]))
    from ..resources import app_icon_svg

    # Drawing the icon proves what a bundle most often lacks: a platform plugin and QtSvg.
    renderer = QtSvg.QSvgRenderer(str(app_icon_svg()))
    image = QtGui.QImage(64, 64, QtGui.QImage.Format.Format_ARGB32)
    image.fill(QtCore.Qt.GlobalColor.transparent)
    painter = QtGui.QPainter(image)
    try:
        renderer.render(painter)
    finally:
        painter.end()
    if image.pixelColor(32, 32).alpha() == 0:
        raise RuntimeError("Qt drew nothing for the app icon (is the QtSvg module complete?)")
    return f"{versions}; drew the icon on the '{app.platformName()}' platform"


#: The checks in the order they run; each returns a one-line description or raises.
CHECKS: dict[str, Callable[[], str]] = {
    "python": _python,
    "torch": _torch,
    "libraries": _libraries,
    "digits": _digits,
    "training": _training_step,
    "assets": _assets,
    "qt": _qt,
}


def run_checks() -> list[dict]:
    """Run every check; one ``{"check", "ok", "warning", "detail"}`` dict each, failures included."""
    results = []
    for name, check in CHECKS.items():
        try:
            results.append({"check": name, "ok": True, "warning": False, "detail": check()})
        except DoctorWarning as warning:
            results.append({"check": name, "ok": True, "warning": True, "detail": str(warning)})
        except Exception as exc:  # a doctor reports every failure rather than stopping at one
            detail = str(exc) or type(exc).__name__
            results.append({"check": name, "ok": False, "warning": False, "detail": f"{type(exc).__name__}: {detail}"})
    return results


def run(args: argparse.Namespace) -> int:
    from .. import __version__

    results = run_checks()
    healthy = all(r["ok"] for r in results)
    if args.json:
        print(json.dumps({"resviz": __version__, "ok": healthy, "checks": results}, indent=2))
    else:
        print(f"resviz {__version__}")
        for r in results:
            mark = "FAIL" if not r["ok"] else "warn" if r["warning"] else "ok  "
            print(f"  {mark}  {r['check']:<10} {r['detail']}")
        if not healthy:
            failed = sum(not r["ok"] for r in results)
            print(f"resviz: {failed} of {len(results)} checks failed (FAIL above)", file=sys.stderr)
        warned = sum(r["warning"] for r in results)
        if warned:
            print(f"resviz: {warned} check(s) found something to fix (warn above)", file=sys.stderr)
    return 0 if healthy else 1
