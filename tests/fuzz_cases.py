"""Mutated real files for fuzzing the image decoder and the checkpoint loader (issue #9).

Shared by ``tests/core/test_fuzz.py`` (hypothesis draws the mutations, a few hundred cases)
and ``benchmarks/fuzz.py`` (a seeded ``random.Random`` draws them, >= 10,000 cases). A
case is a seed file (a real PNG, JPEG ... or a real resviz checkpoint, state dict, legacy
torch file, safetensors file) and a short list of mutations, each a plain tuple:

* ``("truncate", at)``: cut the file at fraction ``at`` of its length;
* ``("flip", at, bit)``: flip one bit;
* ``("splice", other, at, from_at)``: the head of this file, then the tail of another seed
  (a PNG header on a JPEG body, a zip directory on a pickle ...);
* ``("field", which, value)``: overwrite a known size or offset field (an image's width or
  height, a zip member's declared sizes or offset, a pickle's storage size) with ``value``,
  one of :data:`BIG_VALUES`: the oversized fields a hostile file would carry;
* ``("word", at, value)``: the same at any offset;
* ``("insert", at, data)`` / ``("delete", at, n)``: shift everything after ``at``.

Fractions keep a mutation meaningful on files of any length, and plain tuples print and
replay exactly.
"""

from __future__ import annotations

import io
import random
import struct
from dataclasses import dataclass, field

import numpy as np

#: Values a hostile header carries: zero, one, the edges of 16, 31 and 32 bits.
BIG_VALUES = (0, 1, 0x7FFF, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF)

IMAGE_KINDS = ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP", "PPM")
CHECKPOINT_KINDS = ("resviz", "state-dict", "legacy", "safetensors")


@dataclass
class Seed:
    """A real file and the offsets of its size fields (4-byte, with their byte order)."""

    name: str
    data: bytes
    fields: list[tuple[int, str]] = field(default_factory=list)  # (offset, "<" or ">")


def _image_bytes(kind: str) -> bytes:
    from PIL import Image

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 255, (12, 16, 3), dtype=np.uint8)
    im = Image.fromarray(pixels)
    if kind == "GIF":
        im = im.convert("P", palette=Image.Palette.ADAPTIVE)
    buf = io.BytesIO()
    im.save(buf, format=kind)
    return buf.getvalue()


def _image_fields(kind: str, data: bytes) -> list[tuple[int, str]]:
    """Where an image's header keeps its width and height."""
    if kind == "PNG":
        return [(16, ">"), (20, ">"), (8, ">")]  # IHDR width, height; the chunk length
    if kind == "BMP":
        return [(18, "<"), (22, "<"), (2, "<"), (10, "<")]  # width, height, file size, pixel offset
    if kind == "GIF":
        return [(6, "<"), (8, "<")]  # 16-bit screen size (the value's low half lands on the next field)
    if kind == "JPEG":
        sof = data.find(b"\xff\xc0")
        return [(sof + 3, ">"), (sof + 5, ">")] if sof > 0 else []  # height and width (16-bit each)
    if kind == "TIFF":
        return [(4, "<")]  # the offset of the first directory
    if kind == "WEBP":
        return [(4, "<"), (16, "<")]  # RIFF size, chunk size
    return []


def image_seeds() -> dict[str, Seed]:
    """One small real image per format resviz opens."""
    seeds = {}
    for kind in IMAGE_KINDS:
        data = _image_bytes(kind)
        seeds[kind] = Seed(kind, data, _image_fields(kind, data))
    return seeds


def _zip_fields(data: bytes) -> list[tuple[int, str]]:
    """Declared sizes and offsets of every member of a zip archive."""
    out = []
    pos = data.find(b"PK\x03\x04")
    while pos >= 0:
        out += [(pos + 18, "<"), (pos + 22, "<")]  # compressed, uncompressed size
        pos = data.find(b"PK\x03\x04", pos + 4)
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:
        out += [(pos + 20, "<"), (pos + 24, "<"), (pos + 42, "<")]  # sizes, local header offset
        pos = data.find(b"PK\x01\x02", pos + 4)
    end = data.rfind(b"PK\x05\x06")
    if end >= 0:
        out += [(end + 12, "<"), (end + 16, "<")]  # directory size and offset
    return out


