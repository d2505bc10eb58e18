"""PySide6 6.12 loses a reference to None per void call on CPython 3.11; resviz.gui guards it."""

from __future__ import annotations

import subprocess
import sys


_CALLS = 20_000
_PROBE = (
    "import sys, gc\n"
    "{setup}\n"
    "from PySide6 import QtCore\n"
    "timer = QtCore.QTimer()\n"
    "gc.collect(); before = sys.getrefcount(None)\n"
    "for _ in range({calls}): timer.stop()\n"
    "gc.collect(); print(before, sys.getrefcount(None), flush=True)\n"
    # Skip finalisation: with references to None lost, tearing the interpreter down would
    # take None's count to zero and abort, which is the bug itself.
    "import os; os._exit(0)\n"
)


def _probe(setup: str, calls: int = _CALLS) -> tuple[int, int]:
    code = _PROBE.format(setup=setup, calls=calls)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    before, after = (int(v) for v in out.stdout.split())
    return before, after


def test_importing_the_gui_keeps_none_alive():
    from resviz.gui._none_refcount import NONE_REFCOUNT_FLOOR

    before, after = _probe("import resviz.gui")
    if sys.version_info >= (3, 12):
        return  # None is immortal (PEP 683): nothing to guard
    assert before >= NONE_REFCOUNT_FLOOR
    assert after > NONE_REFCOUNT_FLOOR - 10 * _CALLS  # whatever the binding loses, None stays alive
