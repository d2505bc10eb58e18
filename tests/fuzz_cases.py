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


# -- issue #17: output paths and checkpoint metadata ----------------------------------------
#
# Two more classes a hostile or careless user reaches: the path a verb writes (a name without
# a suffix, a link into a run, a hard link to an input ...) and the metadata a checkpoint
# carries beside its weights (a step of -1, a mean that contradicts image_shape ...).

#: What an output name can lead to, set up by :func:`output_scenario`.
OUTPUT_TARGETS = (
    "new",
    "input",
    "input-stem",
    "checkpoint",
    "run-file",
    "run-new",
    "run",
    "folder",
    "fifo",
    "other",
    "link-input",
    "link-run-file",
    "link-other",
    "link-fifo",
    "link-dangling",
    "link-loop",
    "hardlink-input",
    "hardlink-run-file",
    "hardlink-other",
)
#: How the name is written: as is, without its suffix, upper case, with a trailing slash,
#: through ``sub/..``, with ``./``, doubled slashes.
OUTPUT_DECORATIONS = ("plain", "stem", "upper", "slash", "dotdot", "dot", "double")


def output_scenario(root) -> dict:
    """A folder with inputs, a run folder, an unrelated file, a pipe and links to each; the
    names of the files that must never change (``protected``) and the target paths."""
    import os
    from pathlib import Path

    root = Path(root)
    run = root / "run"
    (run / "checkpoints").mkdir(parents=True)
    for name in ("config.json", "layout.json", "status.json"):
        (run / name).write_text("{}")
    (run / "metrics.sqlite").write_bytes(b"SQLite format 3\0" + bytes(64))
    (run / "checkpoints" / "step_0000001.pt").write_bytes(b"PK\3\4weights")
    (root / "input.png").write_bytes(b"\x89PNG input")
    (root / "weights.pt").write_bytes(b"PK\3\4input weights")
    (root / "other.txt").write_text("someone's notes")
    (root / "folder").mkdir()
    os.mkfifo(root / "fifo")
    links = {
        "link-input": root / "input.png",
        "link-run-file": run / "metrics.sqlite",
        "link-other": root / "other.txt",
        "link-fifo": root / "fifo",
        "link-dangling": root / "nowhere.png",
    }
    for name, to in links.items():
        (root / f"{name}.png").symlink_to(to)
    (root / "link-loop.png").symlink_to(root / "link-loop.png")
    for name, to in (
        ("hardlink-input", "input.png"),
        ("hardlink-run-file", "run/status.json"),
        ("hardlink-other", "other.txt"),
    ):
        os.link(root / to, root / f"{name}.png")
    targets = {
        "new": root / "new.png",
        "input": root / "input.png",
        "input-stem": root / "input",
        "checkpoint": root / "weights.pt",
        "run-file": run / "metrics.sqlite",
        "run-new": run / "fig.png",
        "run": run,
        "folder": root / "folder",
        "fifo": root / "fifo",
        "other": root / "other.txt",
        **{name: root / f"{name}.png" for name in OUTPUT_TARGETS if name.startswith(("link-", "hardlink-"))},
    }
    protected = [root / "input.png", root / "weights.pt", root / "other.txt", *run.rglob("*")]
    return {
        "root": root,
        "inputs": [root / "input.png", root / "weights.pt", run],
        "protected": [p for p in protected if p.is_file()],
        "targets": targets,
    }


def decorate(path, how: str) -> str:
    """``path`` written the way ``how`` says (see :data:`OUTPUT_DECORATIONS`)."""
    text = str(path)
    if how == "stem" and path.suffix:
        return text[: -len(path.suffix)]
    if how == "upper" and path.suffix:
        return text[: -len(path.suffix)] + path.suffix.upper()
    if how == "slash":
        return text + "/"
    if how == "dotdot":
        return str(path.parent / "sub" / ".." / path.name)
    if how == "dot":
        return str(path.parent / "." / path.name)
    if how == "double":
        return str(path.parent) + "//" + path.name
    return text


