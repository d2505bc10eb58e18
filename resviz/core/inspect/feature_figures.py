"""The "what this channel sees" figure: a grid of receptive-field crops per channel.

Zeiler & Fergus (2014, arXiv:1311.2901, Fig. 2) show each feature as a 3 x 3 grid of the
patches that excite it most; here the most active channels of each level stand side by
side, low to high, so the patches grow with the receptive field (:mod:`.receptive`) and the
reader sees edges and colours become parts and objects. Numpy and matplotlib only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .features import LevelTopActivations, TopActivations
from .figures import _figure

__all__ = ["channel_mosaic", "features_figure"]

_GAP = 255  # white lines between patches


def channel_mosaic(level: LevelTopActivations, channel: int, *, gap: int = 1) -> np.ndarray:
    """One channel's k patches as one H x W x 3 uint8 image, a near-square grid, best first.

    Entries where the channel did not respond (and a dead channel's all) stay white.
    """
    k = level.values.shape[1]
    side = level.patches.shape[2]
    cols = math.ceil(math.sqrt(k))
    rows = math.ceil(k / cols)
    out = np.full((rows * (side + gap) - gap, cols * (side + gap) - gap, 3), _GAP, np.uint8)
    for j in np.flatnonzero(level.valid[channel]):
        r, c = divmod(int(j), cols)
        out[r * (side + gap) : r * (side + gap) + side, c * (side + gap) : c * (side + gap) + side] = level.patches[
            channel, j
        ]
    return out


def _caption(level: LevelTopActivations, channel: int) -> str:
    if level.dead[channel]:
        return f"#{channel}: constant zero,\nno patches"
    return f"#{channel}  mean {level.mean[channel]:.2f}\nmax {level.values[channel, 0]:.2f}"


def _header(level: LevelTopActivations) -> str:
    dead = int(level.dead.sum())
    f = level.field
    return (
        f"{level.level} level ({level.module})\n{level.channels} channels"
        + (f", {dead} constant zero" if dead else "")
        + f"\nfield {f.size} x {f.size} px, jump {f.jump}"
    )


def features_figure(result: TopActivations, *, channels: int = 8, levels: Sequence[str] | None = None, title: str = ""):
    """The ``channels`` most active channels of each level (columns), their patch grids.

    With one level the channels fill a grid of up to four columns instead.
    """
    chosen = [result[lv] for lv in (levels or [lv.level for lv in result.levels])]
    picks = [lv.ranked(channels) for lv in chosen]
    if len(chosen) == 1:
        n = len(picks[0])
        ncols = min(4, n)
        nrows = math.ceil(n / ncols)
        cells = [(chosen[0], int(c), i // ncols, i % ncols) for i, c in enumerate(picks[0])]
    else:
        ncols, nrows = len(chosen), max(len(p) for p in picks)
        cells = [
            (lv, int(c), i, j) for j, (lv, p) in enumerate(zip(chosen, picks, strict=False)) for i, c in enumerate(p)
        ]
    fig = _figure(2.1 * ncols + 0.4, 1.9 * nrows + 1.0)
    fig.set_layout_engine("constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for lv, channel, i, j in cells:
        ax = axes[i, j]
        ax.imshow(channel_mosaic(lv, channel), interpolation="nearest")
        header = _header(lv) + "\n\n" if i == 0 and len(chosen) > 1 else ""
        ax.set_title(header + _caption(lv, channel), fontsize=7)
    head = title or "What each channel sees"
    one = "\n" + _header(chosen[0]).replace("\n", ", ") if len(chosen) == 1 else ""
    fig.suptitle(
        f"{head}: for each channel, the {result.k} of {result.n_images} test images where it responds most,\n"
        f"cropped to the unit's receptive field (grey: off the image){one}",
        fontsize=8,
    )
    return fig
