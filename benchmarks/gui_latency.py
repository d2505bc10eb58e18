"""How responsive the app stays while it trains, and how fast long curves redraw (issue 4).

1. Event-loop stalls: while resnet20 trains on digits at full speed in the app's worker
   thread, a 10 ms QTimer ticks; the gaps between ticks beyond 10 ms are time the GUI
   could not react. Targets: longest gap < 50 ms, 99th percentile < 25 ms. Measured for
   the worker's torch threads = what the app picks (``worker_threads()``) and = all
   cores, beside an idle baseline, so the cost of leaving the GUI a core is visible as
   images/s in the same run.
2. Curves with 100k points: one update (``setData`` on the training, test and loss
   curves + a synchronous repaint) with the app's downsampling and clip-to-view, against
   the same without them. Target < 16 ms (one frame at 60 Hz).

Prints JSON. Run: ``python benchmarks/gui_latency.py [--seconds 15]``. Offscreen unless a
display is set. Numbers depend on machine load: report them with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _wait(app, seconds: float, until=None) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end and not (until and until()):
        app.processEvents()
        time.sleep(0.002)


def _tick_gaps(app, seconds: float) -> list[float]:
    """Gaps (ms) between ticks of a 10 ms timer while the event loop runs for ``seconds``."""
    from PySide6 import QtCore

    stamps: list[float] = []
    timer = QtCore.QTimer()
    timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
    timer.setInterval(10)
    timer.timeout.connect(lambda: stamps.append(time.perf_counter()))
    loop = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(int(seconds * 1000), loop.quit)
    timer.start()
    loop.exec()
    timer.stop()
    return [1000 * (b - a) for a, b in zip(stamps, stamps[1:], strict=False)]


def _summary(gaps: list[float]) -> dict:
    import numpy as np

    g = np.asarray(gaps)
    return {
        "ticks": int(g.size),
        "max_gap_ms": round(float(g.max()), 1),
        "p99_gap_ms": round(float(np.percentile(g, 99)), 1),
        "p50_gap_ms": round(float(np.percentile(g, 50)), 1),
        "meets_targets": bool(g.max() < 50 and np.percentile(g, 99) < 25),
    }


def measure_stalls(window, app, seconds: float, threads: int | None) -> dict:
    """Train resnet20 in the window's worker with ``threads`` torch threads; time the ticks."""
    controls = window.train_tab.controls
    base = controls.base_config(arch="resnet20")
    # Eager: a run this long would compile on the CPU (train.compiled.use_compile), minutes of no steps.
    config = replace(base, iters=1_000_000, eval_every=500, telemetry_every=10, threads=threads, compile="off")
    (run,) = window.session.enqueue([config])
    _wait(app, 60, until=lambda: len(run.history) >= 3)  # data loaded, first records in
    _wait(app, 2.0)  # past the start-up transient
    gaps = _tick_gaps(app, seconds)
    speeds = run.history.scalar("images_per_s")[1][-20:]
    window.session.stop()
    _wait(app, 30, until=lambda: window.session.active is None)
    return {
        **_summary(gaps),
        "torch_threads": threads,
        "images_per_s": round(float(speeds.mean()), 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def measure_curves(app, points: int = 100_000, repeats: int = 30) -> dict:
    """Time one curve update with 100k points, with and without downsampling/clip-to-view."""
    import numpy as np

    from resviz.core.records import Record
    from resviz.gui.plots import CurvesPanel
    from resviz.gui.runs import Run, RunsModel

    runs = RunsModel()
    panel = CurvesPanel(runs)
    panel.resize(800, 600)
    panel.show()
    rng = np.random.default_rng(0)
    run = Run("resnet20", config={"arch": "resnet20", "iters": points * 10})
    errors = np.clip(90 * np.exp(-np.arange(points) / 2e4) + rng.normal(0, 2, points), 0, 100)
    run.apply(
        Record(
            step=10 * (i + 1), scalars={"loss": e / 40, "train_error": e, **({"test_error": e} if i % 50 == 0 else {})}
        )
        for i, e in enumerate(errors)
    )
    runs.add(run)
    items = panel._items[run]
    out = {}
    for label, fast in (("downsampled", True), ("full", False)):
        for item in (items.train, items.loss):
            item.setDownsampling(auto=fast, method="peak")
            item.setClipToView(fast)
        panel.error.enableAutoRange()
        app.processEvents()
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            panel._draw_run(run)
            panel.repaint()  # synchronous paint of the whole panel
            times.append(1000 * (time.perf_counter() - t0))
        out[label] = {"median_ms": round(float(np.median(times)), 2), "max_ms": round(float(np.max(times)), 2)}
    out["points"] = points
    out["speedup"] = round(out["full"]["median_ms"] / out["downsampled"]["median_ms"], 1)
    out["meets_target"] = out["downsampled"]["median_ms"] < 16
    panel.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="measuring time per case (default 15)")
    parser.add_argument(
        "--threads", help="torch threads to compare, e.g. 1,2 (default: the app's choice and all cores)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="repeat the thread cases this many times, interleaved (ABAB), against load drifts",
    )
    parser.add_argument("--skip-curves", action="store_true", help="do not time the 100k-point curve update")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="resviz-bench-") as tmp:
        from resviz.gui import settings

        settings.use_private_settings(Path(tmp) / "settings")
        os.environ["RESVIZ_RUNS_DIR"] = str(Path(tmp) / "runs")
        from _common import cpu_model

        from resviz.gui.app import create_window, make_app
        from resviz.gui.worker import worker_threads

        app = make_app()
        window = create_window()
        window.resize(1600, 960)
        window.show()
        window.engine.start()
        _wait(app, 180, until=lambda: window.engine.is_ready)
        result = {
            "benchmark": "gui_latency",
            "platform": os.environ.get("QT_QPA_PLATFORM"),
            "cpus": os.cpu_count(),
            "cpu": cpu_model(),
            "load_average_before": [round(v, 2) for v in os.getloadavg()],
            "targets": {"max_gap_ms": 50, "p99_gap_ms": 25, "curve_update_ms": 16},
            "idle": _summary(_tick_gaps(app, args.seconds / 2)),
        }
        cpus = os.cpu_count() or 1
        app_choice = worker_threads()
        cases = [app_choice] + ([cpus] if cpus != app_choice else [])
        if args.threads:
            cases = [int(t) for t in args.threads.split(",")]
        result["training"] = [measure_stalls(window, app, args.seconds, t) for _ in range(args.rounds) for t in cases]
        result["app_worker_threads"] = app_choice
        if not args.skip_curves:
            result["curves_100k"] = measure_curves(app)
        result["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
        window.close()
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
