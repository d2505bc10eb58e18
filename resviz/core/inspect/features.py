"""What a channel sees: the test images and places where each channel responds most.

Zeiler & Fergus (2014, arXiv:1311.2901, section 4 and Fig. 2) show, for a feature map, its
top 9 activations over a held-out set, each as the input patch under the unit's receptive
field. One pass does it here for every channel of every level (low, mid, high):

* forward hooks on the level modules, BN in eval mode, under ``inference_mode``;
* each channel keeps its **strongest unit per image** (max over the map, with its place),
  then the ``k`` best images so far: a ``torch.topk`` over the running best and the
  batch's, all on the device, with no host sync until the pass ends. One unit per image is
  Zeiler & Fergus's choice too: their 9 patches of a feature come from 9 images, where the
  top 9 units of a map would mostly be neighbours in one image;
* after the pass, one transfer, and each (image, row, col) is cropped to the unit's
  receptive field (:mod:`.receptive`, computed from the net), from the images as the net
  sees them, padded with grey where the field runs off the image.

Channels are ranked by their mean activation over all images and places (the activation
grid's order, :mod:`.predict`). A channel that is zero on every image and place (a "dead"
ReLU unit) has no image that excites it: it gets no patches and its ``dead`` flag says so.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..archs import LEVELS
from ..data import ImageSet
from ..errors import ConfigError
from ..models import ResNet, level_module
from .cache import AttributionCache, ModelFingerprint
from .cancel import CancelToken, raise_if_cancelled
from .evaluation import evaluating
from .preprocess import Preprocess
from .receptive import ReceptiveField, level_geometry
from .subset import limit_indices

__all__ = ["LevelTopActivations", "TopActivations", "top_activations", "crop_field", "images_digest"]

Progress = Callable[[int, int], None]

#: Zeiler & Fergus's 9, and the pass's default size: CIFAR-10's whole test split.
DEFAULT_K = 9
DEFAULT_LIMIT = 10_000
#: Patches of one level, at most (a ResNet-50's 2048 high-level channels x 9 x 427^2 x 3
#: bytes would be 10 GB): larger fields are stored downscaled; :func:`crop_field` gives
#: any one at full size.
PATCH_BYTES = 32 * 2**20
PAD_VALUE = 128  # neutral grey: the off-image part of a field reads as "nothing there"
_IMAGE_CHUNK = 256  # images put through the net's geometry at once, when cropping
_CROP_CHUNK = 64  # full-size crops held at once before downscaling


@dataclass(frozen=True, eq=False)
class LevelTopActivations:
    """The top-``k`` units of every channel of one level, and their receptive-field crops.

    Arrays are C x k (most active first), read-only. ``valid[c, j]`` is False where the
    activation is not positive (a channel that fired on fewer than ``k`` images); a dead
    channel has no valid entry at all.
    """

    level: str
    module: str  # layer1 ...
    field: ReceptiveField
    map_size: tuple[int, int]
    values: np.ndarray  # float32 C x k
    images: np.ndarray  # int64 C x k: index into the split that was passed
    rows: np.ndarray  # int32 C x k
    cols: np.ndarray  # int32 C x k
    mean: np.ndarray  # float32 C: mean activation over all images and places
    dead: np.ndarray  # bool C: zero on every image and place
    boxes: np.ndarray  # int32 C x k x 4: (top, left, bottom, right) of the field, clipped
    patches: np.ndarray  # uint8 C x k x P x P x 3: the field, grey-padded, P <= field.size
    #: The field is larger than the image, so patches are cut to the image (see crop_field):
    #: a 37 px field on a 16 px digit would otherwise show a tiny digit in a sea of grey.
    cropped_to_image: bool = False

    @property
    def channels(self) -> int:
        return int(self.values.shape[0])

    @property
    def valid(self) -> np.ndarray:
        return self.values > 0

    def ranked(self, n: int | None = None) -> np.ndarray:
        """Channel indices by mean activation, most active first; dead channels last."""
        order = np.lexsort((-self.mean, self.dead))
        return order if n is None else order[:n]

    def patches_of(self, channel: int) -> np.ndarray:
        """The channel's patches where it responded (none for a dead channel)."""
        return self.patches[channel][self.valid[channel]]

    @property
    def nbytes(self) -> int:
        return sum(
            int(getattr(self, f).nbytes)
            for f in ("values", "images", "rows", "cols", "mean", "dead", "boxes", "patches")
        )


