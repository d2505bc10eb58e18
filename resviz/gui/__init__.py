"""resviz's desktop app: PySide6 + pyqtgraph widgets over resviz.core (no ML logic here)."""

from ._none_refcount import keep_none_alive

# Before any Qt call: PySide6 6.12.0 on CPython 3.11 loses a reference to None per void
# method call, which would abort the app after minutes of live plotting (see the module).
# pyproject.toml excludes that release; this keeps an environment that has it anyway alive.
keep_none_alive()
