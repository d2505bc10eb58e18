"""Where resviz keeps its caches (decoded data sets) on this machine."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir"]


def cache_dir() -> Path:
    """``$RESVIZ_CACHE_DIR``, else ``$XDG_CACHE_HOME/resviz``, else ``~/.cache/resviz``."""
    if env := os.environ.get("RESVIZ_CACHE_DIR"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "resviz"
