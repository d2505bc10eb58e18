"""What the Inspect tab's jobs hand back to the GUI thread: one small frozen record each.

A job runs in a worker thread (:mod:`resviz.gui.inspect.tasks`) and its result crosses to
the GUI thread through a queued signal (:mod:`resviz.gui.inspect.jobs`). Each result is
one of these records, named by what it carries, so the session's handlers read
``result.inspector`` rather than the fifth item of a tuple. They hold core objects, made
in the worker; the GUI thread only reads them. No torch here: the core types are named
for the type checker only (the tab is built before torch has loaded).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...core.data import DataSet
    from ...core.inspect import AttributionMap, BlockInfo, Inspector, LoadedModel, Look, PreparedImage
    from ...core.landscape import Landscape
    from .sources import DataChoice, Gallery

__all__ = [
    "INPUT_KEY",
    "Switches",
    "switches_of",
    "ModelReady",
    "DataReady",
    "SeenImage",
    "MapReady",
    "ViewResult",
    "NeuronReady",
    "StudyProgress",
    "LesionProgress",
    "TwinLandscapes",
]

#: The key of the one map an input-space method gives (layer methods give one per level).
INPUT_KEY = "input"

#: Every block's (shortcut on, residual branch on), depth order: the surgery done to a net.
Switches = tuple[tuple[bool, bool], ...]


def switches_of(blocks: list[BlockInfo] | tuple[BlockInfo, ...]) -> Switches:
    """The switches of ``blocks`` as they are now."""
    return tuple((b.shortcut_on, b.residual_on) for b in blocks)


@dataclass(frozen=True)
class ModelReady:
    """A net loaded and completed from its test images (:func:`tasks.load_model`)."""

    raw: LoadedModel  # as read from the file, before its test images completed it
    loaded: LoadedModel  # completed: class names and input recipe of ``data``
    data: DataSet
    choice: DataChoice  # the test images used (digits when the wanted ones failed)
    notes: tuple[str, ...]  # what completing it had to work around, for the status line
    inspector: Inspector
    blocks: tuple[BlockInfo, ...]  # depth order, switches as loaded
    gallery: Gallery


@dataclass(frozen=True)
class DataReady:
    """Other test images for the net shown (:func:`tasks.load_data`).

    ``loaded`` and ``inspector`` are set only when the new images changed what the net is
    completed with (a bare state dict takes their class names and input mean); otherwise
    the net shown stays as it is and both are None.
    """

    data: DataSet
    gallery: Gallery
    loaded: LoadedModel | None = None
    inspector: Inspector | None = None


@dataclass(frozen=True)
class SeenImage:
    """The image as the net sees it and, when asked for, what it makes of it (a view job's
    first partial result)."""

    prepared: PreparedImage
    look: Look | None  # predictions and activations; None when the shown ones still hold


@dataclass(frozen=True)
class MapReady:
    """One attribution map of a view job: ``key`` is a level or ``INPUT_KEY``.

    ``intact`` maps are of the net as loaded, sent after the maps of the net after surgery
    (for the before/after view); they come from the inspector's cache when the image was
    attributed before the surgery.
    """

    key: str
    map: AttributionMap
    intact: bool = False


#: The partial results of a view job, in the order they arrive.
ViewResult = SeenImage | MapReady


@dataclass(frozen=True)
class NeuronReady:
    """One channel's activation attributed to the input pixels (the neuron view)."""

    level: str
    channel: int
    map: AttributionMap


@dataclass(frozen=True)
class StudyProgress:
    """How far a study in a thread of its own has got: ``done`` of ``total`` steps
    (lesions, images, grid points)."""

    done: int
    total: int


#: The lesion study's progress: ``done`` of ``total`` lesions evaluated.
LesionProgress = StudyProgress


@dataclass(frozen=True)
class TwinLandscapes:
    """Loss landscapes of the net shown and, when asked for, of its twin (same directions'
    seed, one colour scale): the net's first."""

    landscapes: tuple[Landscape, ...]
    twin_note: str = ""  # which twin was used, or why there is none

    @property
    def nbytes(self) -> int:
        return sum(r.nbytes for r in self.landscapes)
