"""Captum attributions by method name and level, shaped like Captum's own API.

``Attribution(model, "gradcam", level="mid").attribute(x, target=3)`` builds the Captum
object once and returns attributions at the input's resolution (layer methods are summed
over the level's channels and upsampled with ``LayerAttribution.interpolate``). Nothing
here re-implements an attribution method (DESIGN.md, "Attribution"); this module picks
Captum's class, its layer, and the settings that keep CPU time and memory bounded:

* Integrated Gradients (Sundararajan et al. 2017, arXiv:1703.01365) and its relatives
  (Layer IG, Layer Conductance of Dhamdhere et al. 2018, arXiv:1805.12233, Neuron IG,
  SmoothGrad over IG) evaluate ``n_steps`` scaled inputs; ``internal_batch_size`` caps
  how many go through the net at once, so a 224 x 224 ResNet-50 never holds 50 graphs.
* Grad-CAM (Selvaraju et al. 2017, arXiv:1610.02391) keeps only positive evidence: the ReLU
  of its eq. 2 (``relu_attributions=True``; Captum's default leaves it off).
* Occlusion slides a window of about an eighth of the image, half-overlapping, and
  evaluates ``perturbations_per_eval`` occluded copies per forward pass.
* The reference input of IG, DeepLift (Shrikumar et al. 2017, arXiv:1704.02685) and their
  layer versions is Captum's default, zero: for our nets the training mean image (inputs
  are mean-subtracted, section 4.2 of the paper), for torchvision's the ImageNet mean.
* GradientShap (Lundberg & Lee 2017, arXiv:1705.07874) averages over a distribution of
  references: zero and :data:`SHAP_NOISE_BASELINES` Gaussian images of the input's spread.
* SmoothGrad (Smilkov et al. 2017, arXiv:1706.03825) is Captum's NoiseTunnel with noise of
  :data:`NOISE_LEVEL` times the input's range (section 3.2: 10-20 % works best).
* Neuron methods explain one channel's **mean activation over its map**, not its largest
  unit: the mean is a smooth function of the input, so IG's completeness holds (the
  attributions sum to mean(x) - mean(reference)), while the arg-max unit can jump from place
  to place along IG's path; it is also what the activation grid ranks channels by.

Random draws (GradientShap, SmoothGrad) come from generators seeded with ``seed`` on a
forked RNG state, so one image gives one map (results are cached) and the caller's random
state is left as it was.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..errors import ConfigError
from ..limits import check_ig_steps
from ..models import level_module
from .methods import STEP_METHODS, MethodSpec, method_spec

__all__ = ["Attribution", "ig_batch_size", "top1", "level_channels", "NOISE_LEVEL", "SHAP_NOISE_BASELINES"]

#: Pixels per IG chunk: 8 images of 224 x 224 (about 1 GB of ResNet-50 activations).
_IG_PIXEL_BUDGET = 8 * 224 * 224
#: SmoothGrad's noise, as a fraction of the input's range (Smilkov et al. 2017, section 3.2).
NOISE_LEVEL = 0.15
#: GradientShap's references besides zero.
SHAP_NOISE_BASELINES = 4
#: Noisy samples per input: SmoothGrad over Saliency, over IG (each costs n_steps), GradientShap.
_NT_SAMPLES = {"smoothgrad": 16, "smoothgrad-ig": 8, "gradientshap": 16}
#: Captum announces on every call that it hooks the ReLUs (DeepLift, GuidedBackprop).
_HOOK_WARNINGS = ("Setting backward hooks on ReLU", "Setting forward, backward hooks and attributes on non-linear")


def ig_batch_size(n_steps: int, height: int, width: int) -> int:
    """How many of IG's scaled inputs go through the net at once, bounded by pixel count."""
    return max(1, min(n_steps, _IG_PIXEL_BUDGET // max(1, height * width)))


def top1(model: nn.Module, inputs: Tensor) -> Tensor:
    """The predicted class of each input (the default attribution target)."""
    with torch.no_grad():
        return model(inputs).argmax(dim=1)


def level_channels(model: nn.Module, level: str) -> int:
    """How many channels a level's output has (the last conv of its last stage)."""
    convs = [m for m in level_module(model, level).modules() if isinstance(m, nn.Conv2d)]
    return int(convs[-1].out_channels)


def channel_mean(channel: int) -> Callable[[Tensor], Tensor]:
    """Captum's ``neuron_selector`` for one channel's mean activation over its map."""

    def select(out: Tensor) -> Tensor:
        return out[:, channel].mean(dim=(1, 2))

    return select


@contextmanager
def seeded(seed: int, device: torch.device) -> Iterator[None]:
    """Torch's and numpy's global RNGs seeded for a while, then as they were (Captum draws
    GradientShap's and NoiseTunnel's samples from both)."""
    devices = [device] if device.type == "cuda" else []
    state = np.random.get_state()
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        np.random.seed(seed)
        try:
            yield
        finally:
            np.random.set_state(state)


def shap_baselines(x: Tensor) -> Tensor:
    """GradientShap's references: zero and Gaussian images with the input's spread (draws
    from torch's global RNG: call under :func:`seeded`)."""
    noise = torch.randn((SHAP_NOISE_BASELINES, *x.shape[1:]), device=x.device, dtype=x.dtype)
    return torch.cat([torch.zeros_like(x[:1]), noise * x.detach().std()])


def noise_std(x: Tensor) -> float:
    """SmoothGrad's noise level for ``x``: NOISE_LEVEL of its range."""
    return float(NOISE_LEVEL * (x.detach().max() - x.detach().min()))


class Attribution:
    """One Captum method (at one level, for layer and neuron methods) on ``model``."""

    def __init__(
        self,
        model: nn.Module,
        method: str,
        level: str | None = None,
        *,
        n_steps: int = 50,
        internal_batch_size: int | None = None,
        perturbations_per_eval: int = 16,
        channel: int | None = None,
        seed: int = 0,
    ) -> None:
        from captum import attr as captum_attr

        self.model = model
        self.spec: MethodSpec = method_spec(method)
        if self.spec.uses_level and level is None:
            raise ConfigError(f"{self.spec.label} attributes to a level: choose low, mid or high")
        self.level = level if self.spec.uses_level else None
        self.n_steps = check_ig_steps(int(n_steps), "Integrated Gradients steps")
        self.internal_batch_size = internal_batch_size
        self.perturbations_per_eval = int(perturbations_per_eval)
        self.seed = int(seed)
        self.channel = None
        cls = getattr(captum_attr, self.spec.captum)
        self.layer = level_module(model, self.level) if self.spec.uses_level else None
        if self.spec.uses_channel and channel is not None:
            self.channel = self._checked_channel(channel)
        if self.spec.inner:
            self._captum = cls(getattr(captum_attr, self.spec.inner)(model))
        elif self.layer is not None:
            self._captum = cls(model, self.layer)
        else:
            self._captum = cls(model)

    def _checked_channel(self, channel: int) -> int:
        n = level_channels(self.model, self.level)
        if isinstance(channel, bool) or not 0 <= int(channel) < n:
            raise ConfigError(
                f"channel {channel} does not exist at the {self.level} level: it has channels 0 to {n - 1}"
            )
        return int(channel)

    @property
    def options(self) -> dict[str, Any]:
        """The settings that change the result (part of cache keys)."""
        out: dict[str, Any] = {}
        if self.spec.name in STEP_METHODS:
            out["n_steps"] = self.n_steps
        if self.spec.uses_channel:
            out["channel"] = self.channel
        if self.spec.name in _NT_SAMPLES:
            out["seed"] = self.seed
        return out

    def default_channel(self, inputs: Tensor) -> int:
        """The level's most active channel on ``inputs`` (largest mean activation)."""
        from captum.attr import LayerActivation

        with torch.no_grad():
            act = LayerActivation(self.model, self.layer).attribute(inputs.detach())
        return int(act.float().mean(dim=(0, 2, 3)).argmax())

    def attribute(self, inputs: Tensor, target: int | Tensor | None = None) -> Tensor:
        """Attributions for ``target`` (default: each input's top-1 class), at input size.

        Returns N x 1 x H x W for layer methods (``spec.layer_map``), N x C x H x W for the
        others. Neuron methods explain ``channel`` (default: the most active one) and,
        like Layer Activation, take no target.
        """
        spec = self.spec
        if not spec.uses_target:
            target = None
        elif target is None:
            target = top1(self.model, inputs)
        if spec.uses_channel and self.channel is None:
            self.channel = self.default_channel(inputs)
        x = inputs.detach().clone().requires_grad_(True)  # Captum warns on inputs without grad
        with warnings.catch_warnings():
            for message in _HOOK_WARNINGS:
                warnings.filterwarnings("ignore", message=message, category=UserWarning)
            out = self._call(x, target)
        if spec.layer_map:
            from captum.attr import LayerAttribution

            if spec.name != "gradcam":  # Grad-CAM's weighted sum is already one map
                out = out.sum(dim=1, keepdim=True)
            out = LayerAttribution.interpolate(out, tuple(x.shape[-2:]), interpolate_mode="bilinear")
        return out.detach()

    def _steps(self, x: Tensor) -> dict[str, int]:
        h, w = x.shape[-2:]
        return {
            "n_steps": self.n_steps,
            "internal_batch_size": self.internal_batch_size or ig_batch_size(self.n_steps, h, w),
        }

    def _call(self, x: Tensor, target) -> Tensor:
        name, c = self.spec.name, self._captum
        if name == "gradcam":
            return c.attribute(x, target=target, relu_attributions=True)
        if name in ("ig", "conductance", "layer-ig"):
            return c.attribute(x, target=target, **self._steps(x))
        if name == "occlusion":
            k = max(2, min(x.shape[-2:]) // 8)
            stride = max(1, k // 2)
            return c.attribute(
                x,
                target=target,
                sliding_window_shapes=(x.shape[1], k, k),
                strides=(x.shape[1], stride, stride),
                perturbations_per_eval=self.perturbations_per_eval,
            )
        if name == "saliency":
            return c.attribute(x, target=target, abs=True)
        if name == "layer-activation":
            return c.attribute(x)
        if name == "neuron-gradient":
            return c.attribute(x, neuron_selector=channel_mean(self.channel))
        if name == "neuron-ig":
            return c.attribute(x, neuron_selector=channel_mean(self.channel), **self._steps(x))
        if name in _NT_SAMPLES:
            with seeded(self.seed, x.device):
                if name == "gradientshap":
                    return c.attribute(x, baselines=shap_baselines(x), target=target, n_samples=_NT_SAMPLES[name])
                extra = {"abs": True} if name == "smoothgrad" else self._steps(x)
                return c.attribute(
                    x, nt_type="smoothgrad", nt_samples=_NT_SAMPLES[name], stdevs=noise_std(x), target=target, **extra
                )
        # guided-backprop, guided-gradcam, inputxgrad, deeplift, layer-gradxact, layer-deeplift
        return c.attribute(x, target=target)
