"""Decode an image the user dropped, pasted or picked, safely, into 8-bit RGB.

Every file either becomes a correct H x W x 3 ``uint8`` array or raises
:class:`~resviz.core.errors.ImageError` with a message that says what is wrong and what to
do (issue 5, "Bad input"): a folder, a missing or empty file, text named ``.jpg``, a
truncated or corrupt image, a decompression bomb. Images in other modes are converted with
care instead of Pillow's bare ``convert("RGB")``: 16-bit grey is scaled (``convert`` would
clip it to white), transparency is flattened onto white, an animated GIF gives its first
frame, and the EXIF orientation of photos is applied. What was done is kept in ``notes``
so the app can say it.

Torch-free: the app decodes while the model is still loading.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from ..errors import ImageError
from ..inputs import IMAGE_FORMATS, describe_size, read_input_file
from ..limits import MAX_IMAGE_BYTES

__all__ = ["DecodedImage", "decode_image", "IMAGE_FORMATS"]

# Pillow logs some refusals (a TIFF with 65,535 samples per pixel) at ERROR before raising;
# with no handler Python prints them to stderr beside resviz's own one-line message. A
# library's NullHandler (the logging HOWTO's advice) keeps them for an app that logs.
logging.getLogger("PIL").addHandler(logging.NullHandler())

_TRANSPARENT_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
_WIDE_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")


@dataclass
class DecodedImage:
    """An image as 8-bit RGB, with what it was and what decoding did to it."""

    rgb: np.ndarray  # H x W x 3 uint8
    name: str = "image"
    format: str = ""  # PNG, JPEG ... ("" for arrays)
    mode: str = "RGB"  # the mode the file had (CMYK, P, I;16 ...)
    frames: int = 1
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.rgb.dtype != np.uint8 or self.rgb.ndim != 3 or self.rgb.shape[2] != 3:
            raise ValueError("rgb must be an H x W x 3 uint8 array")

    @cached_property
    def digest(self) -> str:
        """A hash of the pixels: the image's part of attribution cache keys."""
        h = hashlib.blake2b(digest_size=16)
        h.update(str(self.rgb.shape).encode())
        h.update(np.ascontiguousarray(self.rgb).tobytes())
        return h.hexdigest()

    @classmethod
    def from_array(cls, rgb: np.ndarray, name: str = "image") -> DecodedImage:
        """Wrap an H x W x 3 (or 3 x H x W) uint8 array, e.g. a test image of a data set."""
        rgb = np.asarray(rgb)
        if rgb.ndim == 3 and rgb.shape[0] == 3 and rgb.shape[2] != 3:
            rgb = rgb.transpose(1, 2, 0)
        if rgb.ndim == 2:
            rgb = np.repeat(rgb[:, :, None], 3, axis=2)
        return cls(np.ascontiguousarray(rgb, dtype=np.uint8), name=name)


