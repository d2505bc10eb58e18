"""A Ctrl+C stop of ``resviz train`` (issue #17 item 11 and "also seen").

Exit status 130 (128 + SIGINT), the shown test error says from which step it is, and the
"continue with:" line is quoted so that pasting it runs what it says.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time

from resviz.core.runs import RunReader
from resviz.core.shell import shell_command

EVAL_EVERY = 20


def test_shell_command_quotes_every_word():
    assert shell_command("resviz", "train", "--resume", "sp ace;rm x") == "resviz train --resume 'sp ace;rm x'"
    assert shell_command("a", "it's", "$HOME") == "a 'it'\"'\"'s' '$HOME'"
    assert shlex.split(shell_command("x", "a\nb", "-")) == ["x", "a\nb", "-"]


def test_ctrl_c_exits_130_and_says_where_the_test_error_is_from(tmp_path):
    out = tmp_path / "sp ace;rm x"
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "resviz", "train", "--arch", "resnet8", "--data", "digits", "--device", "cpu"]
    cmd += ["--iters", "100000", "--batch-size", "16", "--eval-every", str(EVAL_EVERY), "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            if (out / "metrics.sqlite").exists():
                with RunReader(out) as reader:
                    records, _ = reader.read_all()
                if any("test_error" in r.scalars and r.step >= EVAL_EVERY for r in records):
                    break
            time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    with RunReader(out) as reader:
        step = reader.status().step
    assert f"stopped {step}/100000 iterations" in stdout
    measured = step // EVAL_EVERY * EVAL_EVERY
    if measured != step:
        assert f"(measured at step {measured})" in stdout, stdout
    assert f"continue with: resviz train --resume {shlex.quote(str(out))}\n" in stdout
    assert not (tmp_path / "x").exists()
