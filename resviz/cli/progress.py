"""A terminal progress bar fed by training records (a Sink), with no dependency.

On a terminal the bar redraws in place; in a pipe or a log it prints a line every 10 %.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from ..core.durations import format_duration

__all__ = ["ProgressSink"]


class ProgressSink:
    """Shows iterations, loss, errors, images/s and the time left."""

    def __init__(self, total: int, batch_size: int, label: str, out: TextIO | None = None, start_step: int = 0) -> None:
        self.total = total
        self.batch_size = batch_size
        self.label = label
        self.out = out or sys.stderr
        self.tty = hasattr(self.out, "isatty") and self.out.isatty()
        self.started = time.monotonic()
        self.start_step = start_step
        self._next_line_at = 0.0
        self.last_test_error: float | None = None

    def record(self, record) -> None:
        s = record.scalars
        if "test_error" in s:
            self.last_test_error = s["test_error"]
        done = record.step / self.total
        ips = s.get("images_per_s", 0.0)
        left = (self.total - record.step) * self.batch_size / ips if ips > 0 else float("nan")
        test = f" test {self.last_test_error:5.1f}%" if self.last_test_error is not None else ""
        width = 24
        bar = "#" * int(done * width) + "-" * (width - int(done * width))
        line = (
            f"{self.label} [{bar}] {record.step}/{self.total} loss {s['loss']:.3f} "
            f"train {s['train_error']:5.1f}%{test} {ips:7.0f} img/s ETA {format_duration(left)}"
        )
        if self.tty:
            self.out.write("\r" + line + "\x1b[K")
            self.out.flush()
        elif done >= self._next_line_at or record.step == self.total:
            self.out.write(line + "\n")
            self._next_line_at = done + 0.1

    def event(self, event) -> None:
        if event.kind in ("lr_drop", "warmup_end", "shortcuts", "failed"):
            self._note(f"step {event.step}: {event.kind.replace('_', ' ')} " + ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in event.detail.items()))

    def status(self, change) -> None:
        if change.status in ("finished", "stopped", "failed") and self.tty:
            self.out.write("\n")

    def _note(self, text: str) -> None:
        self.out.write(("\r\x1b[K" if self.tty else "") + text + "\n")
