"""What verifying a checkpoint's CRCs costs next to loading it (issue #17, item 6).

``resviz.core.archive.check_archive`` reads every record of the zip archive ``torch.save``
wrote and compares its CRC-32 before ``torch.load`` opens it. This times, on a resnet56
training checkpoint (weights, BN statistics and the optimizer's momentum, as a run writes it):
the check alone, ``torch.load`` alone, and ``load_checkpoint`` (both). Median of ``--repeat``
runs each, the file warm in the page cache; times taken under whatever load the machine has
(printed beside them), so compare the ratio, not the seconds.

    python benchmarks/checkpoint_verify.py [--arch resnet56] [--repeat 15]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine  # noqa: E402


def _median_seconds(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="resnet56")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    import torch

    from resviz.core.archive import check_archive
    from resviz.core.checkpoint import checkpoint_dict, load_checkpoint, save_checkpoint
    from resviz.core.models import build_model

    torch.manual_seed(0)
    model = build_model(args.arch)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(2, 3, 32, 32)).sum().backward()
    opt.step()  # momentum buffers, as a training checkpoint holds them
    state = checkpoint_dict(
        model,
        classes=[str(i) for i in range(10)],
        mean=torch.zeros(3, 32, 32),
        dataset="cifar10",
        step=1,
        trainer={"optimizer": opt.state_dict()},
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = save_checkpoint(Path(tmp) / "step_0000001.pt", state)
        load_checkpoint(path)  # warm the page cache and torch's imports
        verify = _median_seconds(lambda: check_archive(path), args.repeat)
        load = _median_seconds(lambda: torch.load(path, map_location="cpu", weights_only=True), args.repeat)
        both = _median_seconds(lambda: load_checkpoint(path), args.repeat)
        size = path.stat().st_size
    print(
        json.dumps(
            {
                "arch": args.arch,
                "file_bytes": size,
                "repeat": args.repeat,
                "verify_ms": round(verify * 1e3, 2),
                "torch_load_ms": round(load * 1e3, 2),
                "load_checkpoint_ms": round(both * 1e3, 2),
                "verify_over_load": round(verify / load, 3),
                "machine": machine(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
