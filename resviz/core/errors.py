"""Errors that carry a message meant for the person using resviz.

The CLI prints ``resviz: error: <message>`` and exits non-zero; the app shows the message
in a dialog or the status bar. A message says what went wrong and what to do about it.
"""

from __future__ import annotations

__all__ = ["ResvizError", "DataError", "ConfigError", "CheckpointError", "ImageError", "RunError", "WriteError"]


class ResvizError(Exception):
    """Base class: an expected failure with a message for the user (no traceback)."""


class DataError(ResvizError):
    """A data set could not be found, downloaded or read."""


class ConfigError(ResvizError, ValueError):
    """A setting is out of range or names something unknown."""


class CheckpointError(ResvizError):
    """A weights file could not be read or does not fit the architecture."""


class ImageError(ResvizError):
    """An image file could not be decoded or is not usable."""


class RunError(ResvizError):
    """A run folder is missing, unreadable, or would be overwritten."""


class WriteError(RunError):
    """A run's file could not be written (a full disk, a read-only or vanished folder)."""
