"""Keep ``None`` alive under PySide6 6.12.0 on CPython 3.11.

With PySide6/shiboken6 6.12.0 on CPython 3.11, every call of a void Qt method from Python
(``widget.update()``, ``timer.stop()``, ``app.processEvents()``, ``label.setText(...)``)
gives back a ``None`` it never took a reference to. CPython 3.12 made ``None`` immortal
(PEP 683), so there this costs nothing; on 3.11 the count falls by one per call. Measured
here: ~150,000 references once torch is loaded, falling ~1,700 per second while the app
plots a training run, so after about two minutes the interpreter aborts with
"Fatal Python error: none_dealloc: deallocating None" (the same abort ends a long test
session at exit). ``tests/gui/test_none_refcount.py`` shows the loss per call.

The fix gives ``None`` a reference count so large that no run can exhaust it, which is
what CPython 3.12 does. It is applied once, when ``resviz.gui`` is imported, and only where
it is needed (:func:`needs_guard`): the PySide6 release that loses the references
(:data:`LEAKING_RELEASES`, the one pyproject.toml excludes), on CPython before 3.12 in a
normal (non trace-refs) build, where ``ob_refcnt`` is the first field of every object.
Writing into an object's header through ctypes is a last resort, not done where nothing
needs it.
"""

from __future__ import annotations

import sys

__all__ = ["keep_none_alive", "needs_guard", "LEAKING_RELEASES", "NONE_REFCOUNT_FLOOR"]

#: Far more references than any session can lose (a billion void calls a second for decades).
NONE_REFCOUNT_FLOOR = sys.maxsize // 4

#: PySide6 releases (major, minor, patch) that lose a reference to None per void call.
LEAKING_RELEASES: frozenset[tuple[int, int, int]] = frozenset({(6, 12, 0)})


def needs_guard(
    pyside: tuple[int, ...],
    *,
    python: tuple[int, ...] = tuple(sys.version_info[:2]),
    implementation: str = sys.implementation.name,
    trace_refs: bool = hasattr(sys, "getobjects"),
) -> bool:
    """Whether ``None`` needs :func:`keep_none_alive` with PySide6 ``pyside`` on this Python."""
    if tuple(pyside[:3]) not in LEAKING_RELEASES:
        return False  # this binding keeps its references
    if implementation != "cpython" or tuple(python[:2]) >= (3, 12):
        return False  # immortal already (PEP 683)
    return not trace_refs  # a Py_TRACE_REFS build puts two pointers before ob_refcnt


def keep_none_alive() -> bool:
    """Raise ``None``'s reference count to :data:`NONE_REFCOUNT_FLOOR` where the installed
    PySide6 needs it (:func:`needs_guard`); True if it was done."""
    import PySide6

    if not needs_guard(PySide6.__version_info__):
        return False
    import ctypes

    refcount = ctypes.c_ssize_t.from_address(id(None))
    if refcount.value < NONE_REFCOUNT_FLOOR:
        refcount.value = NONE_REFCOUNT_FLOOR
    return True
