"""Keep ``None`` alive under PySide6 6.12 on CPython 3.11.

With PySide6/shiboken6 6.12 on CPython 3.11, every call of a void Qt method from Python
(``widget.update()``, ``timer.stop()``, ``app.processEvents()``, ``label.setText(...)``)
gives back a ``None`` it never took a reference to. CPython 3.12 made ``None`` immortal
(PEP 683), so there this costs nothing; on 3.11 the count falls by one per call. Measured
here: ~150,000 references once torch is loaded, falling ~1,700 per second while the app
plots a training run, so after about two minutes the interpreter aborts with
"Fatal Python error: none_dealloc: deallocating None" (the same abort ends a long test
session at exit). ``tests/gui/test_none_refcount.py`` shows the loss per call.

The fix gives ``None`` a reference count so large that no run can exhaust it, which is
what CPython 3.12 does. It is applied once, when ``resviz.gui`` is imported, and only on
CPython before 3.12 in a normal (non trace-refs) build, where ``ob_refcnt`` is the first
field of every object.
"""

from __future__ import annotations

import sys

__all__ = ["keep_none_alive", "NONE_REFCOUNT_FLOOR"]

#: Far more references than any session can lose (a billion void calls a second for decades).
NONE_REFCOUNT_FLOOR = sys.maxsize // 4


def keep_none_alive() -> bool:
    """Raise ``None``'s reference count to :data:`NONE_REFCOUNT_FLOOR`; True if it was done."""
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return False  # immortal already (PEP 683)
    if hasattr(sys, "getobjects"):
        return False  # a Py_TRACE_REFS build puts two pointers before ob_refcnt
    import ctypes

    refcount = ctypes.c_ssize_t.from_address(id(None))
    if refcount.value < NONE_REFCOUNT_FLOOR:
        refcount.value = NONE_REFCOUNT_FLOOR
    return True
