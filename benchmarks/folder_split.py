"""What reading only the test split saves ``resviz eval``/``lesion`` on a folder (issue #9).

Loads the shared CIFAR-10 JPEG folder both ways, interleaved (ABAB, so the machine's load
falls on both sides alike): **both** splits, as eval did before (50,000 training images
decoded or read from cache to use 10,000 test images), against **test** only, as
``load_data_for`` does now for a net that records its input mean. Each round starts with
an empty cache (``uncached``: decoding) and then loads again (``cached``). Prints JSON.

    python benchmarks/folder_split.py [--folder DIR] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import cpu_model  # noqa: E402  (benchmarks/ is on sys.path when run)

_SHARED = Path(os.environ.get("RESVIZ_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def _timed(folder: Path, splits: tuple[str, ...]) -> float:
    from resviz.core.data.folder import load_folder

    started = time.perf_counter()
    data = load_folder(folder, size=32, splits=splits, mean="train" in splits)
    assert len(data.test) == 10_000
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--folder", type=Path, help="an unpacked cifar10-jpg folder (default: unpack the shared archive)"
    )
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder
        if folder is None:
            archive = _SHARED / "cifar10-jpg.tar.gz"
            if not archive.is_file():
                print(json.dumps({"benchmark": "folder_split", "skipped": f"no {archive}"}))
                return
            with tarfile.open(archive) as tar:
                tar.extractall(tmp, filter="data")
            folder = Path(tmp) / "cifar10-jpg"
        times: dict[str, list[float]] = {"both_uncached": [], "test_uncached": [], "both_cached": [], "test_cached": []}
        for r in range(args.rounds):
            for side in ("both", "test") if r % 2 == 0 else ("test", "both"):
                os.environ["RESVIZ_CACHE_DIR"] = str(Path(tmp) / f"cache-{r}-{side}")
                splits = ("train", "test") if side == "both" else ("test",)
                times[f"{side}_uncached"].append(_timed(folder, splits))
                times[f"{side}_cached"].append(_timed(folder, splits))
    best = {k: round(min(v), 2) for k, v in times.items()}
    print(
        json.dumps(
            {
                "benchmark": "folder_split",
                "cpu": cpu_model(),
                "cpus": os.cpu_count(),
                "load_average_1min": round(os.getloadavg()[0], 2),
                "seconds_best": best,
                "seconds_all": {k: [round(x, 2) for x in v] for k, v in times.items()},
                "speedup_uncached": round(best["both_uncached"] / best["test_uncached"], 2),
                "speedup_cached": round(best["both_cached"] / best["test_cached"], 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
