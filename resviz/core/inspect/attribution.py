"""Captum attributions by method name and level, shaped like Captum's own API.

``Attribution(model, "gradcam", level="mid").attribute(x, target=3)`` builds the Captum
object once and returns attributions at the input's resolution (layer methods are
upsampled with ``LayerAttribution.interpolate``). Nothing here re-implements an attribution
method (DESIGN.md, "Attribution"); this module picks Captum's class, its layer, and the
settings that keep CPU time and memory bounded:

* Integrated Gradients (Sundararajan et al. 2017, arXiv:1703.01365) evaluates ``n_steps``
  scaled inputs; ``internal_batch_size`` caps how many go through the net at once, so a
  224 x 224 ResNet-50 never holds 50 backward graphs.
* Grad-CAM (Selvaraju et al. 2017, arXiv:1610.02391) keeps only positive evidence: the ReLU
  of its eq. 2 (``relu_attributions=True``; Captum's default leaves it off).
* Occlusion slides a window of about an eighth of the image, half-overlapping, and
  evaluates ``perturbations_per_eval`` occluded copies per forward pass.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch import Tensor, nn

from ..errors import ConfigError
from ..models import level_module
from .methods import MethodSpec, method_spec

__all__ = ["Attribution", "ig_batch_size", "top1"]

#: Pixels per IG chunk: 8 images of 224 x 224 (about 1 GB of ResNet-50 activations).
_IG_PIXEL_BUDGET = 8 * 224 * 224


def ig_batch_size(n_steps: int, height: int, width: int) -> int:
    """How many of IG's scaled inputs go through the net at once, bounded by pixel count."""
    return max(1, min(n_steps, _IG_PIXEL_BUDGET // max(1, height * width)))


def top1(model: nn.Module, inputs: Tensor) -> Tensor:
    """The predicted class of each input (the default attribution target)."""
    with torch.no_grad():
        return model(inputs).argmax(dim=1)


class Attribution:
    """One Captum method (at one level, for layer methods) on ``model``."""

    def __init__(
        self,
        model: nn.Module,
        method: str,
        level: str | None = None,
        *,
        n_steps: int = 50,
        internal_batch_size: int | None = None,
        perturbations_per_eval: int = 16,
    ) -> None:
        from captum import attr as captum_attr

        self.model = model
        self.spec: MethodSpec = method_spec(method)
        if self.spec.uses_level and level is None:
            raise ConfigError(f"{self.spec.label} attributes to a level: choose low, mid or high")
        self.level = level if self.spec.uses_level else None
        if n_steps < 1:
            raise ConfigError(f"Integrated Gradients needs at least 1 step, not {n_steps}")
        self.n_steps = int(n_steps)
        self.internal_batch_size = internal_batch_size
        self.perturbations_per_eval = int(perturbations_per_eval)
        cls = getattr(captum_attr, self.spec.captum)
        if self.spec.uses_level:
            self.layer = level_module(model, self.level)
            self._captum = cls(model, self.layer)
        else:
            self.layer = None
            self._captum = cls(model)

    @property
    def options(self) -> dict[str, Any]:
        """The settings that change the result (part of cache keys)."""
        if self.spec.name == "ig":
            return {"n_steps": self.n_steps}
        return {}

    def attribute(self, inputs: Tensor, target: int | Tensor | None = None) -> Tensor:
        """Attributions for ``target`` (default: each input's top-1 class), at input size.

        Returns N x C x H x W for input-space methods and N x 1 x H x W for Grad-CAM.
        """
        if target is None:
            target = top1(self.model, inputs)
        x = inputs.detach().clone().requires_grad_(True)  # Captum warns on inputs without grad
        name = self.spec.name
        h, w = x.shape[-2:]
        if name == "gradcam":
            from captum.attr import LayerAttribution

            cam = self._captum.attribute(x, target=target, relu_attributions=True)
            out = LayerAttribution.interpolate(cam, (h, w), interpolate_mode="bilinear")
        elif name == "ig":
            batch = self.internal_batch_size or ig_batch_size(self.n_steps, h, w)
            out = self._captum.attribute(x, target=target, n_steps=self.n_steps, internal_batch_size=batch)
        elif name == "occlusion":
            k = max(2, min(h, w) // 8)
            stride = max(1, k // 2)
            out = self._captum.attribute(
                x,
                target=target,
                sliding_window_shapes=(x.shape[1], k, k),
                strides=(x.shape[1], stride, stride),
                perturbations_per_eval=self.perturbations_per_eval,
            )
        elif name in ("guided-backprop", "guided-gradcam"):
            with warnings.catch_warnings():
                # Captum announces, every call, that it hooks the ReLUs and will unhook them.
                warnings.filterwarnings("ignore", message="Setting backward hooks on ReLU", category=UserWarning)
                out = self._captum.attribute(x, target=target)
        elif name == "saliency":
            out = self._captum.attribute(x, target=target, abs=True)
        else:
            out = self._captum.attribute(x, target=target)
        return out.detach()
