"""The attribution methods by name, without importing torch or Captum.

The app fills its method menu from :data:`METHODS` before torch has loaded; the CLI takes
the same names for ``--method``. Each method is a Captum class (see
:mod:`resviz.core.inspect.attribution`): we wrap Captum, never re-implement it.

Three kinds (issue #13): *layer* methods attribute to a level's output and are shown side by
side across low/mid/high (Grad-CAM, conductance, ...); *input* methods attribute to the
pixels (saliency, IG, DeepLift, ...); *neuron* methods attribute one channel of a level to
the pixels (NeuronGradient, NeuronIntegratedGradients), so they need a level and a channel.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError

__all__ = ["MethodSpec", "METHODS", "STEP_METHODS", "method_spec"]


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
    #: True when the result is one map of the level (N x 1 x H x W after upsampling) rather
    #: than one value per input pixel and colour (N x C x H x W).
    layer_map: bool = False
    #: False for methods that explain an activation, not a class (no target class).
    uses_target: bool = True
    #: True for neuron methods: they explain one channel of the level.
    uses_channel: bool = False
    #: For NoiseTunnel: the Captum class it smooths (SmoothGrad over Saliency or IG).
    inner: str | None = None


METHODS: dict[str, MethodSpec] = {
    m.name: m
    for m in (
        MethodSpec("gradcam", "Grad-CAM", "LayerGradCam", True, "positive", layer_map=True),
        MethodSpec("guided-gradcam", "Guided Grad-CAM", "GuidedGradCam", True, "absolute_value"),
        MethodSpec("saliency", "Saliency", "Saliency", False, "absolute_value"),
        MethodSpec("ig", "Integrated Gradients", "IntegratedGradients", False, "absolute_value"),
        MethodSpec("inputxgrad", "Input x Gradient", "InputXGradient", False, "absolute_value"),
        MethodSpec("guided-backprop", "Guided Backprop", "GuidedBackprop", False, "absolute_value"),
        MethodSpec("occlusion", "Occlusion", "Occlusion", False, "positive"),
        # Layer methods: signed evidence per place of the level's map, summed over channels.
        MethodSpec("conductance", "Layer Conductance", "LayerConductance", True, "all", layer_map=True),
        MethodSpec("layer-ig", "Layer Integrated Gradients", "LayerIntegratedGradients", True, "all", layer_map=True),
        MethodSpec(
            "layer-gradxact", "Layer Gradient x Activation", "LayerGradientXActivation", True, "all", layer_map=True
        ),
        MethodSpec("layer-deeplift", "Layer DeepLift", "LayerDeepLift", True, "all", layer_map=True),
        MethodSpec(
            "layer-activation",
            "Layer Activation",
            "LayerActivation",
            True,
            "positive",
            layer_map=True,
            uses_target=False,
        ),
        # Input methods.
        MethodSpec("deeplift", "DeepLift", "DeepLift", False, "absolute_value"),
        MethodSpec("gradientshap", "GradientShap", "GradientShap", False, "absolute_value"),
        MethodSpec("smoothgrad", "SmoothGrad (Saliency)", "NoiseTunnel", False, "absolute_value", inner="Saliency"),
        MethodSpec(
            "smoothgrad-ig",
            "SmoothGrad (Integrated Gradients)",
            "NoiseTunnel",
            False,
            "absolute_value",
            inner="IntegratedGradients",
        ),
        # Neuron methods: one channel of a level, attributed to the pixels.
        MethodSpec(
            "neuron-gradient",
            "Neuron Gradient",
            "NeuronGradient",
            True,
            "absolute_value",
            uses_target=False,
            uses_channel=True,
        ),
        MethodSpec(
            "neuron-ig",
            "Neuron Integrated Gradients",
            "NeuronIntegratedGradients",
            True,
            "absolute_value",
            uses_target=False,
            uses_channel=True,
        ),
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
    "layerconductance": "conductance",
    "layer-conductance": "conductance",
    "layerintegratedgradients": "layer-ig",
    "layer-integrated-gradients": "layer-ig",
    "layergradientxactivation": "layer-gradxact",
    "layer-gradient-x-activation": "layer-gradxact",
    "layerdeeplift": "layer-deeplift",
    "layeractivation": "layer-activation",
    "activation": "layer-activation",
    "gradient-shap": "gradientshap",
    "smoothgrad-saliency": "smoothgrad",
    "noisetunnel": "smoothgrad",
    "neurongradient": "neuron-gradient",
    "neuronintegratedgradients": "neuron-ig",
    "neuron-integrated-gradients": "neuron-ig",
}

#: Methods whose cost grows with ``n_steps`` (Integrated Gradients and its relatives).
STEP_METHODS: frozenset[str] = frozenset({"ig", "conductance", "layer-ig", "smoothgrad-ig", "neuron-ig"})


def method_spec(name: str) -> MethodSpec:
    """The method called ``name`` (case and ``_``/``-`` do not matter), or ConfigError."""
    key = str(name).strip().lower().replace("_", "-")
    key = _ALIASES.get(key, key)
    if key not in METHODS:
        raise ConfigError(f"unknown attribution method {name!r}: choose one of {', '.join(METHODS)}")
    return METHODS[key]
