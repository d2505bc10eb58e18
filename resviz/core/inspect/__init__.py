"""The inspector's core: load a trained net, look into it, cut it (issue 5).

* :func:`load_model` -> :class:`LoadedModel` (our checkpoints, state dicts, torchvision
  weights by name, pytorch_resnet_cifar10 checkpoints), each with its :class:`Preprocess`;
* :func:`decode_image` -> :class:`DecodedImage` (any image file or clipboard bytes, safely);
* :class:`Inspector`: predictions and activations (:meth:`Inspector.look`), Captum
  attributions (:meth:`Inspector.attribute`, cached, cancellable), shortcut surgery, the
  lesion study and the test error, all on its own copy of the weights;
* :class:`Attribution`, :func:`heatmap`, :func:`overlay`: the Captum wrapper and display
  helpers for use without a session;
* :func:`receptive_fields`, :func:`top_activations` -> :class:`TopActivations`: what each
  channel of each level sees (issue 13), and :func:`features_figure` to draw it.

Exports resolve lazily (PEP 562): ``methods``, ``cancel`` and ``images`` import no torch,
so the app can fill its menus and decode a dropped image while torch is still loading.
"""

from __future__ import annotations

from ..._lazy import lazy_exports

_EXPORTS = {
    "METHODS": "methods",
    "MethodSpec": "methods",
    "method_spec": "methods",
    "CancelToken": "cancel",
    "Cancelled": "cancel",
    "DecodedImage": "images",
    "decode_image": "images",
    "IMAGE_FORMATS": "images",
    "Preprocess": "preprocess",
    "PreparedImage": "preprocess",
    "LoadedModel": "loading",
    "load_model": "loading",
    "StateLayout": "statedict",
    "infer_layout": "statedict",
    "Attribution": "attribution",
    "heatmap": "display",
    "normalize_attr": "display",
    "overlay": "display",
    "AttributionCache": "cache",
    "ModelFingerprint": "cache",
    "Prediction": "predict",
    "LevelActivations": "predict",
    "Look": "predict",
    "BlockInfo": "surgery",
    "Surgery": "surgery",
    "LESION_KINDS": "surgery",
    "load_data_for": "datasets",
    "EvalResult": "evaluation",
    "evaluate": "evaluation",
    "LesionResult": "lesion",
    "lesion_study": "lesion",
    "attribution_figure": "figures",
    "lesion_figure": "figures",
    "save_figure": "figures",
    "Inspector": "inspector",
    "AttributionMap": "inspector",
    "ReceptiveField": "receptive",
    "receptive_fields": "receptive",
    "level_field": "receptive",
    "TopActivations": "features",
    "LevelTopActivations": "features",
    "top_activations": "features",
    "features_figure": "feature_figures",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
