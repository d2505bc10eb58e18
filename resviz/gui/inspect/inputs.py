"""What the user hands the Inspect tab: dropped paths and the clipboard, sorted out.

Dropped or pasted things are images (by suffix), weights files (by suffix) or folders
(a run folder, or a folder of checkpoints); anything else is tried as an image, so that
the decoder can say precisely what it is instead ("holds text, not an image"). A
clipboard image is re-encoded as PNG and decoded like a file, so a pasted screenshot
gets the same care as a dropped one (transparency flattened onto white, and so on).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PySide6 import QtCore, QtGui

__all__ = ["IMAGE_SUFFIXES", "MODEL_SUFFIXES", "Dropped", "sort_paths", "clipboard_content", "has_weights"]

IMAGE_SUFFIXES: tuple[str, ...] = (
    ".png",
    ".jpg",
    ".jpeg",
    ".jpe",
    ".bmp",
    ".dib",
    ".webp",
    ".tif",
    ".tiff",
    ".gif",
    ".ppm",
    ".pgm",
    ".pbm",
    ".pnm",
)
#: Weights files ``load_model`` reads: our checkpoints and state dicts (torch or safetensors).
MODEL_SUFFIXES: tuple[str, ...] = (".pt", ".pth", ".th", ".ckpt", ".bin", ".safetensors")


@dataclass
class Dropped:
    """Paths sorted by what the Inspect tab does with them."""

    images: list[Path] = field(default_factory=list)
    models: list[Path] = field(default_factory=list)
    folders: list[Path] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.images or self.models or self.folders)


def sort_paths(paths: list[str | Path]) -> Dropped:
    """Folders, weights files and (everything else) images."""
    out = Dropped()
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            out.folders.append(path)
        elif path.suffix.lower() in MODEL_SUFFIXES:
            out.models.append(path)
        else:
            out.images.append(path)
    return out


def has_weights(folder: Path) -> bool:
    """True when ``folder`` (or its ``checkpoints/``) holds a weights file to load."""
    return any(
        p.is_file() and p.suffix.lower() in MODEL_SUFFIXES
        for sub in (folder / "checkpoints", folder)
        if sub.is_dir()
        for p in sub.iterdir()
    )


def clipboard_content(mime: QtCore.QMimeData, image: QtGui.QImage | None) -> list[Path] | bytes | str:
    """What the clipboard holds for the Inspect tab.

    Returns local paths (files copied in a file manager, or a path copied as text), PNG
    bytes of an image, or a message saying why there is nothing to use.
    """
    if mime.hasUrls():
        paths = [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]
        if paths:
            return paths
    if mime.hasImage() and image is not None and not image.isNull():
        buffer = QtCore.QBuffer()
        buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
        image.save(buffer, "PNG")
        return bytes(buffer.data())
    if mime.hasText():
        text = mime.text().strip()
        url = QtCore.QUrl(text)
        candidate = Path(url.toLocalFile()) if url.isLocalFile() else Path(text).expanduser()
        try:
            exists = bool(text) and "\n" not in text and candidate.exists()
        except (OSError, ValueError):  # far too long for a path, or a NUL in it
            exists = False
        if exists:
            return [candidate]
        return "the clipboard holds text, not an image: copy an image, or an image file in your file manager"
    return "the clipboard holds no image: copy an image, or an image file in your file manager"
