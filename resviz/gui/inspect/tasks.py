"""The bodies of the Inspect tab's jobs: what runs in a worker thread, and nothing else.

Each function takes the :class:`~resviz.gui.inspect.jobs.Job` it runs as (for its cancel
token and ``job.emit``) and, as keywords, everything it needs, captured on the GUI thread
when the job was submitted: no function here reads the session, whose state the GUI thread
may change meanwhile. Each returns (or emits) a core object or a record of
:mod:`resviz.gui.inspect.results`; the session's callbacks take it from there on the GUI
thread. torch is imported inside the functions: the tab is built before torch has loaded.

A new kind of job is three small pieces (CONTRIBUTING.md, "An inspect job"): its body here,
a record of its result in ``results.py``, and in the session a method that submits
``partial(tasks.<body>, ...)`` with an ``_on_*`` handler that stores the result and emits
a signal. A result that belongs to the image shown (and goes stale with it) is rather one
more partial of :func:`view`, with one more ``case`` in ``InspectSession._on_view``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ...core.archs import LEVELS
from ...core.inspect.methods import method_spec
from .results import INPUT_KEY, DataReady, LesionProgress, MapReady, ModelReady, SeenImage, Switches
from .sources import DataChoice, apply_switches, complete, default_data, gallery_of, warm_display

if TYPE_CHECKING:
    from ...core.data import DataSet
    from ...core.inspect import BlockInfo, DecodedImage, Inspector, LesionResult, LoadedModel, PreparedImage
    from .jobs import Job

__all__ = ["open_model", "open_data", "decode", "switch", "view", "lesion_study"]


def open_model(
    job: Job, *, source: str | Path, arch: str | None, data: DataChoice | None, fallback: DataChoice | None
) -> ModelReady:
    """Load weights (a file, a run folder, torchvision weights by name) and complete them
    from their test images (``data``, else the ones they were trained on, else ``fallback``)."""
    from ...core.inspect import Inspector, load_model

    raw = load_model(source, arch=arch)
    job.token.check()
    loaded, dataset, choice, notes = complete(raw, data or default_data(raw, fallback))
    job.token.check()
    inspector = Inspector(loaded)
    warm_display()
    return ModelReady(
        raw, loaded, dataset, choice, tuple(notes), inspector, tuple(inspector.blocks()), gallery_of(dataset)
    )


def open_data(
    job: Job, *, choice: DataChoice, raw: LoadedModel | None, current: LoadedModel | None, switches: Switches
) -> DataReady:
    """Load other test images for the net shown (``raw`` as read, ``current`` as completed).

    A bare state dict takes its class names and input mean from its test images, so when
    those change, the net is completed again into a new inspector with the same switches.
    """
    if raw is None or current is None:
        from ...core.data import load_dataset

        # Only the test images the gallery shows (issue #9: no train split decoded for nothing).
        dataset = load_dataset(choice.spec, root=choice.root, size=choice.size, splits=("test",), mean=False)
        return DataReady(dataset, gallery_of(dataset))
    from ...core.inspect.datasets import load_data_for

    loaded, dataset = load_data_for(raw, choice.spec, root=choice.root, size=choice.size)
    if loaded.classes == current.classes and loaded.preprocess.key == current.preprocess.key:
        return DataReady(dataset, gallery_of(dataset))
    from ...core.inspect import Inspector

    inspector = Inspector(loaded)
    apply_switches(inspector, switches)
    return DataReady(dataset, gallery_of(dataset), loaded, inspector)


def decode(job: Job, *, source: str | Path | bytes, name: str | None) -> DecodedImage:
    """Decode an image file, or the bytes of a pasted image."""
    from ...core.inspect.images import decode_image

    return decode_image(source, name=name)


def switch(job: Job, *, inspector: Inspector, change: Callable[[Inspector], None]) -> list[BlockInfo]:
    """Apply ``change`` (a shortcut or residual switch, or a reset); the blocks after it."""
    change(inspector)
    return inspector.blocks()


def view(
    job: Job,
    *,
    inspector: Inspector,
    image: DecodedImage,
    prepared: PreparedImage | None,
    method: str,
    target: int | None,
    look: bool,
) -> None:
    """What the net makes of ``image``, as partial results: a :class:`SeenImage` first
    (skipped when ``prepared`` is given and ``look`` is False: nothing in it is new), then
    one :class:`MapReady` per level for a layer method, or one ``INPUT_KEY`` map."""
    p = prepared or inspector.prepare(image)
    # One hand-over for both: each costs the GUI thread a wait for the GIL.
    seen = inspector.look(p) if look else None
    if prepared is None or seen is not None:
        job.emit(SeenImage(p, seen))
    for level in LEVELS if method_spec(method).uses_level else (None,):
        job.token.check()
        job.emit(MapReady(level or INPUT_KEY, inspector.attribute(p, method, level, target, token=job.token)))


def lesion_study(
    job: Job,
    *,
    loaded: LoadedModel,
    data: DataSet,
    switches: Switches,
    limit: int | None,
    copy_of: Callable[[LoadedModel], Inspector],
) -> LesionResult:
    """Veit et al.'s lesion study of ``loaded`` with ``switches``, on ``data``'s test split,
    on the lesion thread's own copy of the net (``copy_of``)."""
    from ...core.inspect.evaluation import check_classes

    check_classes(loaded.model, loaded.classes, data.classes, data.name)
    inspector = copy_of(loaded)
    apply_switches(inspector, switches)
    last = [-1]

    def progress(done: int, total: int) -> None:
        per_mille = int(1000 * done / max(total, 1))
        if per_mille != last[0]:  # at most a thousand signals, whatever the net's depth
            last[0] = per_mille
            job.emit(LesionProgress(done, total))

    return inspector.lesion_study(data.test, limit=limit, token=job.token, progress=progress)
