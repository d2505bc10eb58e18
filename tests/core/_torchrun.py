"""Run a script under ``torch.distributed.run`` on Gloo ranks of this machine, as the DDP tests do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def torchrun(script: Path, *args: str, nproc: int = 2, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m torch.distributed.run --standalone --nproc-per-node N script args...``."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(nproc)]
    return subprocess.run([*command, str(script), *args], capture_output=True, text=True, timeout=timeout)
