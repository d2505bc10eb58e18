"""benchmarks/gpu_check.py's tiny CPU rehearsal: every part runs, with only resviz.core importable.

The GPU box has torch, torchvision, numpy and Pillow but no Captum, Qt or matplotlib, and
runs the script from a checkout: here those four are blocked in every process the check
starts (a sitecustomize on PYTHONPATH), so an import of one fails the test before it
fails on a GPU.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCKED = ("captum", "PySide6", "pyqtgraph", "matplotlib")


def _tiny_folder(root: Path) -> Path:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for split, n in (("train", 4), ("test", 2)):
        for c in range(10):
            (root / split / f"class{c}").mkdir(parents=True)
            for i in range(n):
                Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(
                    root / split / f"class{c}" / f"{i}.png"
                )
    return root


def _blocker(folder: Path) -> Path:
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(
        f"import sys\nfor _name in {BLOCKED!r}:\n    sys.modules[_name] = None  # import fails: not on the GPU box\n"
    )
    return folder


def test_blocker_blocks(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(_blocker(tmp_path / "site")), str(ROOT)])}
    res = subprocess.run(
        [sys.executable, "-c", "import matplotlib"], check=False, env=env, capture_output=True, text=True
    )
    assert res.returncode != 0 and "None in sys.modules" in res.stderr, res.stderr


@pytest.mark.slow(seconds=80)
def test_tiny_gpu_check_runs_every_part(tmp_path):
    folder = _tiny_folder(tmp_path / "images")
    out = tmp_path / "check.jsonl"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(_blocker(tmp_path / "site")), str(ROOT)]),
        "OMP_NUM_THREADS": "1",
        "PYTHON": sys.executable,
    }
    res = subprocess.run(
        [
            "bash",
            str(ROOT / "benchmarks" / "gpu_check.sh"),
            "--device",
            "cpu",
            "--tiny",
            "--data",
            str(folder),
            "--out",
            str(out),
        ],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert res.stdout.splitlines() == out.read_text().splitlines()  # the same JSON on stdout
    parts = {d["part"]: d for d in lines}
    assert list(parts) == ["setup", "throughput", "schedule", "dataloader", "lockstep", "torchrun", "summary"]
    for name in ("throughput", "schedule", "dataloader", "lockstep", "torchrun"):
        assert not parts[name].get("failed") and not parts[name].get("skipped"), parts[name]

    variants = parts["throughput"]["archs"]["resnet8"]["variants"]
    assert set(variants) == {"eager-cl/tel2", "eager-cl/off", "compiled-cl/tel2", "compiled-cl/off"}
    assert all(v["images_per_s"] > 0 for v in variants.values())
    assert variants["compiled-cl/tel2"]["compile_s"] > 0 and variants["eager-cl/off"]["compile_s"] is None
    assert set(parts["throughput"]["archs"]["resnet8"]["telemetry_overhead"]) == {
        "eager-cl",
        "compiled-cl",
        "eager-cl/best",
        "compiled-cl/best",
    }

    sched = parts["schedule"]
    assert sched["status"] == "finished" and sched["steps_done"] == 40 and sched["milestones"] == [20, 30]
    assert 0 <= sched["final_test_error"] <= 100 and sched["compile_s"] == 0  # auto: eager on the CPU
    assert parts["dataloader"]["images_per_s"] > 0
    twins = parts["lockstep"]["twins"]
    assert twins["max_logit_difference"] < 1e-4 and "vmap_speedup" in twins
    group = parts["lockstep"]["group"]  # the lockstep group of main (resviz.core.train.group)
    assert group["available"] and group["nets"] == ["plain8", "resnet8"], group
    assert group["group_images_per_s"] > 0 and group["one_after_the_other_images_per_s"] > 0
    ddp = parts["torchrun"]
    assert ddp["returncode"] == 0 and ddp["status"] == "finished"
    assert ddp["world_size"] == 1 and ddp["backend"] == "gloo"  # a process group of one: DDP's path

    targets = parts["summary"]["targets"]
    assert set(targets) == {
        "resnet20_images_per_s_telemetry_10",
        "full_schedule_s",
        "telemetry_overhead_compiled",
        "fast_path_over_dataloader",
    }
    assert all(t["value"] is not None for t in targets.values())
    assert parts["summary"]["parts"] == {
        p: "ran" for p in ("throughput", "schedule", "dataloader", "lockstep", "torchrun")
    }
