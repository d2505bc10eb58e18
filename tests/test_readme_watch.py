"""README's "Watch your own training loop" example runs as pasted (issue #21)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _example() -> str:
    section = (REPO / "README.md").read_text(encoding="utf-8").split("## Watch your own training loop", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.mark.slow
def test_the_readme_watch_example_writes_a_finished_run(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    env["OMP_NUM_THREADS"] = "1"
    res = subprocess.run([sys.executable, "-c", _example()], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    run = tmp_path / "runs" / "mine"
    assert json.loads((run / "status.json").read_text())["status"] == "finished"
    assert (run / "checkpoints" / "step_0000020.pt").is_file()  # as the example's comment says
    from resviz.core.runs import RunReader

    with RunReader(run) as reader:
        records = reader.read_all()[0]
    assert [r.step for r in records] == [10, 20]
    assert len(records[-1].vectors["residual_ratio"]) == 8
