"""The Inspect tab's state: the loaded net, the image, what the net makes of it, the lesions.

:class:`InspectSession` is the model the tab's views subscribe to (DESIGN.md: views take
the object they show and follow its signals). It holds no ML logic: it sends every
:class:`~resviz.core.inspect.Inspector` call to one worker thread, in order
(:mod:`resviz.gui.inspect.jobs`), and a new image or setting cancels the stale job
(issue 5). Cached attributions come back at once from the Inspector's LRU.

The lesion study runs in a second thread, on its own copy of the weights with the
switches as they were when it started, so the user can go on poking at the net for the
minute a full study of a deep net takes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6 import QtCore

from ...core.archs import LEVELS
from ...core.inspect.methods import METHODS, method_spec
from ..engine import EngineLoader
from ..worker import _lower_thread_priority
from .jobs import Job, JobWorker
from .sources import (
    DataChoice,
    Gallery,
    apply_switches,
    complete,
    default_data,
    gallery_of,
    leave_the_gui_a_core,
    warm_display,
)

__all__ = ["InspectSession", "INPUT_KEY"]

#: The key of the one map an input-space method gives (layer methods give one per level).
INPUT_KEY = "input"
class InspectSession(QtCore.QObject):
    """What the Inspect tab shows; every change is announced by a signal."""

    model_changed = QtCore.Signal()  # loaded, inspector, blocks
    data_changed = QtCore.Signal()  # data, gallery
    image_changed = QtCore.Signal()  # image (decoded), prepared (as the net sees it)
    look_changed = QtCore.Signal()  # look: predictions and activations
    attribution_changed = QtCore.Signal(str)  # maps[key] arrived ("" : maps cleared)
    settings_changed = QtCore.Signal()  # method or target
    blocks_changed = QtCore.Signal()  # blocks: the switches
    lesion_changed = QtCore.Signal()  # lesion result, running or stale
    lesion_progress = QtCore.Signal(int, int)  # done, total
    problem = QtCore.Signal(str, str)  # title, message (what went wrong, what to do)
    image_problem = QtCore.Signal(str)  # an image could not be used; the one shown stays
    message = QtCore.Signal(str)  # one line of news
    busy_changed = QtCore.Signal(bool)

    def __init__(self, engine: EngineLoader, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.worker = JobWorker("inspect", setup=leave_the_gui_a_core, parent=self)
        self.lesion_worker = JobWorker("lesion", setup=_lower_thread_priority, parent=self)
        self.worker.busy_changed.connect(self.busy_changed)
        self.loaded: Any = None  # LoadedModel, completed from the data set
        self.inspector: Any = None
        self.data: Any = None  # DataSet
        self.data_choice: DataChoice | None = None
        self.gallery: Gallery | None = None
        self.image: Any = None  # DecodedImage
        self.prepared: Any = None  # PreparedImage for the loaded net
        self.look: Any = None
        self.maps: dict[str, Any] = {}  # level or INPUT_KEY -> AttributionMap
        self.method = "gradcam"
        self.target: int | None = None  # None: the top-1 prediction
        self.blocks: list = []  # BlockInfo, depth order, switches as they are now
        self.original_blocks: list = []
        self.lesion: Any = None  # LesionResult
        self.lesion_switches: list[tuple[bool, bool]] = []
        self.lesion_stale = False
        self._raw: Any = None  # LoadedModel as read from the file
        self._view_job: Job | None = None
        self._lesion_job: Job | None = None
        self._look_stale = True
        self._lesion_copy: tuple[Any, Any] | None = None  # (loaded, Inspector): lesion thread only
        if engine.is_ready:
            self._on_engine_ready()
        engine.ready.connect(self._on_engine_ready)

    def _on_engine_ready(self) -> None:
        self.worker.start()
        self.lesion_worker.start()

    # -- state ----------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self.worker.busy

    @property
    def lesion_running(self) -> bool:
        return self._lesion_job is not None

    @property
    def classes(self) -> list[str]:
        return list(self.loaded.classes) if self.loaded is not None else []

    def switches_changed(self) -> int:
        """How many switches differ from the net as loaded."""
        return sum(
            (a.shortcut_on != b.shortcut_on) + (a.residual_on != b.residual_on)
            for a, b in zip(self.blocks, self.original_blocks)
        )

    # -- the model --------------------------------------------------------------------------

    def load_model(self, source: str | Path, *, arch: str | None = None, data: DataChoice | None = None) -> Job:
        """Load weights (a file, a run folder, torchvision weights by name) in the worker."""
        arch = (arch or "").strip() or None
        name = Path(str(source)).name or str(source)
        fallback = self.data_choice

        def job(j: Job):
            from ...core.inspect import Inspector, load_model

            raw = load_model(source, arch=arch)
            j.token.check()
            loaded, dataset, choice, notes = complete(raw, data or default_data(raw, fallback))
            j.token.check()
            inspector = Inspector(loaded)
            warm_display()
            return raw, loaded, dataset, choice, notes, inspector, inspector.blocks(), gallery_of(dataset)

        def failed(message: str) -> None:
            self.problem.emit("Cannot load the model", message)
            # The net shown stays: finish what the load's cancelling cut short (from the
            # cache where it had got that far).
            self._refresh()

        self._cancel_view()  # the view of the net about to be replaced: not worth finishing
        waiting = "" if self.engine.is_ready else " (once torch has loaded)"
        self.message.emit(f"loading {name}{waiting} …")
        return self.worker.submit(job, f"loading {name}", on_done=self._on_loaded, on_failed=failed)

    def _on_loaded(self, result) -> None:
        raw, loaded, dataset, choice, notes, inspector, blocks, gallery = result
        self.cancel_lesion()  # a study of the net shown before: its result would mislead
        self._raw, self.loaded, self.inspector = raw, loaded, inspector
        self.blocks, self.original_blocks = list(blocks), list(blocks)
        self.target, self.prepared, self.look, self.maps = None, None, None, {}
        self._look_stale = True
        self.lesion, self.lesion_stale, self.lesion_switches = None, False, []
        self.model_changed.emit()
        self.blocks_changed.emit()
        self.lesion_changed.emit()
        self.settings_changed.emit()
        self.look_changed.emit()
        self.attribution_changed.emit("")
        self._set_data(dataset, choice, gallery)
        self.message.emit(f"loaded {loaded.describe()}" + "".join(f"; {n}" for n in notes + loaded.notes))
        if self.image is not None:
            self._refresh()

    def set_data(self, choice: DataChoice) -> Job | None:
        """Use other test images (gallery and lesion study); a bare state dict takes their
        class names and input mean, so it is completed again from the new set."""
        raw, current = self._raw, self.loaded
        switches = [(b.shortcut_on, b.residual_on) for b in self.blocks]

        def job(j: Job):
            from ...core.inspect.datasets import load_data_for

            if raw is None:
                from ...core.data import load_dataset

                dataset = load_dataset(choice.spec, root=choice.root, size=choice.size)
                return None, None, dataset, gallery_of(dataset)
            loaded, dataset = load_data_for(raw, choice.spec, root=choice.root, size=choice.size)
            inspector = None
            if loaded.classes != current.classes or loaded.preprocess.key != current.preprocess.key:
                from ...core.inspect import Inspector

                inspector = Inspector(loaded)
                apply_switches(inspector, switches)
            return loaded, inspector, dataset, gallery_of(dataset)

        def done(result) -> None:
            loaded, inspector, dataset, gallery = result
            if self._raw is not raw:
                return  # another net arrived meanwhile, with its own test images
            if inspector is not None:
                self.loaded, self.inspector = loaded, inspector
                self.prepared, self.look, self.maps, self._look_stale = None, None, {}, True
                self.model_changed.emit()
                self._refresh()
            self._set_data(dataset, choice, gallery)

        self.message.emit(f"loading the test images of {choice.label} …")
        return self.worker.submit(
            job, f"loading {choice.label}", on_done=done,
            on_failed=lambda msg: self.problem.emit("Cannot load these test images", msg),
        )

    def _set_data(self, dataset, choice: DataChoice, gallery: Gallery) -> None:
        self.data, self.data_choice, self.gallery = dataset, choice, gallery
        self.data_changed.emit()

    # -- the image --------------------------------------------------------------------------

    def open_image(self, source: str | Path | bytes, name: str | None = None) -> Job:
        """Decode an image file (or the bytes of a pasted one) in the worker, then show it."""
        label = name or (Path(source).name if not isinstance(source, bytes) else "the pasted image")

        def job(j: Job):
            from ...core.inspect.images import decode_image

            return decode_image(source, name=name)

        # The image shown now stays until the new one has decoded: a bad file loses nothing.
        return self.worker.submit(
            job, f"decoding {label}", on_done=self.set_image,
            on_failed=self.image_problem.emit,
        )

    def set_image(self, image) -> None:
        """Show a decoded image (a :class:`~resviz.core.inspect.DecodedImage`)."""
        self.image, self.prepared, self.look = image, None, None
        self.target, self.maps = None, {}
        self._look_stale = True
        self.image_changed.emit()
        self.look_changed.emit()
        self.attribution_changed.emit("")
        self.settings_changed.emit()
        if image.notes:
            self.message.emit(f"{image.name}: " + "; ".join(image.notes))
        if self.inspector is None:
            self.message.emit("load a model to see what it makes of this image (File > Open model…)")
        self._refresh()

    def pick_gallery(self, index: int) -> None:
        """Show test image ``index`` of the gallery."""
        from ...core.inspect.images import DecodedImage

        g = self.gallery
        if g is None or not 0 <= index < len(g.images):
            return
        label = g.classes[g.labels[index]] if g.labels[index] < len(g.classes) else str(g.labels[index])
        self.set_image(DecodedImage.from_array(g.images[index], name=f"{g.name} test image {index} (labelled {label})"))

    # -- settings -------------------------------------------------------------------------

    def set_method(self, name: str) -> None:
        name = method_spec(name).name
        if name != self.method:
            self.method, self.maps = name, {}
            self.attribution_changed.emit("")
            self.settings_changed.emit()
            self._refresh()

    def set_target(self, index: int | None) -> None:
        """The class to attribute (None: the top-1 prediction)."""
        if index != self.target:
            self.target = index
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
        self._switch(lambda ins: ins.set_residual(index, on),
                     f"residual branch of block {index} {'restored' if on else 'deleted'}")

    def reset_switches(self) -> None:
        """Every switch back to the net as loaded."""
        self._switch(lambda ins: ins.reset(), "every switch as loaded")

    def _switch(self, change, label: str) -> None:
        ins = self.inspector
        if ins is None:
            return

        def job(j: Job):
            change(ins)
            return ins.blocks()

        def done(blocks) -> None:
            if ins is self.inspector:
                self.blocks = list(blocks)
                self.blocks_changed.emit()
                self.lesion_stale = self.lesion is not None and self._switch_state() != self.lesion_switches
                self.lesion_changed.emit()

        # A switch is state, never stale: its job is not cancelled; the view after it is.
        self.worker.submit(job, label, on_done=done)
        self._look_stale = True
        self._refresh()

    def _switch_state(self) -> list[tuple[bool, bool]]:
        return [(b.shortcut_on, b.residual_on) for b in self.blocks]

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
        method, target, need_look = self.method, self.target, self._look_stale
        prepared = self.prepared if self.prepared is not None and ins is self.inspector else None

        def job(j: Job):
            p = prepared or ins.prepare(image)
            # One hand-over for both: each costs the GUI thread a wait for the GIL.
            look = ins.look(p) if need_look else None
            if prepared is None or look is not None:
                j.emit(("look", p, look))
            spec = method_spec(method)
            for level in LEVELS if spec.uses_level else (None,):
                j.token.check()
                j.emit(("map", level or INPUT_KEY, ins.attribute(p, method, level, target, token=j.token)))

        self._view_job = self.worker.submit(
            job, f"{METHODS[method].label} for {image.name}", on_partial=self._on_view_partial,
            on_failed=lambda msg: self.problem.emit("Cannot attribute", msg),
        )

    def _on_view_partial(self, payload) -> None:
        kind = payload[0]
        if kind == "look":
            _, prepared, look = payload
            if prepared is not self.prepared:
                self.prepared = prepared
                self.image_changed.emit()
            if look is not None:
                self.look, self._look_stale = look, False
                self.look_changed.emit()
        elif kind == "map":
            self.maps[payload[1]] = payload[2]
            self.attribution_changed.emit(payload[1])

    # -- the lesion study -------------------------------------------------------------------

    def run_lesion(self, limit: int | None) -> Job | None:
        """Veit et al.'s lesion study on the test split, in the lesion thread."""
        if self.loaded is None or self.data is None or self._lesion_job is not None:
            return None
        loaded, data, switches = self.loaded, self.data, self._switch_state()

        def job(j: Job):
            from ...core.inspect.evaluation import check_classes

            check_classes(loaded.model, loaded.classes, data.classes, data.name)
            ins = self._lesion_inspector(loaded)
            apply_switches(ins, switches)
            last = [-1]

            def progress(done: int, total: int) -> None:
                pct = int(1000 * done / max(total, 1))
                if pct != last[0]:  # at most a thousand signals, whatever the net's depth
                    last[0] = pct
                    j.emit((done, total))

            return ins.lesion_study(data.test, limit=limit, token=j.token, progress=progress)

        def done(result) -> None:
            self._lesion_job = None
            self.lesion, self.lesion_switches = result, switches
            self.lesion_stale = switches != self._switch_state()
            self.lesion_changed.emit()
            self.message.emit(
                f"lesion study of {result.arch} on {result.n_images} test images in {result.seconds:.1f} s"
            )

        def ended(msg: str | None = None) -> None:
            self._lesion_job = None
            self.lesion_changed.emit()
            if msg is None:
                self.message.emit("lesion study cancelled")
            else:
                self.problem.emit("The lesion study stopped", msg)

        self._lesion_job = self.lesion_worker.submit(
            job, "lesion study", on_done=done, on_partial=lambda p: self.lesion_progress.emit(*p),
            on_failed=ended, on_cancelled=ended,
        )
        self.lesion_changed.emit()
        return self._lesion_job

    def cancel_lesion(self) -> None:
        if self._lesion_job is not None:
            self._lesion_job.cancel()

    def _lesion_inspector(self, loaded):
        """The lesion thread's own copy of the net (made once per loaded model)."""
        from ...core.inspect import Inspector

        if self._lesion_copy is None or self._lesion_copy[0] is not loaded:
            self._lesion_copy = (loaded, Inspector(loaded))
        return self._lesion_copy[1]

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Cancel every job and end both threads (the window is closing)."""
        ok = self.worker.shutdown(timeout)
        return self.lesion_worker.shutdown(timeout) and ok
