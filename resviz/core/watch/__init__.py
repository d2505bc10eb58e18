"""Watch a residual net trained by the user's own loop (issue #21): :func:`watch`.

See :mod:`.watch` for what is measured and when, :mod:`.structure` for how residual
blocks are found, :mod:`.hooks` for the forward hooks.
"""

from .structure import BlockSpec
from .watch import Watch, watch

__all__ = ["BlockSpec", "Watch", "watch"]
