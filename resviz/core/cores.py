"""How many CPU cores this process may really use.

``os.cpu_count()`` counts the host's cores. In a container or a CI sandbox the process may
be pinned to fewer (its affinity mask) or given a share of them (the cgroup's CPU quota):
a 2-core quota on a 64-core host reads as 64, and 63 OpenMP threads or DataLoader workers
fighting for two cores make each step many times slower (see ``gui/worker.py``). Every
default that is sized by the cores asks here.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

__all__ = ["usable_cores"]

#: cgroup v2 (``max`` or ``QUOTA PERIOD``) and v1 (quota and period in two files).
_CGROUP_V2 = Path("/sys/fs/cgroup/cpu.max")
_CGROUP_V1 = (Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us"))


def _quota_cores(v2: Path = _CGROUP_V2, v1: tuple[Path, Path] = _CGROUP_V1) -> int | None:
    """Cores allowed by the cgroup's CPU quota (rounded up), or None when it sets none."""
    try:
        quota, period = v2.read_text().split()[:2]
        if quota == "max":
            return None
        return max(1, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        pass
    try:
        quota_us, period_us = (int(p.read_text()) for p in v1)
    except (OSError, ValueError):
        return None
    return max(1, math.ceil(quota_us / period_us)) if quota_us > 0 and period_us > 0 else None


def usable_cores() -> int:
    """The cores this process may use: the least of the host's count, the affinity mask and
    the cgroup CPU quota (at least 1)."""
    counts = [os.cpu_count() or 1]
    try:
        counts.append(len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # macOS and Windows have no affinity mask here
        pass
    quota = _quota_cores()
    if quota is not None:
        counts.append(quota)
    return max(1, min(counts))