def output_verdict(scenario: dict, target: str, how: str, kind: str | None) -> tuple[str, str]:
    """Check and write one output name as every verb does; ("refused" | "correct" |
    "data loss" | "crash", detail). Data loss: a protected file changed, or the file said
    to be written is not there."""
    import hashlib
    import os
    import traceback

    from resviz.core.errors import ResvizError
    from resviz.core.outputs import atomic_output, check_output

    def digest(p):
        try:
            return hashlib.sha256(p.read_bytes()).hexdigest()
        except OSError as exc:
            return f"unreadable: {exc.errno}"

    name = decorate(scenario["targets"][target], how)
    before = {p: digest(p) for p in scenario["protected"]}
    try:
        out = check_output(name, inputs=scenario["inputs"], what="figure", kind=kind)
    except ResvizError as exc:
        msg = str(exc)
        return ("refused", msg) if "\n" not in msg else ("crash", f"two-line message {msg!r}")
    except Exception as exc:  # noqa: BLE001  what the fuzzer is looking for
        return "crash", "".join(traceback.format_exception_only(type(exc), exc)).strip()
    try:
        with atomic_output(out) as tmp:
            tmp.write_bytes(b"NEW OUTPUT")
    except OSError as exc:
        return "refused", f"write failed: {exc}"  # the verbs turn this into one line
    asked = os.path.abspath(out)  # the file named (not through a link) may be replaced
    changed = [str(p) for p, h in before.items() if digest(p) != h and os.path.abspath(p) != asked]
    if changed:
        return "data loss", f"{name} -> {out} changed {changed}"
    if not (os.path.isfile(out) and out.read_bytes() == b"NEW OUTPUT"):
        return "data loss", f"{name}: said {out} was written, but it holds something else"
    return "correct", str(out)


def metadata_cases() -> list[tuple[str, object]]:
    """(field, value) pairs a damaged or forged checkpoint carries; values made lazily by
    :func:`metadata_value` (tensors need torch)."""
    return [
        ("step", -1),
        ("step", 10**20),
        ("step", True),
        ("step", "5"),
        ("step", 1.5),
        ("mean", "3x7x7"),
        ("mean", "3x16"),
        ("mean", "1x16x16"),
        ("mean", "nan"),
        ("mean", "int"),
        ("mean", "text"),
        ("image_shape", [3, 7, 7]),
        ("image_shape", [3, 16]),
        ("image_shape", [3, -16, 16]),
        ("image_shape", [3, True, 16]),
        ("image_shape", "3x16x16"),
        ("classes", ["a"] * 3),
        ("classes", list(range(10))),
        ("classes", "digits"),
        ("num_classes", 7),
        ("num_classes", -1),
        ("shortcuts", "on"),
        ("shortcuts", [True] * 99),
        ("residuals", [1, 0, 1]),
        ("arch", "resnet99"),
        ("arch", 20),
        ("config", "not a dict"),
        ("dataset", 5),
        ("version", "one"),
        ("family", 3),
        ("shortcut", "Z"),
        ("model", {}),
        ("model", "weights"),
    ]


def metadata_value(value):
    """The value of a :func:`metadata_cases` pair, with tensors made for the ``mean`` names."""
    import torch

    if value == "3x7x7":
        return torch.rand(3, 7, 7)
    if value == "3x16":
        return torch.rand(3, 16)
    if value == "1x16x16":
        return torch.rand(1, 16, 16)
    if value == "nan":
        return torch.full((3, 16, 16), float("nan"))
    if value == "int":
        return torch.zeros(3, 16, 16, dtype=torch.int64)
    if value == "text":
        return "mean"
    return value


def metadata_checkpoint(changes: list[tuple[str, object]]) -> dict:
    """The seed resviz checkpoint of resnet8 (16x16 digits) with ``changes`` applied."""
    import torch

    from resviz.core.checkpoint import checkpoint_dict
    from resviz.core.models import build_model

    torch.manual_seed(0)
    model = build_model("resnet8")
    ckpt = checkpoint_dict(
        model, classes=[str(i) for i in range(10)], mean=torch.rand(3, 16, 16), dataset="digits", step=5
    )
    for key, value in changes:
        ckpt[key] = metadata_value(value)
    return ckpt


def metadata_verdict(path, changes) -> tuple[str, str]:
    """Load a checkpoint with ``changes`` as ``eval`` does: ("refused" | "correct" | "wrong"
    | "crash", detail). Wrong: loaded although a field contradicts another or is out of range."""
    import traceback

    import torch

    from resviz.core.errors import ResvizError
    from resviz.core.inspect import load_model

    torch.save(metadata_checkpoint(changes), path)
    try:
        loaded = load_model(path)
    except ResvizError as exc:
        msg = str(exc)
        return ("refused", msg) if "\n" not in msg else ("crash", f"two-line message {msg!r}")
    except Exception as exc:  # noqa: BLE001
        return "crash", "".join(traceback.format_exception_only(type(exc), exc)).strip()
    size = loaded.preprocess.description
    if "16x16" not in size and "16 x 16" not in size and "mean" in size:
        return "wrong", f"loaded with input {size}"
    return "correct", size
