"""Commands resviz prints for the user to run, quoted so that pasting them runs what they say.

"continue with: resviz train --resume sp ace;rm x" ran ``rm x`` when pasted (issue #17):
every printed command is built here, each word quoted with :func:`shlex.quote` (POSIX
shell rules), so a path with spaces, quotes, ``;`` or ``$`` stays one argument.
"""

from __future__ import annotations

import os
import shlex

__all__ = ["shell_command"]


def shell_command(*words: str | os.PathLike) -> str:
    """``resviz train --resume 'sp ace;rm x'``: the words joined, each quoted where needed."""
    return " ".join(shlex.quote(os.fspath(w)) for w in words)
