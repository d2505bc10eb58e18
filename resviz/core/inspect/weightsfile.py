"""Read a weights file from anyone, without running its code and without trusting its sizes.

``torch.load(weights_only=True)`` (or safetensors) never runs code from the file, and what
it refuses is said in resviz's words: torch's own message advises ``weights_only=False``,
which would run the code (issue #9). Before torch sees the file it must be a regular file
(:mod:`resviz.core.inputs`: a FIFO would block, a device never end) of at most
:data:`~resviz.core.limits.MAX_CHECKPOINT_BYTES`, and a zip archive (torch's format since
1.6) must declare no more than that uncompressed: torch allocates every member at its
declared size, so a small file inflating to 2 GiB peaked at 2.7 GB before it was refused.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ..errors import CheckpointError
from ..inputs import check_input_file
from ..limits import MAX_CHECKPOINT_BYTES

__all__ = ["read_weights_file", "needs_code"]

#: How torch 2.10 to 2.14 word a refusal of something that needs code to unpickle (see
#: torch/_weights_only_unpickler.py): a global outside the allow-list, a blocked module (os,
#: posix, sys, nt), a call, a build or a new object of a class not allowed, a torch
#: subsystem that must be imported first. Matched case-insensitively, either spelling of
#: "global", because the wording has changed between versions.
_NEEDS_CODE = re.compile(
    r"unsupported\s+global|whose module \S+ is blocked|was not an allowed global"
    r"|call reduce for unrecognized function|can only build .* allowlisted|can only create new object"
    r"|must be imported to load|add_safe_globals|safe_globals",
    re.IGNORECASE,
)
_GLOBAL_NAME = re.compile(r"\bglobal:?\s+(?:global\s+)?([A-Za-z_][\w.]*)", re.IGNORECASE)
_FUNCTION_NAME = re.compile(r"unrecognized function (<[^>]*>|\S+)|but got (<class '[^']*'>)", re.IGNORECASE)

#: torch's boilerplate around a weights-only failure; none of it is the reason.
_BOILERPLATE = re.compile(
    r"weights.only|weights only load failed|check the documentation|please file an issue|pytorch\.org"
    r"|trusted source|arbitrary code|two options|safe_globals|do those steps",
    re.IGNORECASE,
)


def needs_code(text: str) -> bool:
    """Whether a torch.load error says the file needs code (a refused global) to unpickle."""
    return _NEEDS_CODE.search(text) is not None


def read_weights_file(path: Path) -> Any:
    """The object in a weights file, read without running code, or CheckpointError."""
    path = Path(path)
    st = check_input_file(
        path,
        limit=MAX_CHECKPOINT_BYTES,
        what="a weights file",
        error=CheckpointError,
        folder_hint="choose a checkpoint file",
    )
    if st.st_size == 0:
        raise CheckpointError(f"{path} is empty (0 bytes): it was not saved completely")
    head = _head(path)
    if path.suffix.lower() == ".safetensors" or _looks_like_safetensors(head):
        return _read_safetensors(path)
    if head.startswith(b"PK\x03\x04"):
        _check_zip(path)
    try:
        with warnings.catch_warnings():
            # torch warns about raw pickles ("Detected pickle protocol 4") and TorchScript
            # archives before refusing them; the refusal below says it better.
            warnings.filterwarnings("ignore", message=r"Detected pickle protocol", category=UserWarning)
            warnings.filterwarnings("ignore", message=r".*TorchScript archive", category=UserWarning)
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(_refusal(path, exc, head)) from None


def _head(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(512)
    except OSError as exc:
        raise CheckpointError(f"cannot read {path}: {exc.strerror or exc}") from None


def _check_zip(path: Path) -> None:
    """Refuse a zip archive that is damaged (a record's CRC too, issue #17) or would inflate
    past the limit, before torch opens it."""
    from ..archive import check_archive

    check_archive(path, limit=MAX_CHECKPOINT_BYTES)


def _refusal(path: Path, exc: Exception, head: bytes) -> str:
    """resviz's one line for a file torch would not load: never torch's advice to run code."""
    text = str(exc)
    if needs_code(text):
        return _needs_code_message(path, text)
    if "TorchScript" in text or "torch.jit" in text:
        return (
            f"{path} is a TorchScript archive: a program, not weights. resviz never runs code from "
            "a file; save the weights alone: torch.save(model.state_dict(), path)"
        )
    reason = _sniff(head) or _reason(text) or type(exc).__name__
    return (
        f"{path} is not a PyTorch weights file resviz can read ({reason}): "
        "use a .pt/.pth state dict, a .safetensors file or a resviz checkpoint"
    )


def _sniff(head: bytes) -> str:
    """What a file that torch cannot read seems to be, when its first bytes tell."""
    if head.startswith(b"PK") or head.startswith(b"\x80"):
        return ""  # a torch zip archive or a pickle: torch's own reason says more
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
            return "it holds text"
        except UnicodeDecodeError:
            pass
    return "it is neither a torch zip archive nor a pickle"


def _reason(text: str) -> str:
    """The informative line of a torch.load error, its weights-only boilerplate left out."""
    for line in text.splitlines():
        line = line.strip().removeprefix("WeightsUnpickler error:").strip()
        if line and not _BOILERPLATE.search(line):
            return line[:200]
    return ""


def _needs_code_message(path: Path, text: str) -> str:
    m = _GLOBAL_NAME.search(text) or _FUNCTION_NAME.search(text)
    name = next((g for g in m.groups() if g), "") if m else ""
    what = f" ({name})" if name and not _BOILERPLATE.search(name) else ""
    return (
        f"{path} holds pickled Python objects{what} that need code to load: the file wants to run "
        "code, and resviz never runs code from a file, so it was not loaded. Save the weights alone: "
        "torch.save(model.state_dict(), path), or use safetensors"
    )


def _looks_like_safetensors(head: bytes) -> bool:
    # safetensors: an 8-byte little-endian header length, then a JSON header.
    return len(head) >= 9 and head[8:9] == b"{"


def _read_safetensors(path: Path) -> dict[str, Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError, MemoryError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CheckpointError(f"{path} is not a readable safetensors file: {reason}") from None
