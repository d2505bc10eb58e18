"""The streaming image pipeline (issue #22): memory against folder size, images/s per worker.

    python benchmarks/imagenet_pipeline.py                      # 1,000 vs 20,000 images
    python benchmarks/imagenet_pipeline.py --sizes 300,3000 --batches 5 --rate-batches 3

Generates small JPEGs (``--image WxH``, a few distinct ones copied, so generating 20,000
takes seconds) into a temporary folder (never the repository), then, each in a fresh
process so its peak resident memory (``ru_maxrss``, with its DataLoader workers') is its
own:

* ``stream``: the streaming loader at ``--size`` (224, the paper's crop) over ``--batches``
  training batches of ``--batch-size``: the target is flat memory, within +10 % from the
  smallest folder to the largest (only the paths, labels and one epoch's order grow with it);
* ``memory``: the in-memory loader (resviz.core.data.folder) on the same folders at
  ``--memory-size`` (default 64 px: at 224 px 20,000 images take 3 GB, twice over while
  stacking, more than a shared machine should give a benchmark), which grows with the folder;
* images/s of the CPU pipeline at ``--size`` with 1 and with 2 workers, and per worker;
* the GPU decode option (torchvision.io.decode_jpeg on CUDA) where a GPU is at hand, else
  "no GPU here".

Prints JSON with the CPU model and load (benchmarks/_common.py): measured under whatever
else the machine is doing, so compare the ratios inside one run.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def make_folder(root: Path, n: int, image: tuple[int, int], classes: int = 10) -> Path:
    """``n`` training JPEGs (and n / 10 test ones) in ``classes`` class folders."""
    import io

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    w, h = image
    blobs = []
    for _ in range(8):
        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(buf, "JPEG", quality=85)
        blobs.append(buf.getvalue())
    for split, count in (("train", n), ("test", max(classes, n // 10))):
        for i in range(count):
            folder = root / split / f"c{i % classes:02d}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{i:06d}.jpg").write_bytes(blobs[i % len(blobs)])
    return root


def child(args: argparse.Namespace) -> None:
    """One measurement in this process: prints {"seconds", "images", "peak_rss_mb"}."""
    import torch

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    images = 0
    if args.child == "memory":
        from resviz.core.data.folder import load_folder

        data = load_folder(args.root, size=args.memory_size, use_cache=False)
        images = len(data.train) + len(data.test)
    else:
        from resviz.core.data.streamset import load_stream_folder

        data = load_stream_folder(args.root, args.size, workers=args.workers, use_cache=False)
        stream = data.train.batch_stream(args.batch_size, 0)
        next(stream)  # the workers start: not counted in the rate
        t0 = time.perf_counter()
        for _ in range(args.batches):
            images += len(next(stream)[1])
        stream.close()
    seconds = time.perf_counter() - t0
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest worker's
    print(
        json.dumps(
            {
                "seconds": seconds,
                "images": images,
                "main_mb": round(own / 1024, 1),
                "worker_mb": round(workers / 1024, 1),
            }
        )
    )


def measure(root: Path, kind: str, args: argparse.Namespace, workers: int, batches: int) -> dict:
    cmd = [
        sys.executable, __file__, "--child", kind, "--root", str(root), "--size", str(args.size),
        "--memory-size", str(args.memory_size), "--workers", str(workers), "--batches", str(batches),
        "--batch-size", str(args.batch_size),
    ]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def gpu_decode(root: Path, n: int = 256) -> dict | str:
    """JPEG decoding on the GPU (torchvision.io.decode_jpeg) against PIL in this process."""
    import torch

    if not torch.cuda.is_available():
        return "no GPU here"
    from PIL import Image
    from torchvision.io import decode_jpeg, read_file

    files = sorted((root / "train").rglob("*.jpg"))[:n]
    datas = [read_file(str(f)) for f in files]
    decode_jpeg(datas[:8], device="cuda")
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    decode_jpeg(datas, device="cuda")
    torch.cuda.synchronize()
    gpu = len(datas) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for f in files:
        with Image.open(f) as im:
            im.convert("RGB").load()
    cpu = len(files) / (time.perf_counter() - t0)
    return {
        "gpu_images_per_s": round(gpu, 1),
        "cpu_one_process_images_per_s": round(cpu, 1),
        "gpu_over_cpu": round(gpu / cpu, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,20000", help="folder sizes (training images) to compare")
    ap.add_argument("--image", default="80x60", help="the generated JPEGs' WxH")
    ap.add_argument("--size", type=int, default=224, help="the streaming crop (the paper's 224)")
    ap.add_argument("--memory-size", type=int, default=64, help="the in-memory loader's image side")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--batches", type=int, default=10, help="streamed batches per memory measurement")
    ap.add_argument("--rate-batches", type=int, default=6, help="streamed batches per images/s measurement")
    ap.add_argument("--workers", type=int, default=2, help="workers of the memory measurement")
    ap.add_argument("--child", choices=("stream", "memory"), help=argparse.SUPPRESS)
    ap.add_argument("--root", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args)
    from _common import machine

    before = machine()
    w, h = (int(v) for v in args.image.lower().split("x"))
    sizes = [int(s) for s in args.sizes.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="resviz-pipeline-"))
    try:
        folders = {}
        for n in sizes:
            t0 = time.perf_counter()
            folders[n] = make_folder(tmp / str(n), n, (w, h))
            print(f"generated {n} images in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        memory = {}
        for n, root in folders.items():
            s, m = measure(root, "stream", args, args.workers, args.batches), measure(root, "memory", args, 0, 0)
            memory[n] = {
                # the training process and its largest decoding worker (each holds torch's ~0.5 GB)
                "stream_main_mb": s["main_mb"],
                "stream_largest_worker_mb": s["worker_mb"],
                "stream_peak_rss_mb": s["main_mb"] + s["worker_mb"],
                "in_memory_peak_rss_mb": m["main_mb"],
            }
        lo, hi = memory[sizes[0]], memory[sizes[-1]]
        rates = {}
        for workers in (1, 2):
            r = measure(folders[sizes[0]], "stream", args, workers, args.rate_batches)
            rate = r["images"] / r["seconds"]
            rates[f"{workers}_workers"] = {"images_per_s": round(rate, 1), "per_worker": round(rate / workers, 1)}
        result = {
            "benchmark": "imagenet_pipeline",
            "machine": before,
            "load_average_end": machine()["load_average"],
            "generated_image": f"{w}x{h} JPEG",
            "stream_crop": args.size,
            "in_memory_size": args.memory_size,
            "batch_size": args.batch_size,
            "peak_rss_mb": {str(n): v for n, v in memory.items()},
            "stream_growth": round(hi["stream_peak_rss_mb"] / lo["stream_peak_rss_mb"], 3),
            "stream_flat_within_10_percent": hi["stream_peak_rss_mb"] <= 1.10 * lo["stream_peak_rss_mb"],
            "in_memory_growth": round(hi["in_memory_peak_rss_mb"] / lo["in_memory_peak_rss_mb"], 3),
            "cpu_pipeline": rates,
            "gpu_decode": gpu_decode(folders[sizes[0]]),
        }
        print(json.dumps(result, indent=2))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
