"""The GPU check of issue #11, in five parts, each in its own process with a time budget.

    python benchmarks/gpu_check.py [--data ARCHIVE_OR_FOLDER] [--out FILE.jsonl]   # one GPU
    python benchmarks/gpu_check.py --device cpu --tiny --data FOLDER              # tiny, on a CPU

Prints one JSON object per line: one per part, then a summary with the targets. A part
that would overrun its budget skips what is left with a note (and a part that hangs is
killed at its budget): the whole check stays inside ``--total`` seconds (default 470,
under the issue's 8 minutes on one H100/H200). Parts:

1. ``throughput``: images/s of resnet20/56/110 at batch 128, eager vs compiled, telemetry
   every 10 vs off, bf16 + channels-last (synthetic images; pixels do not change speed);
2. ``dataloader``: the common reproduction's pipeline (ImageFolder of JPEGs, PIL
   transforms in DataLoader workers, eager fp32 model) on the same GPU and model;
3. ``lockstep``: a lockstep group of plain20, plain56, resnet20, resnet56 (eager, on
   per-net CUDA streams) against the same nets one after the other, and vectorised twins
   (benchmarks/twins.py);
4. ``schedule``: resnet20's full paper schedule (64k iterations, batch 128, lr 0.1 / 10 at
   32k and 48k) on the CIFAR-10 archive, wall time, compile time, final test error;
5. ``torchrun``: ``torchrun --nproc-per-node 1 -m resviz train`` for a few hundred steps,
   the NCCL path of resviz/core/train/distributed.py.

Only ``resviz.core`` (and torch, torchvision, numpy, Pillow) is imported: the GPU box has
no Captum, Qt or matplotlib. The data: ``--data``, else $RESVIZ_SHARED_DATA/cifar10-jpg.tar.gz,
else ../shared/data/cifar10-jpg.tar.gz beside the checkout; an archive is unpacked into a
temporary folder. Without data, parts 2-5 say so and part 1 still runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

PARTS = ("throughput", "dataloader", "lockstep", "schedule", "torchrun")
#: Seconds per part on one GPU; they sum to 450, leaving ~20 s for unpacking and decoding.
#: The schedule's 64k steps alone take 182 s at the target of 45,000 images/s.
BUDGETS = {"throughput": 100, "schedule": 220, "dataloader": 30, "lockstep": 50, "torchrun": 50}
#: The order they run in: the schedule right after the throughput part, so it finds resnet20's
#: graphs in the Inductor cache (the warm start a second launch gets).
ORDER = ("throughput", "schedule", "dataloader", "lockstep", "torchrun")
TARGETS = {
    "resnet20_images_per_s_telemetry_10": 45_000,
    "full_schedule_s": 180,
    "telemetry_overhead_compiled": 1.05,
    "fast_path_over_dataloader": 10.0,
}


# -- sizes: the GPU check and its tiny CPU rehearsal ------------------------------------


def sizes(tiny: bool) -> dict:
    """Everything that differs between the real check and the tiny one (tests/)."""
    if tiny:
        return {
            "archs": ["resnet8"],
            "variants": ["eager-cl", "compiled-cl"],
            "batch": 16,
            "train_images": 64,
            "telemetry": 2,
            "round_s": 0.2,
            "min_steps": 2,
            "rounds": 2,
            "dl_steps": 3,
            "workers": 1,
            "group": ["plain8", "resnet8"],
            "group_iters": 4,
            "twin_depth": 8,
            "twin_steps": 2,
            "schedule_iters": 40,
            "schedule_eval": 20,
            "torchrun_iters": 6,
            "budget_scale": 4.0,
        }
    return {
        "archs": ["resnet20", "resnet56", "resnet110"],
        "variants": ["eager-cl-bf16", "compiled-cl-bf16"],
        "batch": 128,
        "train_images": 50_000,
        "telemetry": 10,
        "round_s": 0.5,
        "min_steps": 20,
        "rounds": 3,
        "dl_steps": 60,
        "workers": 8,
        "group": ["plain20", "plain56", "resnet20", "resnet56"],
        "group_iters": 200,
        "twin_depth": 20,
        "twin_steps": 50,
        "schedule_iters": 64_000,
        "schedule_eval": 500,
        "torchrun_iters": 300,
        "budget_scale": 1.0,
    }


# -- data ---------------------------------------------------------------------------------


def find_data(given: str | None) -> Path | None:
    """The archive or folder to use: ``--data``, $RESVIZ_SHARED_DATA, ../shared/data."""
    if given:
        return Path(given).expanduser()
    shared = os.environ.get("RESVIZ_SHARED_DATA")
    for folder in ([Path(shared)] if shared else []) + [ROOT.parent / "shared" / "data"]:
        if (folder / "cifar10-jpg.tar.gz").is_file():
            return folder / "cifar10-jpg.tar.gz"
    return None


def image_folder(data: Path, tmp: Path) -> Path:
    """An ImageFolder root (``train/`` and ``test/`` inside): the folder, or the archive unpacked."""
    if data.is_dir():
        root = data
    else:
        with tarfile.open(data) as tar:
            tar.extractall(tmp / "data", filter="data")
        root = tmp / "data"
    for candidate in [root, *sorted(p for p in root.iterdir() if p.is_dir())]:
        if (candidate / "train").is_dir() and (candidate / "test").is_dir():
            return candidate
    raise SystemExit(f"gpu_check: error: {data} holds no train/ and test/ folders")


# -- the parts (each runs in its own process: python gpu_check.py --part NAME) -----------


def part_throughput(args, s: dict, deadline: float) -> dict:
    import torch
    from throughput import (
        build_trainer,
        interleaved,
        overheads,
        summarise,
        synthetic_cifar,
        time_trainer,
        timer,
    )

    data = synthetic_cifar(s["train_images"])
    out: dict = {"archs": {}, "notes": []}
    telemetry = [str(s["telemetry"]), "off"]
    last_compile = last_depth = None
    for arch in s["archs"]:
        depth = int("".join(c for c in arch if c.isdigit()))
        timers, compile_s = {}, {}
        for variant in s["variants"]:
            compiled = variant.startswith("compiled")
            left = deadline - time.time()
            # A deeper net compiles for longer (about in proportion to its layers): skip it
            # when the last compile says it will not fit.
            if compiled and last_compile is not None and last_compile * depth / last_depth > left - 20:
                out["notes"].append(
                    f"{arch} {variant}: skipped, its compile would not fit the "
                    f"{left:.0f} s left (resnet{last_depth}'s took {last_compile:.0f} s)"
                )
                continue
            if left < 15:
                out["notes"].append(f"{arch} {variant}: skipped, {left:.0f} s left of the budget")
                continue
            trainer = build_trainer(arch, data, s["batch"], args.device, variant)
            compile_s[variant] = round(trainer.warm_up(), 2) or None
            if compiled:
                last_compile, last_depth = trainer.train_step.compile_seconds, depth
            # Steps per round: about round_s seconds, a multiple of k (same records each round).
            per = time_trainer(trainer, s["telemetry"])
            k = s["telemetry"]
            steps = max(s["min_steps"], int(s["round_s"] / max(per, 1e-6)) // k * k)
            for tel in telemetry:
                timers[(f"{variant}/tel{tel}" if tel != "off" else f"{variant}/off", steps)] = timer(trainer, tel)
        if not timers:
            continue
        # Interleave the rounds (ABAB), each timer with its own number of steps.
        runs = {name: (lambda _, t=t, steps=steps: t(steps)) for (name, steps), t in timers.items()}
        variants = summarise(interleaved(runs, 0, s["rounds"], 0), s["batch"], compile_s)
        out["archs"][arch] = {
            "variants": variants,
            "telemetry_overhead": overheads(variants, s["variants"], telemetry),
            "steps_per_round": {name: steps for (name, steps) in timers},
        }
        del trainer
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    out["dynamo_counters"] = _counters()
    return out


def _counters() -> dict:
    """What Dynamo and Inductor counted: graphs compiled, CUDA graphs skipped (and why)."""
    from torch._dynamo.utils import counters

    return {
        "unique_graphs": counters["stats"].get("unique_graphs", 0),
        "cudagraph_skips": counters["inductor"].get("cudagraph_skips", 0),
        "graph_breaks": sum(counters["graph_break"].values()),
    }


def part_dataloader(args, s: dict, deadline: float) -> dict:
    import torch
    from throughput import DataLoaderBaseline

    base = DataLoaderBaseline(
        s["archs"][0], None, s["batch"], torch.device(args.device), s["workers"], root=args.folder
    )
    base.time(3)  # workers started, first batches in flight
    steps = s["dl_steps"]
    seconds = base.time(steps)
    return {
        "arch": s["archs"][0],
        "workers": s["workers"],
        "steps": steps,
        "images_per_s": round(s["batch"] / seconds, 1),
        "pipeline": "ImageFolder of JPEGs, RandomCrop(32, 4) + flip + ToTensor + Normalize in DataLoader "
        "workers, pinned memory, eager fp32 NCHW model",
    }


def part_lockstep(args, s: dict, deadline: float) -> dict:
    import torch
    from twins import measure

    out: dict = {}
    try:
        out["twins"] = measure(
            s["twin_depth"],
            torch.device(args.device),
            batch=s["batch"],
            steps=s["twin_steps"],
            rounds=s["rounds"],
            bf16=True,
            deadline=deadline - 5,
        )
    except Exception as exc:  # noqa: BLE001  (the experiment must not take the group's numbers with it)
        out["twins"] = {"error": f"{type(exc).__name__}: {exc}"}
    out["group"] = _lockstep_group(args, s, deadline)
    return out


def _lockstep_group(args, s: dict, deadline: float) -> dict:
    """The group against the same nets one after the other (images/s summed over nets), with
    benchmarks/lockstep.py's two timers (the real loops, no run folders, built untimed).

    Eager (``compile="off"``): four cold compiles do not fit the part's budget, and eager is
    where the group's per-net CUDA streams let small nets overlap. Compiled nets' images/s
    are part 1's.
    """
    try:
        from lockstep import time_group, time_one_after_another
    except ImportError as exc:
        return {"available": False, "note": f"lockstep group not available ({exc})"}
    from resviz.core.data import load_dataset
    from resviz.core.train import TrainConfig

    configs = [
        TrainConfig(
            arch=a,
            data=str(args.folder),
            iters=s["group_iters"],
            batch_size=s["batch"],
            device=args.device,
            eval_every=10**9,
            checkpoint_every=10**9,
            compile="off",
        )
        for a in s["group"]
    ]
    dataset = load_dataset(str(args.folder))
    images = sum(c.iters * c.batch_size for c in configs)
    group_s = time_group(configs, dataset)
    seq_s = time_one_after_another(configs, dataset)
    return {
        "available": True,
        "nets": s["group"],
        "iters": s["group_iters"],
        "compiled": False,
        "group_images_per_s": round(images / group_s, 1),
        "one_after_the_other_images_per_s": round(images / seq_s, 1),
        "group_over_sequential": round(seq_s / group_s, 3),
    }


class _Deadline:
    """A sink that stops the run when the rest of the schedule would not fit the budget."""

    def __init__(self, control, deadline: float, iters: int) -> None:
        self.control, self.deadline, self.iters = control, deadline, iters
        self.started: float | None = None
        self.stopped_at: int | None = None
        self.projected_s: float | None = None

    def record(self, r) -> None:
        now = time.time()
        if self.started is None:
            self.started = now
            return
        per_step = (now - self.started) / max(r.step, 1)
        self.projected_s = per_step * self.iters
        if now + per_step * (self.iters - r.step) > self.deadline and self.stopped_at is None:
            self.stopped_at = r.step
            self.control.stop()

    def event(self, e) -> None:
        pass

    def status(self, st) -> None:
        pass


def part_schedule(args, s: dict, deadline: float) -> dict:
    from resviz.core.data import load_dataset
    from resviz.core.runs.history import load_history
    from resviz.core.train import TrainConfig, TrainControl, Trainer

    t_data = time.perf_counter()
    dataset = load_dataset(str(args.folder))
    data_s = time.perf_counter() - t_data
    cfg = TrainConfig(
        arch=s["archs"][0],
        data=str(args.folder),
        iters=s["schedule_iters"],
        batch_size=s["batch"],
        lr=0.1,
        lr_milestones=[0.5, 0.75],
        schedule="scaled",  # the drops inside these 40 steps (the paper's would be at 32k and 48k)
        device=args.device,
        telemetry_every=s["telemetry"],
        eval_every=s["schedule_eval"],
        checkpoint_every=max(1000, s["schedule_iters"] // 8),
    )
    control = TrainControl()
    guard = _Deadline(control, deadline - 10, cfg.iters)
    with tempfile.TemporaryDirectory(prefix="resviz-gpu-check-") as tmp:
        trainer = Trainer(cfg, run_dir=Path(tmp) / "run", control=control, sinks=[guard], dataset=dataset)
        t0 = time.perf_counter()
        status = trainer.run()
        wall = time.perf_counter() - t0
        errors = load_history(Path(tmp) / "run").final_errors()
    compile_s = trainer.train_step.compile_seconds
    out = {
        "arch": cfg.arch,
        "iters": cfg.iters,
        "milestones": cfg.milestone_steps(),
        "status": status,
        "steps_done": trainer.step,
        "wall_s": round(wall, 1),
        "compile_s": round(compile_s, 1),
        "train_s": round(wall - compile_s, 1),
        "data_load_s": round(data_s, 1),
        "images_per_s": round(trainer.step * cfg.batch_size / max(wall - compile_s, 1e-9), 1),
        "final_test_error": errors["test_error"],
        "final_train_error": errors["train_error"],
        "compiled": trainer.train_step.compiled,
        "cuda_graphs": trainer.train_step.cuda_graphs,
        "device": trainer.versions()["device"],
        "data": dataset.describe(),
        "dynamo_counters": _counters(),
    }
    if guard.stopped_at is not None:
        out["note"] = (
            f"stopped at step {guard.stopped_at}: the whole schedule was projected at "
            f"{guard.projected_s:.0f} s, past the part's budget"
        )
        out["projected_full_schedule_s"] = round(guard.projected_s or 0, 1)
    return out


def part_torchrun(args, s: dict, deadline: float) -> dict:
    from resviz.core.runs import RunReader
    from resviz.core.runs.history import load_history

    with tempfile.TemporaryDirectory(prefix="resviz-gpu-check-ddp-") as tmp:
        run = Path(tmp) / "run"
        cmd = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc-per-node",
            "1",
            "-m",
            "resviz",
            "train",
            "--arch",
            s["archs"][0],
            "--data",
            str(args.folder),
            "--iters",
            str(s["torchrun_iters"]),
            "--batch-size",
            str(s["batch"]),
            "--device",
            args.device,
            "--eval-every",
            str(s["torchrun_iters"]),
            "--quiet",
            "--out",
            str(run),
        ]
        t0 = time.perf_counter()
        res = subprocess.run(
            cmd,
            check=False,
            capture_output=True,
            text=True,
            timeout=max(5, deadline - time.time() - 2),
            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])},
        )
        wall = time.perf_counter() - t0
        out = {
            "command": " ".join(cmd[2:]),
            "returncode": res.returncode,
            "wall_s": round(wall, 1),
            "stdout_tail": res.stdout[-400:],
            "stderr_tail": res.stderr[-800:] if res.returncode else "",
        }
        if (run / "config.json").is_file():
            reader = RunReader(run)
            records, events = reader.read_all()
            start = next((e.detail for e in events if e.kind == "start"), {})
            out.update(
                status=reader.status().status,
                world_size=reader.versions().get("world_size"),
                backend=start.get("backend"),
                device=start.get("device"),
                images_per_s=round(sum(r.scalars["images_per_s"] for r in records[-5:]) / max(len(records[-5:]), 1), 1),
                final_test_error=load_history(run).final_errors()["test_error"],
            )
            reader.close()
    return out


PART_FUNCTIONS = {
    "throughput": part_throughput,
    "dataloader": part_dataloader,
    "lockstep": part_lockstep,
    "schedule": part_schedule,
    "torchrun": part_torchrun,
}
NEEDS_DATA = ("dataloader", "lockstep", "schedule", "torchrun")


def run_part(args) -> None:
    """In the child process: one part, its JSON on the last line of stdout."""
    import torch

    if args.device.startswith("cuda"):
        assert torch.cuda.is_available(), "no CUDA device"
    s = sizes(args.tiny)
    deadline = time.time() + args.budget
    t0 = time.perf_counter()
    result = PART_FUNCTIONS[args.part](args, s, deadline)
    result = {"part": args.part, "seconds": round(time.perf_counter() - t0, 1), "budget_s": args.budget, **result}
    print(json.dumps(result), flush=True)


# -- the driver ------------------------------------------------------------------------------


def _child(args, part: str, budget: float, folder: Path | None) -> dict:
    cmd = (
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--part",
            part,
            "--device",
            args.device,
            "--budget",
            str(round(budget, 1)),
        ]
        + (["--tiny"] if args.tiny else [])
        + (["--folder", str(folder)] if folder else [])
    )
    try:
        res = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=budget + 15)
    except subprocess.TimeoutExpired as exc:
        tail = (exc.stderr or b"")[-600:]
        return {
            "part": part,
            "skipped": True,
            "budget_s": round(budget, 1),
            "note": f"killed: it ran past its budget of {budget:.0f} s",
            "stderr_tail": tail.decode(errors="replace") if isinstance(tail, bytes) else tail,
        }
    lines = [line for line in res.stdout.splitlines() if line.startswith("{")]
    if res.returncode == 0 and lines:
        return json.loads(lines[-1])
    return {"part": part, "failed": True, "returncode": res.returncode, "stderr_tail": res.stderr[-2000:]}


def summary(results: dict, tiny: bool) -> dict:
    """The issue's targets against what the parts measured."""
    tp = results.get("throughput", {}).get("archs", {})
    first = next(iter(tp.values()), {})
    variants = first.get("variants", {})
    compiled = [n for n in variants if n.startswith("compiled") and "/tel" in n]
    eager = [n for n in variants if n.startswith("eager") and "/tel" in n]
    fast = variants[compiled[0]]["images_per_s"] if compiled else None
    over = next((v for n, v in first.get("telemetry_overhead", {}).items() if n.startswith("compiled")), None)
    dl = results.get("dataloader", {}).get("images_per_s")
    sched = results.get("schedule", {})
    full_s = sched.get("train_s") if sched.get("status") == "finished" else sched.get("projected_full_schedule_s")
    values = {
        "resnet20_images_per_s_telemetry_10": fast,  # the first arch: resnet8 when tiny
        "full_schedule_s": full_s,
        "telemetry_overhead_compiled": over,
        "fast_path_over_dataloader": round(fast / dl, 2) if fast and dl else None,
    }
    checks = {}
    for name, target in TARGETS.items():
        v = values[name]
        higher = name in ("resnet20_images_per_s_telemetry_10", "fast_path_over_dataloader")
        checks[name] = {
            "value": v,
            "target": target,
            "met": None if v is None else (v >= target if higher else v <= target),
        }
    out = {
        "part": "summary",
        "targets": checks,
        "eager_images_per_s_telemetry_10": variants[eager[0]]["images_per_s"] if eager else None,
        "parts": {
            p: ("failed" if r.get("failed") else "skipped" if r.get("skipped") else "ran") for p, r in results.items()
        },
    }
    if tiny:
        out["note"] = "tiny CPU rehearsal: the targets are for one H100/H200 and are not expected to be met here"
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--tiny", action="store_true", help="tiny nets and a few steps (a rehearsal on the CPU)")
    ap.add_argument("--data", help="the CIFAR-10 archive (cifar10-jpg.tar.gz) or an ImageFolder root")
    ap.add_argument("--parts", default=",".join(ORDER), help="which parts, comma-separated")
    ap.add_argument("--total", type=float, help="seconds for the whole check (default 470; x4 with --tiny)")
    ap.add_argument("--out", help="also write the JSON lines to this file")
    ap.add_argument("--cache", help="resviz's cache folder (Inductor cache inside); default: a fresh one")
    ap.add_argument("--part", choices=PARTS, help=argparse.SUPPRESS)
    ap.add_argument("--budget", type=float, help=argparse.SUPPRESS)
    ap.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.part:
        run_part(args)
        return 0
    started = time.time()
    if args.total is None:
        args.total = 470 * sizes(args.tiny)["budget_scale"]
    out_file = open(args.out, "w", encoding="utf-8") if args.out else None  # noqa: SIM115  (closed at the end)

    def emit(obj: dict) -> None:
        line = json.dumps(obj)
        print(line, flush=True)
        if out_file:
            out_file.write(line + "\n")
            out_file.flush()

    from _common import machine

    with tempfile.TemporaryDirectory(prefix="resviz-gpu-check-") as tmp_name:
        tmp = Path(tmp_name)
        # A fresh cache: the first compile is cold, as on a new machine; later parts are warm.
        os.environ["RESVIZ_CACHE_DIR"] = args.cache or str(tmp / "cache")
        os.environ.pop("TORCHINDUCTOR_CACHE_DIR", None)
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
        data = find_data(args.data)
        t0 = time.perf_counter()
        folder = image_folder(data, tmp) if data is not None and data.exists() else None
        unpack_s = time.perf_counter() - t0
        decode_s = None
        if folder is not None:  # decode once into resviz's cache: the parts then load it in a second
            from resviz.core.data import load_dataset

            t0 = time.perf_counter()
            load_dataset(str(folder))
            decode_s = round(time.perf_counter() - t0, 1)
        head = {
            "part": "setup",
            "device": args.device,
            "tiny": args.tiny,
            "machine": machine(),
            "data": str(data) if data else None,
            "folder": str(folder) if folder else None,
            "unpack_s": round(unpack_s, 1),
            "decode_s": decode_s,
            "total_budget_s": args.total,
        }
        try:
            import torch

            head.update(
                torch=torch.__version__,
                cuda=torch.version.cuda,
                gpu=torch.cuda.get_device_name() if torch.cuda.is_available() else None,
            )
        except Exception as exc:  # noqa: BLE001  (report it; the parts then fail with the reason)
            head["torch_error"] = str(exc)
        emit(head)
        scale = sizes(args.tiny)["budget_scale"]
        results: dict = {}
        for part in [p for p in ORDER if p in args.parts.split(",")]:
            left = args.total - (time.time() - started)
            budget = min(BUDGETS[part] * scale, left - 5)
            if part in NEEDS_DATA and folder is None:
                results[part] = {
                    "part": part,
                    "skipped": True,
                    "note": "no CIFAR-10 archive: give --data or set $RESVIZ_SHARED_DATA",
                }
            elif budget < 10:
                results[part] = {"part": part, "skipped": True, "note": f"only {left:.0f} s of the total budget left"}
            else:
                results[part] = _child(args, part, budget, folder)
            emit(results[part])
        final = summary(results, args.tiny)
        final["total_s"] = round(time.time() - started, 1)
        final["load_average_end"] = machine()["load_average"]
        emit(final)
    if out_file:
        out_file.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
