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
from .results import (
    INPUT_KEY,
    DataReady,
    MapReady,
    ModelReady,
    NeuronReady,
    SeenImage,
    StudyProgress,
    Switches,
    TwinLandscapes,
    switches_of,
)
from .sources import DataChoice, apply_switches, complete, default_data, gallery_of, warm_display

if TYPE_CHECKING:
    from ...core.data import DataSet
    from ...core.inspect import BlockInfo, DecodedImage, Inspector, LesionResult, LoadedModel, PreparedImage
    from ...core.inspect.features import TopActivations
    from .jobs import Job
    from .landscape_study import LandscapeSettings

__all__ = [
    "open_model",
    "open_data",
    "decode",
    "switch",
    "view",
    "neuron",
    "lesion_study",
    "top_activations",
    "landscapes",
]


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
    intact: Switches | None = None,
) -> None:
    """What the net makes of ``image``, as partial results: a :class:`SeenImage` first
    (skipped when ``prepared`` is given and ``look`` is False: nothing in it is new), then
    one :class:`MapReady` per level for a layer method, or one ``INPUT_KEY`` map.

    When the net's switches differ from ``intact`` (the net as loaded), the same maps of
    the intact net follow (``MapReady.intact``), for the before/after view: from the
    inspector's cache when this image was attributed before the surgery, so they cost
    nothing; the switches are put back even when the job is cancelled meanwhile.
    """
    p = prepared or inspector.prepare(image)
    # One hand-over for both: each costs the GUI thread a wait for the GIL.
    seen = inspector.look(p) if look else None
    if prepared is None or seen is not None:
        job.emit(SeenImage(p, seen))
    levels = LEVELS if method_spec(method).uses_level else (None,)
    for level in levels:
        job.token.check()
        job.emit(MapReady(level or INPUT_KEY, inspector.attribute(p, method, level, target, token=job.token)))
    now = switches_of(inspector.blocks())
    if intact is None or now == intact:
        return
    apply_switches(inspector, intact)
    try:
        for level in levels:
            job.token.check()
            m = inspector.attribute(p, method, level, target, token=job.token)
            job.emit(MapReady(level or INPUT_KEY, m, intact=True))
    finally:
        apply_switches(inspector, now)


def neuron(
    job: Job,
    *,
    inspector: Inspector,
    image: DecodedImage,
    prepared: PreparedImage | None,
    method: str,
    level: str,
    channel: int,
) -> NeuronReady:
    """Channel ``channel`` of ``level`` attributed to the pixels of ``image`` (a neuron method:
    what in the image drives that channel's mean activation)."""
    p = prepared or inspector.prepare(image)
    return NeuronReady(level, channel, inspector.attribute(p, method, level, token=job.token, channel=channel))


def _progress(job: Job) -> Callable[[int, int], None]:
    """A progress callback that sends at most a thousand :class:`StudyProgress` records,
    however many steps the study has."""
    last = [-1]

    def progress(done: int, total: int) -> None:
        per_mille = int(1000 * done / max(total, 1))
        if per_mille != last[0]:
            last[0] = per_mille
            job.emit(StudyProgress(done, total))

    return progress


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
    return inspector.lesion_study(data.test, limit=limit, token=job.token, progress=_progress(job))


def top_activations(
    job: Job,
    *,
    loaded: LoadedModel,
    data: DataSet,
    switches: Switches,
    limit: int,
    k: int,
    copy_of: Callable[[LoadedModel], Inspector],
) -> TopActivations:
    """What each channel of each level sees: its ``k`` strongest units over ``limit`` test
    images of ``data`` (Zeiler & Fergus 2014), on the feature thread's copy (``copy_of``)."""
    inspector = copy_of(loaded)
    apply_switches(inspector, switches)
    return inspector.top_activations(data.test, k=k, limit=limit, token=job.token, progress=_progress(job))


def landscapes(
    job: Job,
    *,
    loaded: LoadedModel,
    switches: Switches,
    settings: LandscapeSettings,
    twin: Path | None,
    twin_note: str,
    train_of: Callable[[], DataSet],
    copy_of: Callable[[LoadedModel], Inspector],
    twin_of: Callable[[Path, DataSet], Inspector],
) -> TwinLandscapes:
    """The training loss around ``loaded`` (with ``switches``) and, given ``twin`` (a
    checkpoint), around its twin, along the same seed's directions (Li et al. 2018), on the
    training split ``train_of()`` gives."""
    from dataclasses import replace

    from ...core.inspect.evaluation import check_classes

    data = train_of()
    job.token.check()
    check_classes(loaded.model, loaded.classes, data.classes, data.name)
    inspector = copy_of(loaded)
    apply_switches(inspector, switches)
    nets = [inspector]
    if twin is not None:
        nets.append(twin_of(twin, data))
    report = _progress(job)
    total = settings.points * len(nets)
    out = []
    for i, ins in enumerate(nets):
        r = ins.landscape(
            data.train,
            dims=settings.dims,
            grid=settings.grid,
            span=settings.span,
            n_images=settings.images,
            seed=settings.seed,
            token=job.token,
            progress=lambda d, _t, base=i * settings.points: report(base + d, total),
        )
        out.append(r)
    # The net as switched now, named so: its switches as loaded are those of ``loaded.model``.
    as_loaded = zip(loaded.model.shortcuts(), loaded.model.residuals(), strict=True)
    changed = sum((s != a) + (f != b) for (s, f), (a, b) in zip(switches, as_loaded, strict=True))
    if changed:
        out[0] = replace(out[0], name=f"{out[0].name} ({changed} switch{'es' if changed != 1 else ''} changed)")
    return TwinLandscapes(tuple(out), twin_note)
