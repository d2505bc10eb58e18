"""How quickly the Inspect tab answers, and how responsive the window stays (issue 5, app half).

1. Image -> predictions and all three Grad-CAM heatmaps on screen, through the tab's worker
   and signals, against the same calls made directly on an Inspector in this thread (the
   core's time): the ratio is what the app adds. Cold (every image new) and cached (images
   seen before: the attribution cache answers).
2. A shortcut switch clicked -> predictions and heatmaps of the changed net on screen.
3. The opacity slider: one step re-blends the shown heatmaps on the GUI thread; timed for
   a 32 x 32 net (resnet20) and a 224 x 224 one (resnet50), with the repaint.
4. Event-loop stalls while the lesion study of resnet56 runs in its thread: the gaps between
   ticks of a 10 ms timer (longest, 99th percentile) against an idle baseline.

Random-init weights unless ``--checkpoint`` (a CIFAR-family file) is given: timings do not
depend on what the weights learnt. Prints JSON. Run: ``python benchmarks/inspect_gui.py``.
Numbers depend on machine load: report them with the load average printed beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from benchmarks._common import machine  # noqa: E402
from benchmarks.gui_latency import _summary, _tick_gaps, _wait  # noqa: E402  (the same measures)


def _until(app, done, timeout: float = 300.0, signals=()) -> float:
    """Seconds until ``done()``, the event loop running as in the app: asleep between events.

    ``done`` is checked when one of ``signals`` fires (and every 50 ms): a loop polling
    ``processEvents`` would fight the worker thread for the GIL and slow it down.
    """
    from PySide6 import QtCore

    start = time.perf_counter()
    loop = QtCore.QEventLoop()

    def check(*_args) -> None:
        if done() or time.perf_counter() - start > timeout:
            loop.quit()

    timer = QtCore.QTimer()
    timer.setInterval(50)
    timer.timeout.connect(check)
    for signal in signals:
        signal.connect(check)
    timer.start()
    if not done():
        loop.exec()
    timer.stop()
    for signal in signals:
        signal.disconnect(check)
    if not done():
        raise RuntimeError("timed out")
    return time.perf_counter() - start


def _view_signals(tab):
    s = tab.session
    return (s.attribution_changed, s.busy_changed, s.look_changed, s.blocks_changed)


def _view_ready(tab):
    s = tab.session
    return lambda: (
        s.look is not None and not s.busy and all(tab.attributions.current_map(k) for k in ("low", "mid", "high"))
    )


def _load(app, tab, path: str) -> None:
    before = tab.session.loaded
    tab.session.load_model(path)
    _until(
        app,
        lambda: tab.session.loaded is not before and tab.session.gallery is not None,
        signals=(tab.session.data_changed,),
    )


def _image_to_heatmaps(app, tab, indices: list[int]) -> list[float]:
    times = []
    for i in indices:
        start = time.perf_counter()
        tab.session.pick_gallery(i)
        _until(app, _view_ready(tab), signals=_view_signals(tab))
        app.processEvents()  # the last paint
        times.append(time.perf_counter() - start)
    return times


def _core_times(tab, indices: list[int]) -> list[float]:
    """The same work called directly: look, then Grad-CAM at three levels (fresh cache)."""
    from resviz.core.inspect import DecodedImage, Inspector

    ins = Inspector(tab.session.loaded)
    g = tab.session.gallery
    times = []
    for i in indices:
        start = time.perf_counter()
        prepared = ins.prepare(DecodedImage.from_array(g.images[i]))
        ins.look(prepared)
        ins.attribute_levels(prepared, "gradcam")
        times.append(time.perf_counter() - start)
    return times


def _ms(values: list[float]) -> dict:
    return {
        "median_ms": round(1000 * statistics.median(values), 1),
        "max_ms": round(1000 * max(values), 1),
        "n": len(values),
    }


def _slider_ms(app, tab, steps: int = 20) -> float:
    slider = tab.attributions.opacity
    start = time.perf_counter()
    for k in range(steps):
        slider.setValue(30 + (k % 2) * 40)
        for panel in tab.attributions.panels.values():
            panel.repaint()
    return 1000 * (time.perf_counter() - start) / steps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", help="a CIFAR-family weights file for parts 1-3 (default: random resnet20)")
    parser.add_argument("--images", type=int, default=12, help="images per timing (default 12)")
    parser.add_argument(
        "--lesion-images", type=int, default=1000, help="test images of the lesion study (default 1000)"
    )
    args = parser.parse_args()

    import torch
    import torchvision

    from resviz.core.models import build_model
    from resviz.gui import settings

    tmp = Path(tempfile.mkdtemp(prefix="resviz-bench-"))
    settings.use_private_settings(tmp / "settings")
    torch.manual_seed(0)
    cifar = args.checkpoint or str(tmp / "resnet20.pt")
    if not args.checkpoint:
        torch.save(build_model("resnet20").state_dict(), cifar)
    torch.save(build_model("resnet56").state_dict(), tmp / "resnet56.pt")
    torch.save(torchvision.models.resnet50().state_dict(), tmp / "resnet50.pth")

    from resviz.gui.app import create_window, make_app

    app = make_app()
    window = create_window()
    window.resize(1600, 960)
    window.show()
    window.engine.start()
    _wait(app, 180, lambda: window.engine.is_ready)
    tab = window.files_tab()
    window.tabs.setCurrentWidget(tab)
    out: dict = {"machine": machine(argparse.Namespace())}

    _load(app, tab, cifar)
    _image_to_heatmaps(app, tab, [0])  # warm up: Captum, matplotlib, first paints
    indices = list(range(1, 1 + args.images))
    gui = _image_to_heatmaps(app, tab, indices)
    core = _core_times(tab, indices)
    cached = _image_to_heatmaps(app, tab, indices)
    out["image_to_heatmaps_resnet20"] = {
        "app_cold": _ms(gui),
        "core_direct": _ms(core),
        "app_cached": _ms(cached),
        "app_over_core_median": round(statistics.median(gui) / statistics.median(core), 2),
    }

    switch = []
    for k in range(args.images // 2):
        block = 1 + k % 8
        start = time.perf_counter()
        tab.strip.cells[block].shortcut.click()
        _until(
            app,
            lambda block=block: tab.session.blocks[block].shortcut_on == tab.strip.cells[block].shortcut.isChecked(),
            signals=_view_signals(tab),
        )
        _until(app, _view_ready(tab), signals=_view_signals(tab))
        switch.append(time.perf_counter() - start)
    out["switch_to_heatmaps_resnet20"] = _ms(switch)
    out["opacity_step_ms"] = {"resnet20_32px": round(_slider_ms(app, tab), 2)}

    _load(app, tab, str(tmp / "resnet50.pth"))
    _image_to_heatmaps(app, tab, [0])
    out["image_to_heatmaps_resnet50_224px"] = _ms(_image_to_heatmaps(app, tab, [1, 2, 3]))
    out["opacity_step_ms"]["resnet50_224px"] = round(_slider_ms(app, tab), 2)

    _load(app, tab, str(tmp / "resnet56.pt"))
    idle = _tick_gaps(app, 3.0)
    tab.session.run_lesion(args.lesion_images)
    stamps = []
    from PySide6 import QtCore

    timer = QtCore.QTimer()
    timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
    timer.setInterval(10)
    timer.timeout.connect(lambda: stamps.append(time.perf_counter()))
    timer.start()
    seconds = _until(app, lambda: not tab.session.study.running, 1200, signals=(tab.session.study.changed,))
    timer.stop()
    gaps = [1000 * (b - a) for a, b in zip(stamps, stamps[1:], strict=False)]
    out["lesion_resnet56"] = {
        "images": tab.session.study.result.n_images if tab.session.study.result else None,
        "seconds": round(seconds, 1),
        "tick_gaps_while_running": _summary(gaps),
        "tick_gaps_idle": _summary(idle),
    }
    window.close()
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
