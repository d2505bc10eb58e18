"""benchmarks/paper_gpu.sh in its ``--device cpu --tiny`` mode, as the GPU box would run it.

The GPU box has torch but no Qt, Captum or pyqtgraph, and maybe no matplotlib: packages that
raise ImportError stand in for them on PYTHONPATH, so the script proves it needs resviz.core
only, and that the figures are skipped (not failed) without matplotlib.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "paper_gpu.sh"
ABSENT_ON_GPU_BOX = ("PySide6", "shiboken6", "pyqtgraph", "captum")


def _blocker(folder: Path, names) -> Path:
    for name in names:
        (folder / name).mkdir(parents=True)
        (folder / name / "__init__.py").write_text(f"raise ImportError('{name} is not installed on the GPU box')\n")
    return folder


def _run(tmp_path: Path, blocked) -> tuple[subprocess.CompletedProcess, Path]:
    out = tmp_path / "out"
    env = {
        **os.environ,
        "OUT": str(out),
        "PYTHON": sys.executable,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": str(_blocker(tmp_path / "block", blocked)),
    }
    res = subprocess.run(
        ["bash", str(SCRIPT), "--device", "cpu", "--tiny"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    return res, out


@pytest.mark.slow
@pytest.mark.parametrize("matplotlib", [True, False], ids=["with-matplotlib", "without-matplotlib"])
def test_the_gpu_script_runs_on_resviz_core_alone(tmp_path, matplotlib):
    blocked = ABSENT_ON_GPU_BOX + (() if matplotlib else ("matplotlib",))
    res, out = _run(tmp_path, blocked)
    assert res.returncode == 0, res.stderr[-3000:]
    assert '"experiment_exit_status": 0' in res.stdout
    assert "| resnet8 | 1 | 8 |" in res.stdout and "| plain8 | 1 | 8 |" in res.stdout  # table6.md printed
    assert "resnet-8 has lower training and test error than plain-8: **" in res.stdout  # claims.md printed
    assert (out / "table6.md").is_file() and (out / "claims.md").is_file()
    assert len(list(out.iterdir())) <= 8  # what the device tool brings back
    with tarfile.open(out / "paper-runs.tar.gz") as tar:
        names = tar.getnames()
    assert "paper/resnet8/metrics.sqlite" in names and "paper/paper.json" in names
    assert not [n for n in names if n.endswith(".pt")]  # checkpoints stay behind
    if matplotlib:
        assert (out / "fig6.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert "matplotlib not installed: figures skipped, redraw with `resviz report --paper" in res.stderr
        assert not (out / "fig6.png").exists()