@dataclass(frozen=True, eq=False)
class TopActivations:
    """The result of one pass: every requested level's top units, and what they came from."""

    levels: tuple[LevelTopActivations, ...]
    k: int
    indices: np.ndarray  # int64: which images of the split were seen, in order
    key: str  # model state + images + settings (the cache key; "" when not cached)
    seconds: float

    def __getitem__(self, level: str) -> LevelTopActivations:
        for lv in self.levels:
            if lv.level == level:
                return lv
        raise KeyError(level)

    @property
    def n_images(self) -> int:
        return int(self.indices.size)

    @property
    def nbytes(self) -> int:
        return sum(lv.nbytes for lv in self.levels) + int(self.indices.nbytes)


def images_digest(images: Tensor, indices: np.ndarray) -> str:
    """A hash of the chosen images (the images' part of cache keys)."""
    h = hashlib.blake2b(digest_size=12)
    h.update(str(tuple(images.shape)).encode())
    h.update(indices.tobytes())
    chosen = images if indices.size == len(images) else images[torch.from_numpy(indices)]
    h.update(chosen.contiguous().cpu().numpy().tobytes())
    return h.hexdigest()


class _Running:
    """One level's running top-k per channel, kept on the device (no host sync)."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.values: Tensor | None = None
        self.images: Tensor | None = None
        self.places: Tensor | None = None
        self.sum_mean: Tensor | None = None
        self.map_size = (0, 0)

    def update(self, out: Tensor, offset: Tensor) -> None:
        n, c, h, w = out.shape
        self.map_size = (h, w)
        flat = out.detach().float().flatten(2)  # N x C x hw
        best, place = flat.max(dim=2)  # each image's strongest unit, per channel
        kk = min(self.k, n)
        values, local = best.t().topk(kk, dim=1)  # C x kk
        images = offset[local]
        places = place.t().gather(1, local)
        means = flat.mean(dim=2).sum(dim=0)
        if self.values is None:
            self.values, self.images, self.places, self.sum_mean = values, images, places, means
        else:
            values = torch.cat([self.values, values], dim=1)
            images = torch.cat([self.images, images], dim=1)
            places = torch.cat([self.places, places], dim=1)
            self.sum_mean = self.sum_mean + means
        if values.shape[1] > self.k:
            values, pick = values.topk(self.k, dim=1)
            images, places = images.gather(1, pick), places.gather(1, pick)
        self.values, self.images, self.places = values, images, places


def top_activations(
    model: ResNet,
    split: ImageSet,
    preprocess: Preprocess,
    *,
    levels: Sequence[str] = LEVELS,
    k: int = DEFAULT_K,
    limit: int | None = DEFAULT_LIMIT,
    batch_size: int = 250,
    patch_bytes: int = PATCH_BYTES,
    progress: Progress | None = None,
    token: CancelToken | None = None,
    cache: AttributionCache | None = None,
    state: str | None = None,
) -> TopActivations:
    """The ``k`` strongest units of every channel at ``levels`` over up to ``limit`` images.

    ``progress(images_done, images_total)`` after every batch; ``token`` is checked as
    often. With ``cache``, the result is kept under the model's state (``state``: an
    :class:`ModelFingerprint` value; computed when not given), the images and the settings.
    """
    if not 1 <= int(k) <= 1000:
        raise ConfigError(f"k must be a whole number from 1 to 1000, not {k}")
    for level in levels:
        if level not in LEVELS:
            raise ConfigError(f"unknown level {level!r}: choose one of {', '.join(LEVELS)}")
    started = time.perf_counter()
    indices = limit_indices(split.labels, limit)  # the stratified subset of --limit (issue #9)
    key = ""
    if cache is not None:  # hashing 10,000 CIFAR images takes ~50 ms: only when caching
        state = state or ModelFingerprint(model)()
        key = f"features|{state}|{images_digest(split.images, indices)}|{preprocess.key}|{k}|{','.join(levels)}|{patch_bytes}"
        hit = cache.get(key)
        if hit is not None:
            return hit
    running = _pass(model, split, preprocess, indices, levels, int(k), batch_size, progress, token)
    raise_if_cancelled(token)
    size = tuple(preprocess.geometry(split.images[:1]).shape[-2:])
    result_levels = []
    for level in levels:
        geo = level_geometry(model, level, size)
        result_levels.append(_finish(level, geo, running[level], split, preprocess, indices, size, patch_bytes, token))
    result = TopActivations(tuple(result_levels), int(k), _readonly(indices), key, time.perf_counter() - started)
    if cache is not None:
        cache.put(key, result)
    return result


def _pass(model, split, preprocess, indices, levels, k, batch_size, progress, token) -> dict[str, _Running]:
    device = next(model.parameters()).device
    running = {level: _Running(k) for level in levels}
    offset: list[Tensor] = []
    handles = []
    for level in levels:

        def hook(_m, _inp, out, run=running[level]):
            run.update(out, offset[0])

        handles.append(level_module(model, level).register_forward_hook(hook))
    all_idx = torch.from_numpy(indices)
    whole = indices.size == len(split)  # then batches are slices, not gathered copies
    try:
        with evaluating(model):
            for i in range(0, len(indices), batch_size):
                raise_if_cancelled(token)
                idx = all_idx[i : i + batch_size]
                batch = split.images[i : i + batch_size] if whole else split.images[idx]
                offset[:] = [idx.to(device)]
                model(preprocess.batch(batch).to(device))
                if progress:
                    progress(i + len(idx), len(indices))
    finally:
        for h in handles:
            h.remove()
    return running


def _finish(level, geo, run: _Running, split, preprocess, indices, size, patch_bytes, token) -> LevelTopActivations:
    """One transfer to the host, then the crops."""
    n_seen = len(indices)
    values = run.values.cpu().numpy().astype(np.float32)
    images = run.images.cpu().numpy().astype(np.int64)
    places = run.places.cpu().numpy().astype(np.int64)
    mean = (run.sum_mean / n_seen).cpu().numpy().astype(np.float32)
    c, kk = values.shape
    if kk < run.k:  # fewer images than k: pad with entries that are not valid
        pad = run.k - kk
        values = np.concatenate([values, np.full((c, pad), -np.inf, np.float32)], axis=1)
        images = np.concatenate([images, np.zeros((c, pad), np.int64)], axis=1)
        places = np.concatenate([places, np.zeros((c, pad), np.int64)], axis=1)
    w = run.map_size[1]
    rows, cols = (places // w).astype(np.int32), (places % w).astype(np.int32)
    valid = values > 0
    dead = ~valid.any(axis=1)  # post-ReLU maps: a max of 0 means 0 everywhere
    field = geo.field
    h_img, w_img = size
    fit = field.size > min(h_img, w_img)
    side = _patch_side(min(field.size, h_img, w_img) if fit else field.size, c * run.k, patch_bytes)
    boxes = np.zeros((c, run.k, 4), np.int32)
    patches = np.full((c, run.k, side, side, 3), PAD_VALUE, np.uint8)
    chs, js = np.nonzero(valid)
    for ch, j in zip(chs, js, strict=True):
        boxes[ch, j] = field.box(int(rows[ch, j]), int(cols[ch, j]), h_img, w_img)
    _crop_into(patches, field, chs, js, images, rows, cols, split.images, preprocess, token, fit)
    return LevelTopActivations(
        level,
        geo.name,
        field,
        geo.map_size,
        *map(_readonly, (values, images, rows, cols, mean, dead, boxes, patches)),
        cropped_to_image=fit,
    )


def _crop_into(
    patches, field, chs, js, images, rows, cols, source: Tensor, preprocess: Preprocess, token, fit: bool = False
) -> None:
    """Cut every valid (channel, j) entry's field into ``patches``, downscaled if need be.

    Images go through the net's geometry 256 at a time and crops are resized 64 at a time,
    so a ResNet-50's 18,000 patches of 427 px never sit in memory at full size together.
    """
    side = patches.shape[2]
    order = np.argsort(images[chs, js], kind="stable")
    chs, js = chs[order], js[order]
    img_of = images[chs, js]
    wanted = np.unique(img_of)
    for start in range(0, wanted.size, _IMAGE_CHUNK):
        raise_if_cancelled(token)
        group = wanted[start : start + _IMAGE_CHUNK]
        pictures = _as_seen(source, group, preprocess)  # uint8 n x H x W x 3
        where = {int(i): n for n, i in enumerate(group)}
        lo = int(np.searchsorted(img_of, group[0], side="left"))
        hi = int(np.searchsorted(img_of, group[-1], side="right"))
        for first in range(lo, hi, _CROP_CHUNK):
            sel = range(first, min(hi, first + _CROP_CHUNK))
            crops = np.stack(
                [
                    crop_field(
                        pictures[where[int(img_of[e])]],
                        field,
                        int(rows[chs[e], js[e]]),
                        int(cols[chs[e], js[e]]),
                        fit=fit,
                    )
                    for e in sel
                ]
            )
            if side != crops.shape[1]:
                crops = _resize(crops, side)
            for e, patch in zip(sel, crops, strict=True):
                patches[chs[e], js[e]] = patch


def _patch_side(field_size: int, n_patches: int, budget: int) -> int:
    fits = int(math.sqrt(budget / max(1, 3 * n_patches)))
    return min(field_size, max(8, fits))


def _as_seen(images: Tensor, wanted: np.ndarray, preprocess: Preprocess) -> np.ndarray:
    """The chosen images as the net sees them (resized and cropped, before normalising)."""
    seen = preprocess.geometry(images[torch.from_numpy(wanted)].cpu())
    return seen.permute(0, 2, 3, 1).contiguous().numpy()


def crop_field(
    picture: np.ndarray,
    field: ReceptiveField,
    row: int,
    col: int,
    pad_value: int = PAD_VALUE,
    *,
    fit: bool = False,
) -> np.ndarray:
    """The field of unit (row, col) cut from ``picture`` (H x W x 3 uint8, as the net sees
    it), field.size x field.size, with ``pad_value`` where it runs off the image.

    ``fit``: where the field is larger than the image (mid and high levels on 16 px digits:
    37 and 81 px fields), cut an image-sized square instead — the field's centre, moved
    inside the image — and grey only the pixels of it the field does not reach. A field at
    least twice the image's side reaches all of it, and the patch is the whole image.
    """
    h, w = picture.shape[:2]
    top, left, bottom, right = field.box(row, col)
    side = min(h, w)
    if fit and field.size > side:
        y, x = field.centre(row, col)
        half = (side - 1) / 2
        wt = min(max(math.floor(y - half + 0.5), 0), h - side)
        wl = min(max(math.floor(x - half + 0.5), 0), w - side)
        out = picture[wt : wt + side, wl : wl + side].copy()
        rows = np.arange(wt, wt + side)
        cols = np.arange(wl, wl + side)
        outside = ~((rows >= top) & (rows < bottom))[:, None] | ~((cols >= left) & (cols < right))[None, :]
        out[outside] = pad_value
        return out
    out = np.full((field.size, field.size, picture.shape[2]), pad_value, np.uint8)
    t, lft, b, r = max(0, top), max(0, left), min(h, bottom), min(w, right)
    if t < b and lft < r:
        out[t - top : b - top, lft - left : r - left] = picture[t:b, lft:r]
    return out


def _resize(patches: np.ndarray, side: int) -> np.ndarray:
    """Downscale n x S x S x 3 uint8 patches to side x side (area averaging: no aliasing)."""
    t = torch.from_numpy(patches).permute(0, 3, 1, 2).float()
    t = F.interpolate(t, size=(side, side), mode="area")
    return t.round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a
