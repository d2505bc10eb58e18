"""``resviz zoo``: the trained ResNets resviz can fetch by name, and ``resviz zoo download NAME``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "zoo",
        help="trained ResNets to fetch by name (the paper's CIFAR-10 nets, torchvision's ImageNet nets)",
        description=(
            "List the zoo: name, data set, top-1 test error as published and as resviz measured it, size, "
            "source, licence and whether the file is in torch's hub cache. 'resviz zoo download NAME' fetches "
            "one (checked against its published SHA-256); any command then takes --checkpoint zoo:NAME."
        ),
    )
    p.add_argument("action", nargs="?", metavar="download", help="download: fetch the named nets into the cache")
    p.add_argument("names", nargs="*", metavar="NAME", help="zoo names (resnet20-cifar10 ...), or 'all'")
    p.add_argument("--json", action="store_true", help="list as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..core.errors import ConfigError

    if args.action is None:
        return _list(args.json)
    if args.action != "download":
        raise ConfigError(f"unknown zoo action {args.action!r}: 'resviz zoo' lists, 'resviz zoo download NAME' fetches")
    if not args.names:
        raise ConfigError("resviz zoo download needs a NAME (resviz zoo lists them), or 'all'")
    from ..core.download import fetch
    from ..core.zoo import ZOO, zoo_entry

    entries = list(ZOO.values()) if args.names == ["all"] else [zoo_entry(n) for n in args.names]
    for entry in entries:  # every name checked before the first byte is fetched
        path = fetch(entry.file, progress=download_progress(entry.name))
        print(f"{entry.name}: {path}")
    return 0


def _list(as_json: bool) -> int:
    from ..core.zoo import ZOO, zoo_folder

    rows = [
        {
            "name": e.name,
            "dataset": e.dataset,
            "published_error": e.published_error,
            "measured_error": e.measured_error,
            "size_mb": e.size_mb,
            "source": e.source,
            "url": e.file.url,
            "sha256": e.file.sha256,
            "licence": e.licence,
            "cached": str(path) if (path := e.cached()) else None,
        }
        for e in ZOO.values()
    ]
    if as_json:
        print(json.dumps({"folder": str(zoo_folder()), "nets": rows}, indent=2))
        return 0
    header = (
        f"{'name':<18} {'data':<8} {'published':>9} {'measured here':>17} {'size':>9}  {'cached':<6}  source, licence"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        measured = "not measured here" if r["measured_error"] is None else f"{r['measured_error']:.2f}%"
        print(
            f"{r['name']:<18} {r['dataset']:<8} {r['published_error']:>8.2f}% {measured:>17} "
            f"{r['size_mb']:>6.1f} MB  {'yes' if r['cached'] else 'no':<6}  {r['source']}, {r['licence']}"
        )
    print(f"errors: top-1 test error in %; cache: {zoo_folder()}")
    return 0


def download_progress(label: str, out: TextIO | None = None):
    """A ``progress(done, total)`` for downloads: a bar redrawn in place on a terminal, a
    line every 10 % in a pipe or a log."""
    out = out or sys.stderr
    tty = hasattr(out, "isatty") and out.isatty()
    last = [-1]

    def progress(done: int, total: int | None) -> None:
        mb = done / 1e6
        if total:
            pct = min(100, int(100 * done / total))
            step = pct if tty else pct // 10 * 10
            if step == last[0]:
                return
            last[0] = step
            bar = "#" * (pct * 24 // 100)
            text = f"{label} [{bar:<24}] {pct:3d}% {mb:7.1f} of {total / 1e6:.1f} MB"
        else:
            step = int(mb)
            if step == last[0] or (not tty and step % 10):
                return
            last[0] = step
            text = f"{label} {mb:7.1f} MB"
        end = "\n" if not tty or (total and done >= total) else ""
        print(("\r" if tty else "") + text, end=end, file=out, flush=True)

    return progress
