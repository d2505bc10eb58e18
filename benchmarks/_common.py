"""What the benchmarks share: the options every one takes, and the machine's state."""

from __future__ import annotations

import argparse
import os
import platform
import tarfile
import tempfile
from pathlib import Path

#: The shared data folder of the project's machines (``$RESVIZ_SHARED_DATA`` or ../shared/data).
SHARED = Path(os.environ.get("RESVIZ_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def add_common_options(parser: argparse.ArgumentParser, weights_help: str) -> None:
    """``--checkpoint`` (else random init) and ``--threads``."""
    parser.add_argument("--checkpoint", help=f"{weights_help} (default: random init)")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")


def apply_threads(args: argparse.Namespace) -> None:
    """Set torch's CPU threads when asked.

    On a shared CPU, torch's OpenMP threads wait for each other at every op whenever one is
    descheduled; one thread can then be several times faster than two.
    """
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)


def machine(args: argparse.Namespace | None = None) -> dict:
    """CPU model, cores, threads and load: a number measured under load is read differently."""
    import torch

    return {
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "load_average": [round(v, 2) for v in os.getloadavg()],
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def cifar_images(n: int, split: str = "test"):
    """(uint8 N x 3 x 32 x 32, labels, where they came from): the first ``n / 10`` images of
    each class of the shared CIFAR-10 ``split``, or random ones when the archive is absent
    (the benchmarks' times do not depend on the pixels)."""
    import numpy as np
    import torch
    from PIL import Image

    archive = SHARED / "cifar10-jpg.tar.gz"
    if archive.is_file():
        per_class = -(-n // len(CIFAR_CLASSES))
        images, labels = [], []
        with tempfile.TemporaryDirectory() as tmp, tarfile.open(archive) as tar:
            wanted = [
                m
                for m in tar.getmembers()
                if f"/{split}/" in m.name and m.isfile() and int(Path(m.name).stem) < per_class
            ]
            tar.extractall(tmp, members=wanted, filter="data")
            for m in sorted(wanted, key=lambda m: m.name):
                with Image.open(Path(tmp) / m.name) as im:
                    images.append(np.asarray(im.convert("RGB")))
                labels.append(CIFAR_CLASSES.index(Path(m.name).parent.name))
        x = torch.from_numpy(np.stack(images[:n])).permute(0, 3, 1, 2).contiguous()
        return x, torch.tensor(labels[:n]), f"CIFAR-10 {split} images from {archive}"
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g)
    return x, torch.randint(0, 10, (n,), generator=g), "random images (no shared CIFAR-10 archive)"


def cpu_model() -> str:
    """The CPU's name as /proc/cpuinfo gives it (else platform's guess): printed beside every number."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
