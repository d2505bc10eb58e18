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


def test_the_guard_is_for_pyside6_6_12_0_on_cpython_before_3_12():
    from resviz.gui._none_refcount import needs_guard

    leaky = dict(python=(3, 11), implementation="cpython", trace_refs=False)
    assert needs_guard((6, 12, 0), **leaky)
    assert needs_guard((6, 12, 0, "", ""), **leaky)  # as PySide6.__version_info__ gives it
    for release in ((6, 11, 3), (6, 12, 1), (6, 6, 0), (6, 13, 0), (7, 0, 0)):
        assert not needs_guard(release, **leaky), release
    assert not needs_guard((6, 12, 0), **{**leaky, "python": (3, 12)})  # None is immortal (PEP 683)
    assert not needs_guard((6, 12, 0), **{**leaky, "python": (3, 13)})
    assert not needs_guard((6, 12, 0), **{**leaky, "implementation": "pypy"})
    assert not needs_guard((6, 12, 0), **{**leaky, "trace_refs": True})  # ob_refcnt is not first there


def test_importing_the_gui_keeps_none_alive_where_the_binding_needs_it():
    import PySide6

    from resviz.gui._none_refcount import NONE_REFCOUNT_FLOOR, needs_guard

    before, after = _probe("import resviz.gui")
    if needs_guard(PySide6.__version_info__):
        assert before >= NONE_REFCOUNT_FLOOR
        assert after > NONE_REFCOUNT_FLOOR - 10 * _CALLS  # whatever the binding loses, None stays alive
    else:
        assert before < NONE_REFCOUNT_FLOOR  # left as the interpreter keeps it
        # ... rightly: this binding loses no reference to None per void call.
        assert after >= before - _CALLS // 100, (before, after)
