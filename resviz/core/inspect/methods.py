"""The attribution methods by name, without importing torch or Captum.

The app fills its method menu from :data:`METHODS` before torch has loaded; the CLI takes
the same names for ``--method``. Each method is a Captum class (see
:mod:`resviz.core.inspect.attribution`): we wrap Captum, never re-implement it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError

__all__ = ["MethodSpec", "METHODS", "method_spec"]


@dataclass(frozen=True)
class MethodSpec:
    """What the app and the CLI need to know about one attribution method."""

    name: str  # the CLI's --method value
    label: str  # what menus and figure titles say
    captum: str  # the Captum class it wraps
    #: True when the method attributes to a level's output (Grad-CAM) and so is shown
    #: side by side across low/mid/high; input-space methods ignore the level.
    uses_level: bool
    #: How to normalise it for display (captum.attr.visualization's sign argument):
    #: "all", "positive", "negative" or "absolute_value".
    sign: str


METHODS: dict[str, MethodSpec] = {
    m.name: m
    for m in (
        MethodSpec("gradcam", "Grad-CAM", "LayerGradCam", True, "positive"),
        MethodSpec("guided-gradcam", "Guided Grad-CAM", "GuidedGradCam", True, "absolute_value"),
        MethodSpec("saliency", "Saliency", "Saliency", False, "absolute_value"),
        MethodSpec("ig", "Integrated Gradients", "IntegratedGradients", False, "absolute_value"),
        MethodSpec("inputxgrad", "Input x Gradient", "InputXGradient", False, "absolute_value"),
        MethodSpec("guided-backprop", "Guided Backprop", "GuidedBackprop", False, "absolute_value"),
        MethodSpec("occlusion", "Occlusion", "Occlusion", False, "positive"),
    )
}

#: Other spellings people type, mapped to the names above.
_ALIASES = {
    "integrated-gradients": "ig",
    "integratedgradients": "ig",
    "input-x-gradient": "inputxgrad",
    "inputxgradient": "inputxgrad",
    "grad-cam": "gradcam",
    "layergradcam": "gradcam",
    "guided-grad-cam": "guided-gradcam",
    "guidedgradcam": "guided-gradcam",
    "guidedbackprop": "guided-backprop",
}


def method_spec(name: str) -> MethodSpec:
    """The method called ``name`` (case and ``_``/``-`` do not matter), or ConfigError."""
    key = str(name).strip().lower().replace("_", "-")
    key = _ALIASES.get(key, key)
    if key not in METHODS:
        raise ConfigError(f"unknown attribution method {name!r}: choose one of {', '.join(METHODS)}")
    return METHODS[key]