def _pickle_fields(data: bytes) -> list[tuple[int, str]]:
    """The 4-byte integers (BININT) of a pickle: storage sizes, offsets, shapes."""
    return [(i + 1, "<") for i in range(len(data) - 5) if data[i] == 0x4A][:64]


def checkpoint_seeds() -> dict[str, Seed]:
    """A real resviz checkpoint, state dict, legacy torch file and safetensors file of resnet8."""
    import torch
    from safetensors.torch import save as save_safetensors

    from resviz.core.checkpoint import checkpoint_dict
    from resviz.core.models import build_model

    torch.manual_seed(0)
    model = build_model("resnet8")
    state = model.state_dict()
    ckpt = checkpoint_dict(
        model, classes=[str(i) for i in range(10)], mean=torch.rand(3, 16, 16), dataset="digits", step=5
    )
    out = {}
    for name, obj, zipped in (("resviz", ckpt, True), ("state-dict", state, True), ("legacy", state, False)):
        buf = io.BytesIO()
        torch.save(obj, buf, _use_new_zipfile_serialization=zipped)
        data = buf.getvalue()
        out[name] = Seed(name, data, _zip_fields(data) if zipped else _pickle_fields(data))
    data = save_safetensors({k: v.contiguous() for k, v in state.items() if v.dim() > 0})
    out["safetensors"] = Seed("safetensors", data, [(0, "<")])  # the header length
    return out


def apply(seed: Seed, ops: list[tuple], seeds: dict[str, Seed]) -> bytes:
    """``seed``'s bytes with ``ops`` applied in order."""
    data = bytearray(seed.data)
    for op in ops:
        kind, n = op[0], len(data)
        if kind == "truncate":
            del data[int(op[1] * n) :]
        elif kind == "flip" and n:
            data[int(op[1] * n) % n] ^= 1 << op[2]
        elif kind == "splice":
            other = seeds[op[1]].data
            data = data[: int(op[2] * n)] + bytearray(other[int(op[3] * len(other)) :])
        elif kind == "field" and seed.fields:
            offset, order = seed.fields[op[1] % len(seed.fields)]
            if offset + 4 <= n:
                data[offset : offset + 4] = struct.pack(f"{order}I", op[2])
        elif kind == "word" and n >= 4:
            at = int(op[1] * (n - 3))
            data[at : at + 4] = struct.pack("<I", op[2])
        elif kind == "insert":
            at = int(op[1] * n)
            data[at:at] = op[2]
        elif kind == "delete":
            at = int(op[1] * n)
            del data[at : at + op[2]]
    return bytes(data)


def random_ops(rng: random.Random, seeds: dict[str, Seed]) -> list[tuple]:
    """One to three mutations drawn with ``rng`` (the benchmark's generator)."""
    ops = []
    for _ in range(rng.choice((1, 1, 2, 3))):
        kind = rng.choice(("truncate", "flip", "flip", "splice", "field", "field", "word", "insert", "delete"))
        if kind == "truncate":
            ops.append(("truncate", rng.random()))
        elif kind == "flip":
            ops.append(("flip", rng.random(), rng.randrange(8)))
        elif kind == "splice":
            ops.append(("splice", rng.choice(sorted(seeds)), rng.random(), rng.random()))
        elif kind == "field":
            ops.append(("field", rng.randrange(1 << 16), rng.choice(BIG_VALUES)))
        elif kind == "word":
            ops.append(("word", rng.random(), rng.choice(BIG_VALUES)))
        elif kind == "insert":
            ops.append(("insert", rng.random(), bytes(rng.randrange(256) for _ in range(rng.randrange(1, 9)))))
        else:
            ops.append(("delete", rng.random(), rng.randrange(1, 65)))
    return ops
