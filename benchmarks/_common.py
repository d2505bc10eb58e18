"""What the benchmarks share: the options every one takes, and the machine's state."""

from __future__ import annotations

import argparse
import os


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


def machine(args: argparse.Namespace) -> dict:
    """Threads and load: a number measured under load is read differently."""
    import torch

    return {"threads": torch.get_num_threads(), "load_average_1min": round(os.getloadavg()[0], 2)}
