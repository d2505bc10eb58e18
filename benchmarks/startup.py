"""Time from starting ``resviz`` to its first painted window, beside the stack's import time.

Issue 4: the window must appear in under 2 s although importing torch, torchvision and
Captum takes several seconds. Each trial starts ``python -m resviz`` as a user would, with
``RESVIZ_STARTUP_TRACE`` set so the app writes the wall-clock time of its first paint and
of the engine being ready; the clock starts just before the process is spawned, so
interpreter start-up is included. In the same run, for comparison: a bare interpreter,
and ``import torch, torchvision, captum.attr`` in a fresh process.

``--runs N`` puts N earlier runs in the runs folder first (copies of one tiny run: a third
as experiment folders of two runs, the rest single), which the app lists at launch (issue
#19): their config and status files are read, never their metrics, so the first paint
should not move.

Prints JSON. Run: ``python benchmarks/startup.py [--trials 3] [--runs 50]``. Uses Qt's offscreen
platform unless a display is set (then the window really appears). Settings and runs go
to a temporary folder. Numbers depend on machine load: report them with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["XDG_CONFIG_HOME"] = str(tmp / "config")  # fresh settings, never the user's
    env["RESVIZ_RUNS_DIR"] = str(tmp / "runs")
    return env


def _time_command(code: str, env: dict[str, str]) -> float:
    t0 = time.time()
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
    return time.time() - t0


def _fill_runs_folder(root: Path, n: int, env: dict[str, str]) -> None:
    """``n`` run folders under ``root``, as earlier sessions of the app leave them."""
    if n <= 0:
        return
    template = root.parent / "template-run"
    subprocess.run(
        [sys.executable, "-m", "resviz", "train", "--arch", "resnet8", "--data", "digits", "--iters", "2"]
        + ["--batch-size", "8", "--eval-every", "2", "--threads", "1", "--quiet", "--out", str(template)],
        env=env,
        check=True,
        capture_output=True,
    )
    pairs = n // 3 // 2
    for i in range(pairs):
        for net in ("plain8", "resnet8"):
            shutil.copytree(template, root / f"2025010{i % 9 + 1}-0000{i:02d}-degradation" / net)
    for i in range(n - 2 * pairs):
        shutil.copytree(template, root / f"20250201-00{i:04d}-resnet8")


def _trial(tmp: Path, timeout: float) -> dict[str, float | None]:
    trace = tmp / f"trace-{time.monotonic_ns()}.jsonl"
    env = {**_env(tmp), "RESVIZ_STARTUP_TRACE": str(trace)}
    t0 = time.time()
    proc = subprocess.Popen(
        [sys.executable, "-m", "resviz"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    events: dict[str, float] = {}
    try:
        end = time.monotonic() + timeout
        while time.monotonic() < end and "engine_ready" not in events and proc.poll() is None:
            time.sleep(0.02)
            if trace.exists():
                for line in trace.read_text().splitlines():
                    rec = json.loads(line)
                    events.setdefault(rec["event"], rec["time"])
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if "first_paint" not in events:
        raise SystemExit(f"the app did not paint within {timeout:.0f} s: {proc.stderr.read() if proc.stderr else ''}")
    return {
        "first_paint_s": round(events["first_paint"] - t0, 3),
        "engine_ready_s": round(events["engine_ready"] - t0, 3) if "engine_ready" in events else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=3, help="app starts to time (default 3)")
    parser.add_argument("--runs", type=int, default=0, help="earlier runs in the runs folder (default 0)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the engine per trial")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="resviz-startup-") as tmp:
        tmp_path = Path(tmp)
        env = _env(tmp_path)
        _fill_runs_folder(tmp_path / "runs", args.runs, env)
        load_before = [round(v, 2) for v in os.getloadavg()]
        # warm the file cache once, so every trial reads the same (warm) files
        _time_command("import torch, torchvision, captum.attr, PySide6.QtWidgets, pyqtgraph", env)
        trials = [_trial(tmp_path, args.timeout) for _ in range(args.trials)]
        stack = [_time_command("import torch, torchvision, captum.attr", env) for _ in range(args.trials)]
        bare = [_time_command("pass", env) for _ in range(args.trials)]
    paints = [t["first_paint_s"] for t in trials]
    readies = [t["engine_ready_s"] for t in trials if t["engine_ready_s"] is not None]
    result = {
        "benchmark": "startup",
        "platform": env.get("QT_QPA_PLATFORM", "display"),
        "cpus": os.cpu_count(),
        "runs_on_disk": args.runs,
        "load_average_before": load_before,
        "target_first_paint_s": 2.0,
        "first_paint_s": {"median": statistics.median(paints), "trials": paints},
        "engine_ready_s": {"median": statistics.median(readies) if readies else None, "trials": readies},
        "stack_import_s": {"median": round(statistics.median(stack), 3), "trials": [round(s, 3) for s in stack]},
        "bare_interpreter_s": round(statistics.median(bare), 3),
        "first_paint_over_stack_import": round(statistics.median(paints) / statistics.median(stack), 2),
        "meets_target": statistics.median(paints) < 2.0,
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
