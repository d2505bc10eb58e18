"""Terminal progress fed by training records (sinks), with no dependency.

:class:`ProgressSink` follows one net: on a terminal its bar redraws in place; in a pipe or
a log it prints a line every 10 %. :class:`GroupProgress` follows the nets of a lockstep
group together (issue #11): one line per net, the block redrawn in place on a terminal,
so the nets' errors can be read side by side as they train.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Sequence
from typing import TextIO

from ..core.durations import format_duration
from ..core.throughput import GroupThroughput, NetTime, group_throughput

__all__ = ["GroupProgress", "ProgressSink", "progress_line"]

_ENDED = ("finished", "stopped", "failed")


def progress_line(
    label: str,
    step: int,
    total: int,
    batch_size: int,
    scalars: dict,
    test_error: float | None,
    tail: str | None = None,
) -> str:
    """``resnet20 [######---] 300/600 loss 0.123 train 4.1% test 5.0% 812 img/s ETA 0:12``;
    ``tail`` replaces the speed and ETA (a lockstep group shows its own, see GroupProgress)."""
    done = min(step / total, 1.0) if total else 0.0
    ips = scalars.get("images_per_s", 0.0)
    left = (total - step) * batch_size / ips if ips > 0 else float("nan")
    test = f" test {test_error:5.1f}%" if test_error is not None else ""
    width = 24
    bar = "#" * int(done * width) + "-" * (width - int(done * width))
    loss, train = scalars.get("loss"), scalars.get("train_error")
    numbers = (
        ""
        if loss is None
        else f" loss {loss:.3f} train {train:5.1f}%{test}"
        + (f" {ips:7.0f} img/s ETA {format_duration(left)}" if tail is None else tail)
    )
    return f"{label} [{bar}] {step}/{total}{numbers}"


def _event_note(event) -> str | None:
    if event.kind not in ("lr_drop", "warmup_end", "shortcuts", "failed"):
        return None
    detail = ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in event.detail.items())
    return f"step {event.step}: {event.kind.replace('_', ' ')} {detail}"


class ProgressSink:
    """Shows iterations, loss, errors, images/s and the time left of one net."""

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
        line = progress_line(self.label, record.step, self.total, self.batch_size, s, self.last_test_error)
        if self.tty:
            self.out.write("\r" + line + "\x1b[K")
            self.out.flush()
        elif done >= self._next_line_at or record.step == self.total:
            self.out.write(line + "\n")
            self._next_line_at = done + 0.1

    def event(self, event) -> None:
        note = _event_note(event)
        if note:
            self._note(note)

    def status(self, change) -> None:
        if change.status in _ENDED and self.tty:
            self.out.write("\n")

    def _note(self, text: str) -> None:
        self.out.write(("\r\x1b[K" if self.tty else "") + text + "\n")


class _Net:
    """What the group display knows of one net."""

    def __init__(self, label: str, total: int, batch_size: int, step: int) -> None:
        self.label, self.total, self.batch_size, self.step = label, total, batch_size, step
        self.scalars: dict = {}
        self.test_error: float | None = None
        self.status = ""
        self.next_line_at = 0.0
        #: Its own step time (issue #18): the latest interval's images and seconds, and totals.
        self.interval_images = 0
        self.step_seconds: float | None = None
        self.total_step_seconds = 0.0
        self.total_eval_seconds = 0.0

    def on_record(self, record) -> None:
        s = record.scalars
        if "step_seconds" in s:
            self.interval_images = max(record.step - self.step, 0) * self.batch_size
            self.step_seconds = s["step_seconds"]
            self.total_step_seconds += s["step_seconds"]
        self.total_eval_seconds += s.get("eval_seconds", 0.0)
        self.step, self.scalars = record.step, s
        if "test_error" in s:
            self.test_error = s["test_error"]

    def time(self) -> NetTime:
        return NetTime(
            self.label.strip(),
            self.interval_images,
            self.step_seconds or 0.0,
            self.total_step_seconds,
            self.total_eval_seconds,
        )

    def line(self, share: float | None = None) -> str:
        tail = None if share is None else f" {share:4.0%} of step time"
        text = progress_line(self.label, self.step, self.total, self.batch_size, self.scalars, self.test_error, tail)
        return text + (f" {self.status}" if self.status in _ENDED or self.status == "paused" else "")


class GroupProgress:
    """One line per net of a lockstep group; ``sink(i)`` is net i's sink.

    On a terminal the block of lines is redrawn in place (at most ``REDRAW_S`` apart, and
    at every status change); notes (learning-rate drops, failures) print above it. In a
    pipe each net prints a line every 10 % of its schedule, labelled, so a log stays short.
    """

    REDRAW_S = 0.1

    def __init__(
        self,
        labels: Sequence[str],
        totals: Sequence[int],
        batch_size: int,
        out: TextIO | None = None,
        start_steps: Sequence[int] | None = None,
    ) -> None:
        width = max(len(label) for label in labels)
        steps = list(start_steps) if start_steps is not None else [0] * len(labels)
        self.nets = [
            _Net(f"{label:>{width}}", total, batch_size, step)
            for label, total, step in zip(labels, totals, steps, strict=True)
        ]
        self.out = out or sys.stderr
        self.tty = hasattr(self.out, "isatty") and self.out.isatty()
        self._drawn = 0  # lines of the block on screen
        self._last_draw = 0.0
        self._shared_notes: set[str] = set()

    def sink(self, index: int) -> _NetSink:
        return _NetSink(self, index)

    def throughput(self) -> GroupThroughput | None:
        """The group's images/s and each net's share of the step time, once nets say their
        step times (a net's own img/s over the wall clock counts the others' steps: issue #18)."""
        if len(self.nets) < 2 or any(net.step_seconds is None for net in self.nets):
            return None
        return group_throughput([net.time() for net in self.nets])

    def group_line(self, timing: GroupThroughput) -> str:
        left = sum(max(net.total - net.step, 0) for net in self.nets if net.status not in _ENDED)
        eta = left * self.nets[0].batch_size / timing.images_per_s
        return (
            f"{'group':>{len(self.nets[0].label)}} {timing.images_per_s:,.0f} img/s for the {len(self.nets)} nets "
            f"together, evaluating {timing.eval_seconds:,.0f} s ({timing.eval_share:.0%}), ETA {format_duration(eta)}"
        )

    def lines(self) -> list[str]:
        """The block as it stands: one line per net (and the group's, once its speed is known)."""
        timing = self.throughput()
        if timing is None:
            return [net.line() for net in self.nets]
        names = [net.label.strip() for net in self.nets]
        return [net.line(timing.share.get(n, 0.0)) for net, n in zip(self.nets, names, strict=True)] + [
            self.group_line(timing)
        ]

    def _on_record(self, index: int, record) -> None:
        net = self.nets[index]
        net.on_record(record)
        if self.tty:
            self._draw()
        elif record.step / net.total >= net.next_line_at or record.step == net.total:
            net.next_line_at = record.step / net.total + 0.1
            if self.throughput() is None:
                self.out.write(net.line() + "\n")
            elif index == max(i for i, n in enumerate(self.nets) if n.status not in _ENDED or i == index):
                # The last net to step writes the group's block at once, so its shares add up to 100 %.
                self.out.write("".join(line + "\n" for line in self.lines()))

    def _on_status(self, index: int, status: str, step: int | None) -> None:
        net = self.nets[index]
        net.status = status
        if step is not None:
            net.step = step
        if self.tty:
            self._draw(force=True)
        elif status in _ENDED:
            self.out.write(net.line() + "\n")

    def _note(self, index: int, text: str, shared: bool = False) -> None:
        if shared:  # the same schedule for every net: one line for the group, not one per net
            if text in self._shared_notes:
                return
            self._shared_notes.add(text)
        else:
            text = f"{self.nets[index].label.strip()}: {text}"
        if self.tty:
            self._erase()
            self.out.write(text + "\n")
            self._draw(force=True)
        else:
            self.out.write(text + "\n")

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_draw < self.REDRAW_S:
            return
        self._last_draw = now
        up = f"\x1b[{self._drawn}F" if self._drawn else ""
        # A line wider than the terminal wraps and the cursor-up count no longer holds.
        width = max(20, shutil.get_terminal_size().columns - 1)
        lines = self.lines()
        self.out.write(up + "".join(line[:width] + "\x1b[K\n" for line in lines))
        self.out.flush()
        self._drawn = len(lines)

    def _erase(self) -> None:
        if self._drawn:
            self.out.write(f"\x1b[{self._drawn}F\x1b[J")
            self._drawn = 0


class _NetSink:
    """Net ``index``'s view of a :class:`GroupProgress` (a Sink)."""

    def __init__(self, group: GroupProgress, index: int) -> None:
        self.group, self.index = group, index

    def record(self, record) -> None:
        self.group._on_record(self.index, record)

    def event(self, event) -> None:
        note = _event_note(event)
        if note:
            self.group._note(self.index, note, shared=event.kind == "lr_drop")

    def status(self, change) -> None:
        self.group._on_status(self.index, change.status, change.step)
