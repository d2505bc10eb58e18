"""Lazy package exports (PEP 562), so importing a package does not import torch.

``resviz.core.train`` and ``resviz.core.inspect`` export torch-free names (configs,
records, method lists) beside torch-heavy ones; the app imports the former before torch
has loaded, so each export is resolved from its module only when first used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``package.<exports[name]>`` on first use."""

    def __getattr__(name: str) -> Any:
        if name in exports:
            return getattr(importlib.import_module(f".{exports[name]}", package), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
