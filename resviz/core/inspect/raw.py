"""The raw numbers behind an attribution figure, for checking against Captum or plotting elsewhere (issue #20).

``resviz attribute --npz FILE`` writes a NumPy archive, ``--json FILE`` the same as JSON:
the net's input (normalised, C x H x W) and the pixels it sees (H x W x 3, uint8), the
softmax probability of every class in class order, the class names, the target explained,
and per level (or for the input pixels) the attribution exactly as Captum returned it
(upsampled to the input for layer methods, C x H x W float32) beside its display heatmap
(H x W, normalised as the figure draws it). Written to a temporary name and moved into
place, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..write_errors import discard, write_error

__all__ = ["attribution_arrays", "save_npz", "save_json"]


def _key(level: str | None) -> str:
    return level or "input"


def attribution_arrays(
    *,
    net_input: np.ndarray,
    display: np.ndarray,
    probabilities: np.ndarray,
    classes: Sequence[str],
    maps: Sequence[Any],
) -> dict[str, np.ndarray]:
    """One flat dict of arrays: ``attribution_<level>`` and ``heatmap_<level>`` per map
    (``input`` for pixel methods), and the image, probabilities, classes and target."""
    first = maps[0]
    arrays: dict[str, np.ndarray] = {
        "input": np.asarray(net_input, dtype=np.float32),
        "display": np.asarray(display, dtype=np.uint8),
        "probabilities": np.asarray(probabilities, dtype=np.float32),
        "classes": np.asarray([str(c) for c in classes]),
        "target": np.asarray(first.target, dtype=np.int64),
        "method": np.asarray(first.method),
    }
    for m in maps:
        arrays[f"attribution_{_key(m.level)}"] = np.asarray(m.attribution, dtype=np.float32)
        arrays[f"heatmap_{_key(m.level)}"] = np.asarray(m.heatmap(), dtype=np.float32)
        if m.channel is not None:
            arrays[f"channel_{_key(m.level)}"] = np.asarray(m.channel, dtype=np.int64)
    return arrays


def save_npz(path: str | Path, arrays: dict[str, np.ndarray]) -> Path:
    """``np.savez`` to ``path`` atomically (read back with ``np.load(path)``)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:  # a file object: savez would otherwise append .npz to the name
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except OSError as exc:
        discard(tmp)
        raise write_error(exc, path) from None
    return path


def save_json(path: str | Path, arrays: dict[str, np.ndarray], predictions: Sequence[Any]) -> Path:
    """The arrays as nested lists, with the top predictions spelled out, as JSON."""
    path = Path(path)
    record: dict[str, Any] = {k: v.tolist() for k, v in arrays.items()}
    record["shapes"] = {k: list(v.shape) for k, v in arrays.items() if v.ndim}
    record["predictions"] = [{"index": p.index, "name": p.name, "probability": p.probability} for p in predictions]
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(record))
        os.replace(tmp, path)
    except OSError as exc:
        discard(tmp)
        raise write_error(exc, path) from None
    return path
