"""usable_cores: the least of the host's cores, the affinity mask and the cgroup quota."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from resviz.core import cores
from resviz.gui.worker import worker_threads


def _quota(tmp_path, v2: str | None = None, v1: tuple[str, str] | None = None):
    tmp_path = Path(tempfile.mkdtemp(dir=tmp_path))  # a fresh cgroup folder per case
    p2 = tmp_path / "cpu.max"
    if v2 is not None:
        p2.write_text(v2)
    q1, p1 = tmp_path / "quota", tmp_path / "period"
    if v1 is not None:
        q1.write_text(v1[0])
        p1.write_text(v1[1])
    return cores._quota_cores(p2, (q1, p1))


def test_cgroup_quotas_in_cores(tmp_path):
    assert _quota(tmp_path, v2="200000 100000\n") == 2
    assert _quota(tmp_path, v2="150000 100000\n") == 2  # 1.5 cores: rounded up
    assert _quota(tmp_path, v2="50000 100000\n") == 1
    assert _quota(tmp_path, v2="max 100000\n") is None
    assert _quota(tmp_path, v1=("300000", "100000")) == 3
    assert _quota(tmp_path, v1=("-1", "100000")) is None  # v1's "no quota"
    assert _quota(tmp_path) is None  # neither file


def test_a_quota_of_two_on_a_big_host_reads_two(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(64)), raising=False)
    monkeypatch.setattr(cores, "_quota_cores", lambda: 2)
    assert cores.usable_cores() == 2
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 5, 9}, raising=False)
    monkeypatch.setattr(cores, "_quota_cores", lambda: None)
    assert cores.usable_cores() == 3


@pytest.mark.parametrize("omp", ["1", ""])
def test_the_apps_threads_follow_omp_num_threads_when_set(monkeypatch, omp):
    monkeypatch.setattr(cores, "usable_cores", lambda: 4)
    monkeypatch.setenv("OMP_NUM_THREADS", omp)
    # set: torch's own default (which honours it); unset or empty: a core left for the window
    assert worker_threads() == (None if omp else 3)
