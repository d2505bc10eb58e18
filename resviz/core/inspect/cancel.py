"""Cooperative cancellation for inspector jobs.

Captum's ``attribute`` calls cannot be interrupted from outside, so a job checks its token
*between* phases (levels, methods, lesioned blocks, batches) and stops there. The app makes
a new token per job and cancels the stale one when the image or a setting changes (issue 5,
"a new image or a new setting cancels the stale job").
"""

from __future__ import annotations

import threading

__all__ = ["CancelToken", "Cancelled", "raise_if_cancelled"]


class Cancelled(Exception):
    """A job stopped because its :class:`CancelToken` was cancelled (not an error)."""


class CancelToken:
    """A flag one thread sets and a worker checks; thread-safe, cheap to check."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the job to stop at its next check (callable from any thread)."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._event.is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` if the job should stop."""
        if self._event.is_set():
            raise Cancelled()


def raise_if_cancelled(token: CancelToken | None) -> None:
    """Raise :class:`Cancelled` if ``token`` is set; a ``None`` token never cancels."""
    if token is not None:
        token.check()
