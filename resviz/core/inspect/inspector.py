"""The inspector session: one loaded net, its switches, and everything asked of it.

This is the object the app's inspector tab holds and the CLI verbs use. It works on its
**own copy** of the weights (DESIGN.md, "Attribution"): attributions and lesions never
touch a model a training thread is updating, and the copy's parameters need no gradients
(Captum only needs gradients with respect to inputs and layer outputs), which also spares
every backward pass the weight gradients.

Threading: run every call (switch changes included) in one worker thread, in order; a
lock serialises calls that arrive from elsewhere. Only :meth:`CancelToken.cancel` is meant
for the GUI thread. Attribution results are cached per (model state, image, method, level,
target), so going back to an earlier setting is instant.
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

from ..archs import LEVELS
from ..data import ImageSet
from ..errors import ConfigError
from ..models import ResNet
from .attribution import Attribution
from .cache import AttributionCache, ModelFingerprint
from .cancel import CancelToken, raise_if_cancelled
from .display import heatmap, overlay
from .evaluation import EvalResult, evaluate
from .images import DecodedImage, decode_image
from .lesion import LesionResult, Progress, lesion_study
from .loading import LoadedModel
from .methods import method_spec
from .predict import Look, look
from .preprocess import PreparedImage, Preprocess
from .surgery import BlockInfo, Surgery

if TYPE_CHECKING:
    from ..landscape import Landscape
    from .features import TopActivations

__all__ = ["Inspector", "AttributionMap"]


@dataclass
class AttributionMap:
    """One attribution of one image, at input resolution, with its display form."""

    method: str
    level: str | None
    target: int
    target_name: str
    attribution: np.ndarray  # C x H x W float32, as Captum gave it (upsampled for layers)
    sign: str  # the method's display sign (MethodSpec.sign)
    cached: bool = False
    seconds: float = 0.0
    channel: int | None = None  # the channel a neuron method explained

    def heatmap(self, sign: str | None = None, outlier_perc: float = 2.0) -> np.ndarray:
        """H x W, normalised for display (numpy only; cheap enough for a slider)."""
        return heatmap(self.attribution, sign or self.sign, outlier_perc)

    def overlay(self, image: np.ndarray, *, cmap: str | None = None, alpha: float = 0.5) -> np.ndarray:
        """The heatmap over ``image`` (the prepared image's ``display``), RGB uint8."""
        return overlay(image, self.heatmap(), cmap=cmap, alpha=alpha, signed=self.sign == "all")


class Inspector:
    """A loaded net to look into: predictions, activations, attributions, surgery, lesions."""

    def __init__(self, loaded: LoadedModel, *, cache: AttributionCache | None = None) -> None:
        self.loaded = loaded
        self.model: ResNet = _working_copy(loaded.model)
        self.surgery = Surgery(self.model)
        self.cache = cache if cache is not None else AttributionCache()
        self._fingerprint = ModelFingerprint(self.model)
        self._lock = threading.RLock()

    @classmethod
    def from_model(
        cls, model: ResNet, classes: list[str], preprocess: Preprocess, *, source: str = "training run"
    ) -> Inspector:
        """Inspect a net held elsewhere (a training run): copies its weights and switches.

        Copy between optimizer steps (paused, or from a snapshot the trainer hands over):
        a copy taken mid-step may mix weights of two steps.
        """
        return cls(LoadedModel(model, model.arch_name, list(classes), preprocess, source, "live"))

    # -- what the app shows ---------------------------------------------------------------

    @property
    def classes(self) -> list[str]:
        return self.loaded.classes

    @property
    def preprocess(self) -> Preprocess:
        return self.loaded.preprocess

    def state(self) -> str:
        """The model-state fingerprint: changes with any weight or switch."""
        with self._lock:
            return self._fingerprint()

    def prepare(self, image: DecodedImage | np.ndarray | str | bytes) -> PreparedImage:
        """Decode (if needed) and preprocess one image for this net."""
        if isinstance(image, (str, bytes, bytearray)) or hasattr(image, "__fspath__"):
            image = decode_image(image)
        return self.preprocess.prepare(image)

    def look(self, image: PreparedImage, *, k: int = 5, top_channels: int | None = 16) -> Look:
        """Top-k predictions and the most active channels per level, in one forward pass."""
        with self._lock:
            return look(self.model, image.tensor, self.classes, k=k, top_channels=top_channels)

    def resolve_target(self, image: PreparedImage, target: int | str | None) -> int:
        """A class index from an index, a class name, or None (the top-1 prediction)."""
        if target is None:
            with self._lock:
                key = ("top1", self._fingerprint(), image.digest)
                hit = self.cache.get(key)
                if hit is None:
                    with torch.no_grad():
                        hit = self.model(image.tensor).argmax(dim=1)[:1].numpy()
                    self.cache.put(key, hit)
                return int(hit[0])
        if isinstance(target, str) and not target.strip().lstrip("-").isdigit():
            if target not in self.classes:
                raise ConfigError(
                    f"unknown target class {target!r}: give a class name or an index 0-{len(self.classes) - 1}"
                )
            return self.classes.index(target)
        index = int(target)
        if not 0 <= index < len(self.classes):
            raise ConfigError(f"target {index} is out of range: the net has classes 0 to {len(self.classes) - 1}")
        return index

    def attribute(
        self,
        image: PreparedImage,
        method: str,
        level: str | None = None,
        target: int | str | None = None,
        *,
        token: CancelToken | None = None,
        n_steps: int = 50,
        channel: int | None = None,
    ) -> AttributionMap:
        """One attribution (cached). ``level`` is needed by layer and neuron methods only;
        ``channel`` by neuron methods (default: the level's most active channel here)."""
        spec = method_spec(method)
        if spec.uses_level and level is not None and level not in LEVELS:
            raise ConfigError(f"unknown level {level!r}: choose one of {', '.join(LEVELS)}")
        with self._lock:
            raise_if_cancelled(token)
            index = self.resolve_target(image, target)
            attributor = Attribution(self.model, spec.name, level, n_steps=n_steps, channel=channel)
            if spec.uses_channel and attributor.channel is None:
                attributor.channel = self._top_channel(image, attributor)
            key = AttributionCache.key(
                self._fingerprint(),
                image.digest,
                spec.name,
                attributor.level,
                index if spec.uses_target else -1,
                **attributor.options,
            )
            hit = self.cache.get(key)
            if hit is not None:
                return AttributionMap(
                    spec.name,
                    attributor.level,
                    index,
                    self.classes[index],
                    hit,
                    spec.sign,
                    True,
                    channel=attributor.channel,
                )
            started = time.perf_counter()
            values = attributor.attribute(image.tensor, target=index)[0].float().cpu().numpy()
            self.cache.put(key, values)
            seconds = time.perf_counter() - started
            return AttributionMap(
                spec.name,
                attributor.level,
                index,
                self.classes[index],
                values,
                spec.sign,
                False,
                seconds,
                attributor.channel,
            )

    def _top_channel(self, image: PreparedImage, attributor: Attribution) -> int:
        """The level's most active channel on ``image`` (cached like the top-1 class)."""
        key = ("top-channel", self._fingerprint(), image.digest, attributor.level)
        hit = self.cache.get(key)
        if hit is None:
            hit = np.array([attributor.default_channel(image.tensor)])
            self.cache.put(key, hit)
        return int(hit[0])

    def attribute_levels(
        self, image: PreparedImage, method: str, target: int | str | None = None, *, token: CancelToken | None = None
    ) -> dict[str, AttributionMap]:
        """A level method at low, mid and high (checking ``token`` between levels)."""
        return {lvl: self.attribute(image, method, lvl, target, token=token) for lvl in LEVELS}

    # -- surgery ----------------------------------------------------------------------

    def blocks(self) -> list[BlockInfo]:
        """The block strip: every block in depth order with its switches."""
        with self._lock:
            return self.surgery.blocks()

    def set_shortcut(self, index: int, on: bool) -> None:
        """Switch block ``index``'s shortcut; later results reflect it (new cache keys)."""
        with self._lock:
            self.surgery.set_shortcut(index, on)

    def set_residual(self, index: int, on: bool) -> None:
        """Keep or delete block ``index``'s residual branch."""
        with self._lock:
            self.surgery.set_residual(index, on)

    def reset(self) -> None:
        """Every switch back to how the net was loaded."""
        with self._lock:
            self.surgery.reset()

    def update_weights(self, state_dict: dict[str, Tensor]) -> None:
        """Take newer weights (a training run moved on); switches stay as they are."""
        with self._lock:
            self.model.load_state_dict(state_dict, strict=True)

    # -- whole test sets ----------------------------------------------------------------

    def evaluate(
        self,
        data: ImageSet,
        *,
        limit: int | None = None,
        classes: list[str] | None = None,
        token: CancelToken | None = None,
        progress: Progress | None = None,
    ) -> EvalResult:
        """Test error of the net as it is now (switches included); ``limit`` takes a fixed
        class-stratified subset, counted per class under ``classes`` (default: the net's)."""
        with self._lock:
            return evaluate(
                self.model,
                data,
                self.preprocess,
                limit=limit,
                classes=classes or self.classes,
                token=token,
                progress=progress,
            )

    def lesion_study(
        self,
        data: ImageSet,
        *,
        limit: int | None = None,
        classes: list[str] | None = None,
        token: CancelToken | None = None,
        progress: Progress | None = None,
    ) -> LesionResult:
        """Veit et al.'s single-block lesions of the net as it is now (``limit`` as in :meth:`evaluate`)."""
        with self._lock:
            return lesion_study(
                self.model,
                data,
                self.preprocess,
                limit=limit,
                classes=classes or self.classes,
                token=token,
                progress=progress,
            )

    def top_activations(
        self,
        data: ImageSet,
        *,
        k: int = 9,
        limit: int | None = 10_000,
        levels: tuple[str, ...] = LEVELS,
        token: CancelToken | None = None,
        progress: Progress | None = None,
    ) -> TopActivations:
        """What each channel sees (Zeiler & Fergus), cached per model state and images."""
        from .features import top_activations

        with self._lock:
            return top_activations(
                self.model,
                data,
                self.preprocess,
                levels=levels,
                k=k,
                limit=limit,
                token=token,
                progress=progress,
                cache=self.cache,
                state=self._fingerprint(),
            )

    def landscape(
        self,
        data: ImageSet,
        *,
        dims: int = 2,
        grid: int = 21,
        span: float = 1.0,
        n_images: int = 1000,
        seed: int = 0,
        token: CancelToken | None = None,
        progress: Progress | None = None,
    ) -> Landscape:
        """The loss landscape of the net as it is now (Li et al. 2018) on ``data`` (training
        images), cached; the weights are moved in place and restored exactly."""
        from ..landscape import loss_landscape
        from .features import images_digest
        from .subset import limit_indices

        with self._lock:
            indices = limit_indices(data.labels, n_images)
            key = (
                "landscape",
                self._fingerprint(),
                images_digest(data.images, indices),
                self.preprocess.key,
                dims,
                grid,
                float(span),
                seed,
            )
            hit = self.cache.get(key)
            if hit is not None:
                return hit
            result = loss_landscape(
                self.model,
                data,
                self.preprocess,
                dims=dims,
                grid=grid,
                span=span,
                n_images=n_images,
                seed=seed,
                name=self.model.current_arch,
                token=token,
                progress=progress,
            )
            self.cache.put(key, result)
            return result


def _working_copy(model: ResNet) -> ResNet:
    """A private eval-mode copy whose parameters need no gradients."""
    work = copy.deepcopy(model)
    work.attach_probe(None)
    work.eval()
    for p in work.parameters():
        p.requires_grad_(False)
    return work
