"""The Inspect tab's state: the loaded net, the image, what the net makes of it, the lesions.

:class:`InspectSession` is the model the tab's views subscribe to (DESIGN.md: views take
the object they show and follow its signals). It holds no ML logic: it sends every
:class:`~resviz.core.inspect.Inspector` call to one worker thread, in order
(:mod:`resviz.gui.inspect.jobs`), and a new image or setting cancels the stale job
(issue 5). Cached attributions come back at once from the Inspector's LRU.

Each job is a function of :mod:`resviz.gui.inspect.tasks` given what it needs now; its
result comes back as a record of :mod:`resviz.gui.inspect.results` to an ``_on_*``
handler here, which stores it and emits the signal of what changed. The studies that go
over a whole split each run in a thread of their own and keep their state in a
:class:`~.study.Study`: the lesion study (``study``), what each channel sees
(``features``) and the loss landscape (``landscape``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import QtCore

from ...core.inspect.methods import METHODS, method_spec
from ..engine import EngineLoader
from . import tasks
from .feature_study import FeatureStudy
from .jobs import Job, JobWorker
from .landscape_study import LandscapeStudy
from .lesion_study import LesionStudy
from .results import INPUT_KEY, DataReady, MapReady, ModelReady, NeuronReady, SeenImage, ViewResult, switches_of
from .sources import DataChoice, Gallery, leave_the_gui_a_core
from .study import NetKey, net_identity

if TYPE_CHECKING:
    from ...core.data import DataSet
    from ...core.inspect import AttributionMap, BlockInfo, DecodedImage, Inspector, LoadedModel, Look, PreparedImage

__all__ = ["InspectSession", "INPUT_KEY"]


class InspectSession(QtCore.QObject):
    """What the Inspect tab shows; every change is announced by a signal."""

    model_changed = QtCore.Signal()  # loaded, inspector, blocks
    data_changed = QtCore.Signal()  # data, gallery
    image_changed = QtCore.Signal()  # image (decoded), prepared (as the net sees it)
    look_changed = QtCore.Signal()  # look: predictions and activations
    attribution_changed = QtCore.Signal(str)  # maps[key] or intact_maps[key] arrived ("" : maps cleared)
    neuron_changed = QtCore.Signal()  # channel picked, neuron_method or neuron (its map)
    settings_changed = QtCore.Signal()  # method or target
    blocks_changed = QtCore.Signal()  # blocks: the switches
    problem = QtCore.Signal(str, str)  # title, message (what went wrong, what to do)
    image_problem = QtCore.Signal(str)  # an image could not be used; the one shown stays
    message = QtCore.Signal(str)  # one line of news
    busy_changed = QtCore.Signal(bool)

    def __init__(self, engine: EngineLoader, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.worker = JobWorker("inspect", setup=leave_the_gui_a_core, parent=self)
        self.worker.busy_changed.connect(self.busy_changed)
        self.study = LesionStudy(parent=self)
        self.features = FeatureStudy(parent=self)
        self.landscape = LandscapeStudy(parent=self)
        for study in self.studies:
            study.message.connect(self.message)
            study.problem.connect(self.problem)
        self.loaded: LoadedModel | None = None  # completed from the data set
        self.inspector: Inspector | None = None
        self.data: DataSet | None = None
        self.data_choice: DataChoice | None = None
        self.gallery: Gallery | None = None
        self.image: DecodedImage | None = None
        self.prepared: PreparedImage | None = None  # the image as the loaded net sees it
        self.look: Look | None = None
        self.maps: dict[str, AttributionMap] = {}  # level or INPUT_KEY -> map
        self.intact_maps: dict[str, AttributionMap] = {}  # the same, of the net as loaded (after surgery)
        self.channel: tuple[str, int] | None = None  # (level, channel) of the neuron view
        self.neuron_method = "neuron-gradient"
        self.neuron: NeuronReady | None = None  # the picked channel attributed to the image's pixels
        self.net_key: NetKey | None = None  # what the studies' results are of (net and images)
        self.method = "gradcam"
        self.target: int | None = None  # None: the top-1 prediction
        self.blocks: list[BlockInfo] = []  # depth order, switches as they are now
        self.original_blocks: list[BlockInfo] = []
        self._raw: LoadedModel | None = None  # as read from the file
        self._view_job: Job | None = None
        self._neuron_job: Job | None = None
        self._look_stale = True
        if engine.is_ready:
            self._on_engine_ready()
        engine.ready.connect(self._on_engine_ready)

    def _on_engine_ready(self) -> None:
        self.worker.start()
        for study in self.studies:
            study.start()

    @property
    def studies(self) -> tuple[LesionStudy, FeatureStudy, LandscapeStudy]:
        return (self.study, self.features, self.landscape)

    # -- state ----------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self.worker.busy

    @property
    def classes(self) -> list[str]:
        return list(self.loaded.classes) if self.loaded is not None else []

    def switches_changed(self) -> int:
        """How many switches differ from the net as loaded."""
        return sum(
            (a.shortcut_on != b.shortcut_on) + (a.residual_on != b.residual_on)
            for a, b in zip(self.blocks, self.original_blocks, strict=True)
        )

    # -- the model --------------------------------------------------------------------------

    def load_model(self, source: str | Path, *, arch: str | None = None, data: DataChoice | None = None) -> Job:
        """Load weights (a file, a run folder, torchvision weights by name) in the worker."""
        name = Path(str(source)).name or str(source)
        job = partial(
            tasks.open_model, source=source, arch=(arch or "").strip() or None, data=data, fallback=self.data_choice
        )

        def failed(message: str) -> None:
            self.problem.emit("Cannot load the model", message)
            # The net shown stays: finish what the load's cancelling cut short (from the
            # cache where it had got that far).
            self._refresh()

        self._cancel_view()  # the view of the net about to be replaced: not worth finishing
        waiting = "" if self.engine.is_ready else " (once torch has loaded)"
        self.message.emit(f"loading {name}{waiting} …")
        return self.worker.submit(job, f"loading {name}", on_done=self._on_model, on_failed=failed)

    def _on_model(self, r: ModelReady) -> None:
        self._raw, self.loaded, self.inspector = r.raw, r.loaded, r.inspector
        self.blocks, self.original_blocks = list(r.blocks), list(r.blocks)
        self.target, self.prepared, self.look, self.maps, self.intact_maps = None, None, None, {}, {}
        self.channel, self.neuron = None, None  # another net may have other channels
        self._look_stale = True
        self._follow_net(r.loaded, r.data)  # a study of the net shown before would mislead
        self.model_changed.emit()
        self.blocks_changed.emit()
        self.settings_changed.emit()
        self.look_changed.emit()
        self.attribution_changed.emit("")
        self.neuron_changed.emit()
        self._set_data(r.data, r.choice, r.gallery)
        self.message.emit(f"loaded {r.loaded.describe()}" + "".join(f"; {n}" for n in (*r.notes, *r.loaded.notes)))
        if self.image is not None:
            self._refresh()

    def set_data(self, choice: DataChoice) -> Job | None:
        """Use other test images (gallery and lesion study); a bare state dict takes their
        class names and input mean, so it is completed again from the new set."""
        raw = self._raw
        job = partial(tasks.open_data, choice=choice, raw=raw, current=self.loaded, switches=switches_of(self.blocks))
        self.message.emit(f"loading the test images of {choice.label} …")
        return self.worker.submit(
            job,
            f"loading {choice.label}",
            on_done=lambda r: self._on_data(r, choice, raw),
            on_failed=lambda msg: self.problem.emit("Cannot load these test images", msg),
        )

    def _on_data(self, r: DataReady, choice: DataChoice, raw: LoadedModel | None) -> None:
        if self._raw is not raw:
            return  # another net arrived meanwhile, with its own test images
        if r.inspector is not None:
            self.loaded, self.inspector = r.loaded, r.inspector
            self.prepared, self.look, self.maps, self.intact_maps, self._look_stale = None, None, {}, {}, True
            self.model_changed.emit()
            self._refresh()
        self._follow_net(self.loaded, r.data)  # other test images: the studies' results were of others
        self._set_data(r.data, choice, r.gallery)

    def _follow_net(self, loaded: LoadedModel | None, data: DataSet | None) -> None:
        """Tell every study which net (and images) is shown now."""
        self.net_key = net_identity(loaded, data) if loaded is not None else None
        for study in self.studies:
            study.forget(switches_of(self.blocks), self.net_key)

    def _set_data(self, dataset: DataSet, choice: DataChoice, gallery: Gallery) -> None:
        self.data, self.data_choice, self.gallery = dataset, choice, gallery
        self.data_changed.emit()

    # -- the image --------------------------------------------------------------------------

    def open_image(self, source: str | Path | bytes, name: str | None = None) -> Job:
        """Decode an image file (or the bytes of a pasted one) in the worker, then show it."""
        label = name or (Path(source).name if not isinstance(source, bytes) else "the pasted image")
        # The image shown now stays until the new one has decoded: a bad file loses nothing.
        return self.worker.submit(
            partial(tasks.decode, source=source, name=name),
            f"decoding {label}",
            on_done=self.set_image,
            on_failed=self.image_problem.emit,
        )

    def set_image(self, image: DecodedImage) -> None:
        """Show a decoded image (a :class:`~resviz.core.inspect.DecodedImage`)."""
        self.image, self.prepared, self.look = image, None, None
        self.target, self.maps, self.intact_maps, self.neuron = None, {}, {}, None
        self._look_stale = True
        self.image_changed.emit()
        self.look_changed.emit()
        self.attribution_changed.emit("")
        self.settings_changed.emit()
        self.neuron_changed.emit()
        if image.notes:
            self.message.emit(f"{image.name}: " + "; ".join(image.notes))
        if self.inspector is None:
            self.message.emit("load a model to see what it makes of this image (File > Open model…)")
        self._refresh()

    def pick_gallery(self, index: int) -> None:
        """Show test image ``index`` of the gallery."""
        g = self.gallery
        if g is not None and 0 <= index < len(g.images):
            self._show_test_image(g.images[index], index, g.labels[index], g.name, g.classes)

    def show_test_image(self, index: int) -> None:
        """Show test image ``index`` of the whole test split (a patch's source image)."""
        d = self.data
        if d is not None and 0 <= index < len(d.test):
            rgb = d.test.images[index]
            rgb = (rgb.expand(3, -1, -1) if rgb.shape[0] == 1 else rgb).permute(1, 2, 0).contiguous().numpy()
            self._show_test_image(rgb, index, int(d.test.labels[index]), d.name, d.classes)

    def _show_test_image(self, rgb, index: int, label: int, data_name: str, classes: list[str]) -> None:
        from ...core.inspect.images import DecodedImage

        name = classes[label] if label < len(classes) else str(label)
        self.set_image(DecodedImage.from_array(rgb, name=f"{data_name} test image {index} (labelled {name})"))

    # -- settings -------------------------------------------------------------------------

    def set_method(self, name: str) -> None:
        name = method_spec(name).name
        if name != self.method:
            self.method, self.maps, self.intact_maps = name, {}, {}
            self.attribution_changed.emit("")
            self.settings_changed.emit()
            self._refresh()

    def set_target(self, index: int | None) -> None:
        """The class to attribute (None: the top-1 prediction)."""
        if index != self.target:
            self.target, self.intact_maps = index, {}
            self.settings_changed.emit()
            self._refresh()

    @property
    def target_index(self) -> int | None:
        """The class attributions are for now (the top-1 once predictions are in)."""
        if self.target is not None:
            return self.target
        if self.look is not None and self.look.predictions:
            return self.look.predictions[0].index
        return None

    # -- surgery ----------------------------------------------------------------------------

    def set_shortcut(self, index: int, on: bool) -> None:
        self._switch(lambda ins: ins.set_shortcut(index, on), f"shortcut of block {index} {'on' if on else 'off'}")

    def set_residual(self, index: int, on: bool) -> None:
        self._switch(
            lambda ins: ins.set_residual(index, on),
            f"residual branch of block {index} {'restored' if on else 'deleted'}",
        )

    def reset_switches(self) -> None:
        """Every switch back to the net as loaded."""
        self._switch(lambda ins: ins.reset(), "every switch as loaded")

    def _switch(self, change: Callable[[Inspector], None], label: str) -> None:
        ins = self.inspector
        if ins is None:
            return
        # A switch is state, never stale: its job is not cancelled; the view after it is.
        self.worker.submit(
            partial(tasks.switch, inspector=ins, change=change),
            label,
            on_done=lambda blocks: self._on_switched(blocks, ins),
        )
        self._look_stale = True
        self._refresh()

    def _on_switched(self, blocks: list[BlockInfo], ins: Inspector) -> None:
        if ins is self.inspector:
            self.blocks = list(blocks)
            self.blocks_changed.emit()
            for study in self.studies:
                study.switches_moved(switches_of(self.blocks))

    # -- predictions, activations, attributions ----------------------------------------------

    def _cancel_view(self) -> None:
        if self._view_job is not None:
            self._view_job.cancel()
            self._view_job = None

    def _refresh(self) -> None:
        """Cancel the stale view job; queue predictions, activations and attributions."""
        self._cancel_view()
        ins, image = self.inspector, self.image
        if ins is None or image is None:
            return
        job = partial(
            tasks.view,
            inspector=ins,
            image=image,
            prepared=self.prepared,
            method=self.method,
            target=self.target,
            look=self._look_stale,
            intact=switches_of(self.original_blocks),
        )
        self._view_job = self.worker.submit(
            job,
            f"{METHODS[self.method].label} for {image.name}",
            on_partial=self._on_view,
            on_failed=lambda msg: self.problem.emit("Cannot attribute", msg),
        )
        self._refresh_neuron()

    def _on_view(self, result: ViewResult) -> None:
        match result:
            case SeenImage(prepared=prepared, look=look):
                if prepared is not self.prepared:
                    self.prepared = prepared
                    self.image_changed.emit()
                if look is not None:
                    self.look, self._look_stale = look, False
                    self.look_changed.emit()
            case MapReady(key=key, map=attribution, intact=intact):
                (self.intact_maps if intact else self.maps)[key] = attribution
                self.attribution_changed.emit(key)
            case _:
                raise TypeError(f"a view job sent {result!r}: add a case for it here")

    # -- the neuron view ----------------------------------------------------------------------

    def pick_channel(self, level: str, channel: int) -> None:
        """Attribute ``channel`` of ``level`` to the image's pixels (the neuron view)."""
        if (level, channel) != self.channel:
            self.channel, self.neuron = (level, int(channel)), None
            self.neuron_changed.emit()
            self._refresh_neuron()

    def set_neuron_method(self, name: str) -> None:
        """Neuron Gradient or Neuron Integrated Gradients (a method with ``uses_channel``)."""
        name = method_spec(name).name
        if name != self.neuron_method:
            self.neuron_method, self.neuron = name, None
            self.neuron_changed.emit()
            self._refresh_neuron()

    def _refresh_neuron(self) -> None:
        if self._neuron_job is not None:
            self._neuron_job.cancel()
            self._neuron_job = None
        ins, image = self.inspector, self.image
        if ins is None or image is None or self.channel is None:
            return
        level, channel = self.channel
        job = partial(
            tasks.neuron,
            inspector=ins,
            image=image,
            prepared=self.prepared,
            method=self.neuron_method,
            level=level,
            channel=channel,
        )
        self._neuron_job = self.worker.submit(
            job,
            f"{METHODS[self.neuron_method].label} of {level}-level channel {channel}",
            on_done=self._on_neuron,
            on_failed=lambda msg: self.problem.emit("Cannot attribute the channel", msg),
        )

    def _on_neuron(self, r: NeuronReady) -> None:
        if (r.level, r.channel) == self.channel and r.map.method == self.neuron_method:
            self.neuron = r
            self.neuron_changed.emit()

    # -- the studies --------------------------------------------------------------------------

    def run_lesion(self, limit: int | None) -> Job | None:
        """Veit et al.'s lesion study of the net as switched now, on the test split, in the
        study's thread (None: no net or test images yet, or a study is running)."""
        if self.loaded is None or self.data is None:
            return None
        return self.study.run(self.loaded, self.data, switches_of(self.blocks), limit)

    def run_features(self, limit: int, k: int) -> Job | None:
        """What each channel sees: the feature pass of the net as switched now over ``limit``
        test images, in its own thread (None: no net or test images, or a pass is running)."""
        if self.loaded is None or self.data is None:
            return None
        return self.features.run(self.loaded, self.data, switches_of(self.blocks), limit=limit, k=k)

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Cancel every job and end every thread (the window is closing)."""
        ok = self.worker.shutdown(timeout)
        return all([study.shutdown(timeout) for study in self.studies]) and ok  # a list: every one ends
