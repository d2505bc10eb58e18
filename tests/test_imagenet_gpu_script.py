"""benchmarks/imagenet_gpu.sh's tiny CPU rehearsal (issue #22): every part runs and writes its file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow(seconds=65)
def test_the_imagenet_gpu_script_runs_every_part_on_the_cpu(tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "PYTHON": sys.executable, "OMP_NUM_THREADS": "1", "TMPDIR": str(tmp_path)}
    res = subprocess.run(
        ["bash", str(ROOT / "benchmarks" / "imagenet_gpu.sh"), "--tiny", "--device", "cpu", "--nproc", "2", "--out", str(out)],
        capture_output=True, text=True, timeout=900, env=env,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    pipeline = json.loads((out / "pipeline.json").read_text())
    assert pipeline["gpu_decode"] == "no GPU here" and set(pipeline["peak_rss_mb"]) == {"40", "80"}
    throughput = json.loads((out / "throughput.json").read_text())
    assert [r["arch"] for r in throughput["results"]] == ["resnet18"]
    assert "| 18 layers |" in (out / "experiment.txt").read_text()
    assert (out / "experiment" / "table2.md").is_file() and (out / "experiment" / "resnet34").is_dir()
    assert "estimate: about" in (out / "estimate.txt").read_text()
    assert not (out / "estimate" / "plain18").exists()  # --estimate trains nothing
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith("resviz-imagenet-data")]
    assert leftovers == []  # the generated images are removed