def decode_image(source: str | os.PathLike | bytes, name: str | None = None) -> DecodedImage:
    """Decode a file path or the bytes of an image (the clipboard) into 8-bit RGB."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        label = name or "the pasted image"
        if len(source) > MAX_IMAGE_BYTES:
            raise ImageError(f"{label} holds more than the {describe_size(MAX_IMAGE_BYTES)} resviz reads from an image")
        data = bytes(source)
    else:
        path = Path(source).expanduser()
        label = name or path.name or str(path)
        data = _read_file(path)
    if not data:
        raise ImageError(f"{label} is empty (0 bytes): choose an image file that has content")
    return _decode_bytes(data, label)


def _read_file(path: Path) -> bytes:
    return read_input_file(
        path,
        limit=MAX_IMAGE_BYTES,
        what="an image",
        error=ImageError,
        folder_hint="not an image: drop or choose an image file",
    )


def _decode_bytes(data: bytes, label: str) -> DecodedImage:
    from PIL import Image, UnidentifiedImageError

    notes: list[str] = []
    try:
        # Pillow's warnings about a damaged file (corrupt EXIF, a truncated chunk) become
        # notes, the same under any warnings filter. A file whose header promises more
        # pixels than Image.MAX_IMAGE_PIXELS is a decompression bomb; Pillow only warns
        # between 1x and 2x that limit, and we refuse it there too.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=list(IMAGE_FORMATS))
            w, h = im.size
            im.seek(0)
            im.load()
            if w * h == 0:
                raise ImageError(f"{label} has no pixels ({w} x {h})")
            frames = int(getattr(im, "n_frames", 1) or 1)
            if frames > 1:
                notes.append(f"{im.format} with {frames} frames: using the first")
            fmt, mode = im.format or "", im.mode
            im = _apply_orientation(im, notes)
            rgb = _to_rgb(im, notes)
        notes += sorted({f"Pillow: {str(c.message).strip()}"[:200] for c in caught})
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(
            f"{label} is too large to decode safely ({exc}); a file that claims this many "
            "pixels may be a decompression bomb. Use a smaller image"
        ) from None
    except UnidentifiedImageError:
        raise ImageError(_unidentified_message(data, label)) from None
    except Exception as exc:  # noqa: BLE001  Pillow's decoders of untrusted bytes fail in many types
        # OSError, SyntaxError, ValueError, EOFError, IndexError, MemoryError, and from
        # fuzzing (issue #9) TypeError ("Missing dimensions" of a damaged TIFF) and more:
        # every one means the file is cut off or damaged.
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ImageError(f"{label} is truncated or corrupt ({reason[:200]}): save or export it again") from None
    return DecodedImage(rgb, name=label, format=fmt, mode=mode, frames=frames, notes=notes)


def _unidentified_message(data: bytes, label: str) -> str:
    head = data[:512]
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
            return f"{label} holds text, not an image: choose a {', '.join(IMAGE_FORMATS)} file"
        except UnicodeDecodeError:
            pass
    return f"{label} is not an image resviz can read: use {', '.join(IMAGE_FORMATS)}"


def _apply_orientation(im, notes: list[str]):
    """Turn photos upright as their camera recorded (EXIF orientation tag)."""
    from PIL import ImageOps

    try:
        if im.getexif().get(0x0112, 1) not in (1, None):
            notes.append("rotated upright as its EXIF orientation says")
            return ImageOps.exif_transpose(im)
    except Exception:  # a broken EXIF block is no reason to refuse the pixels
        pass
    return im


def _to_rgb(im, notes: list[str]) -> np.ndarray:
    from PIL import Image

    mode = im.mode
    if mode in _WIDE_MODES:
        return _wide_to_rgb(im, notes)
    if mode in _TRANSPARENT_MODES or "transparency" in im.info:
        notes.append("transparency flattened onto white")
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.array(Image.alpha_composite(white, rgba).convert("RGB"), dtype=np.uint8)
    if mode not in ("RGB", "L", "1", "P"):
        notes.append(f"{mode} converted to RGB")
    return np.array(im.convert("RGB"), dtype=np.uint8)  # a writable copy, unlike asarray


def _wide_to_rgb(im, notes: list[str]) -> np.ndarray:
    """16-bit or float grey to 8 bits by scaling, not clipping."""
    a = np.asarray(im).astype(np.float64)
    if im.mode == "F":
        lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
        if lo >= 0.0 and hi <= 1.0:
            a = a * 255.0
        else:
            a = (a - lo) / max(hi - lo, 1e-12) * 255.0
        notes.append("floating-point image scaled to 8 bits")
    elif im.mode.startswith("I;16") or float(a.max(initial=0)) > 255:
        a = a / 257.0  # 65535 -> 255 exactly
        notes.append("16-bit image scaled to 8 bits")
    grey = np.clip(np.nan_to_num(a), 0, 255).round().astype(np.uint8)
    return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))
