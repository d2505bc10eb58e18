"""Attributions made ready to look at: one channel, normalised, and overlaid on the image.

Normalisation follows ``captum.attr.visualization`` (its private ``_normalize_attr``):
sum over colour channels, keep the part of the sign asked for, and divide by the value
below which ``100 - outlier_perc`` % of the total absolute attribution lies, clipping the
few outliers above it to 1. Plain numpy, so the app can re-normalise on a slider without
torch.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError

__all__ = ["SIGNS", "heatmap", "normalize_attr", "overlay", "default_cmap"]

SIGNS: tuple[str, ...] = ("all", "positive", "negative", "absolute_value")


def heatmap(attr, sign: str = "absolute_value", outlier_perc: float = 2.0) -> np.ndarray:
    """An attribution (N=1 x C x H x W, C x H x W or H x W) as H x W in [-1, 1] or [0, 1]."""
    a = attr.detach().cpu().numpy() if hasattr(attr, "detach") else np.asarray(attr)
    a = a.astype(np.float64, copy=False)
    while a.ndim > 3:
        a = a[0]
    if a.ndim == 3:
        a = a.sum(axis=0)  # channels summed, as captum's visualize_image_attr does
    return normalize_attr(a, sign, outlier_perc)


def normalize_attr(attr: np.ndarray, sign: str = "absolute_value", outlier_perc: float = 2.0) -> np.ndarray:
    """Keep ``sign`` of a 2-D attribution and scale so all but the top ``outlier_perc`` % fit."""
    if sign not in SIGNS:
        raise ConfigError(f"unknown sign {sign!r}: choose one of {', '.join(SIGNS)}")
    if not 0 <= outlier_perc < 100:
        raise ConfigError(f"outlier percentage must be in [0, 100), not {outlier_perc}")
    a = np.nan_to_num(np.asarray(attr, dtype=np.float64))
    if sign == "positive":
        a = np.maximum(a, 0)
    elif sign == "negative":
        a = np.minimum(a, 0)
    elif sign == "absolute_value":
        a = np.abs(a)
    values = np.sort(np.abs(a).ravel())
    cumulative = np.cumsum(values)
    if cumulative.size == 0 or cumulative[-1] <= 0:
        return np.zeros_like(a, dtype=np.float32)  # nothing attributed: show nothing
    index = int(np.searchsorted(cumulative, cumulative[-1] * (100.0 - outlier_perc) / 100.0))
    threshold = values[min(index, values.size - 1)]
    scale = threshold if threshold > 0 else values[-1]
    out = np.clip(a / scale, -1.0, 1.0)
    return (-out if sign == "negative" else out).astype(np.float32)


def default_cmap(sign: str) -> str:
    """A diverging map for signed attributions, a sequential one otherwise."""
    return "RdBu_r" if sign == "all" else "inferno"


def overlay(
    image: np.ndarray,
    heat: np.ndarray,
    *,
    cmap: str | None = None,
    alpha: float = 0.5,
    signed: bool | None = None,
) -> np.ndarray:
    """``image`` (H x W x 3 uint8) blended with ``heat`` (H x W) coloured by ``cmap``.

    ``alpha`` is the heatmap's opacity (0: the image only, 1: the heatmap only). Signed
    heatmaps (values below 0, or ``signed=True``) map [-1, 1] onto the colour map, others
    [0, 1].
    """
    import matplotlib

    if not 0.0 <= alpha <= 1.0:
        raise ConfigError(f"opacity must be between 0 and 1, not {alpha}")
    heat = np.asarray(heat, dtype=np.float64)
    image = np.asarray(image)
    if heat.shape != image.shape[:2]:
        raise ValueError(f"heatmap {heat.shape} and image {image.shape[:2]} differ in size")
    if signed is None:
        signed = bool((heat < 0).any())
    name = cmap or ("RdBu_r" if signed else "inferno")
    try:
        colours = matplotlib.colormaps[name]
    except KeyError:
        raise ConfigError(f"unknown colour map {name!r}: try inferno, jet, viridis or RdBu_r") from None
    values = (heat + 1.0) / 2.0 if signed else np.clip(heat, 0.0, 1.0)
    rgb = colours(values)[..., :3] * 255.0
    blended = (1.0 - alpha) * image.astype(np.float64) + alpha * rgb
    return np.clip(blended.round(), 0, 255).astype(np.uint8)
