"""A stand-in for a live ``resviz train``: a process that holds a run folder's writer lock."""

from __future__ import annotations


def hold_writer_lock(run):
    """A process that holds ``run``'s writer lock, as a live ``resviz train`` does (a Popen;
    the caller kills it). Returns once the lock is taken."""
    import subprocess
    import sys

    code = (
        "import sys, time; from resviz.core.runs import writer\n"
        f"writer.lock({str(run)!r}); print('locked', flush=True); time.sleep(120)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc
