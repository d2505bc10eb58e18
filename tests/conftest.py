"""Shared fixtures: tiny models, the digits set, the shared CIFAR-10 folder when present."""

from __future__ import annotations

import atexit
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# One torch thread per process (this one and the CLI subprocesses the tests start): tiny
# nets gain nothing from more, and on a busy 2-core machine two OpenMP threads that lose a
# core to another process slow a step down twentyfold.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# Qt finds the user's settings through XDG_CONFIG_HOME (QStandardPaths): a folder of this
# session's own means no test, nor a subprocess it starts, can touch the developer's settings,
# and tests/gui/conftest.py's guard is not tripped by the developer using the app meanwhile.
CONFIG_HOME = Path(tempfile.mkdtemp(prefix="resviz-tests-config-"))
os.environ["XDG_CONFIG_HOME"] = str(CONFIG_HOME)
atexit.register(shutil.rmtree, CONFIG_HOME, ignore_errors=True)

#: Where the shared data lies on the project's machines; a fresh clone has none.
SHARED_DATA = Path(os.environ.get("RESVIZ_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
CIFAR_ARCHIVE = SHARED_DATA / "cifar10-jpg.tar.gz"


@pytest.hookimpl(optionalhook=True)  # xdist's hook: unknown where -p no:xdist runs serially
def pytest_xdist_auto_num_workers(config):
    """``-n auto``: one worker per core this process may use (its cgroup quota and affinity,
    not the host's count: a 2-core CI sandbox on a 64-core host gets 2), at most 4."""
    from resviz.core.cores import usable_cores

    return min(4, usable_cores())


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Caches go to a per-session temp folder, never to the user's home."""
    monkeypatch.setenv("RESVIZ_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="session")
def digits():
    from resviz.core.data import load_dataset

    return load_dataset("digits")


@pytest.fixture(scope="session")
def cifar10_folder(tmp_path_factory) -> Path:
    """The shared CIFAR-10 JPEG set, unpacked once per test session."""
    if not CIFAR_ARCHIVE.is_file():
        pytest.skip(f"needs the shared CIFAR-10 archive at {CIFAR_ARCHIVE} (absent on a fresh clone)")
    dest = tmp_path_factory.mktemp("cifar10")
    with tarfile.open(CIFAR_ARCHIVE) as tar:
        tar.extractall(dest, filter="data")
    return dest / "cifar10-jpg"


@pytest.fixture(scope="session")
def trained_resnet14(digits):
    """resnet14 after 40 plain SGD steps on digits (about 40 % test error, far from chance)."""
    import torch

    from resviz.core.models import build_model

    torch.manual_seed(0)
    model = build_model("resnet14")
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    g = torch.Generator().manual_seed(0)
    for _ in range(40):
        idx = torch.randint(0, len(digits.train), (32,), generator=g)
        x = digits.train.images[idx].float() / 255 - digits.mean
        loss = torch.nn.functional.cross_entropy(model(x), digits.train.labels[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()
