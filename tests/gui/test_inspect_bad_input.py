"""Every bad input of issue 5 dropped on the app: a clear message, and nothing lost.

Images Pillow can decode in an unusual mode (16-bit, CMYK, palette, RGBA, grey, animated)
simply work; the others (empty, truncated, text, a decompression bomb, a folder) leave
the image and model shown as they were. Weights that do not fit, or that would need code
to unpickle, are refused with a message that says why.
"""

from __future__ import annotations

import io
import os

import numpy as np
import torch
from conftest import drop_paths, inspect_tab, load_into, wait_for_view
from PIL import Image

from resviz.core.models import build_model
from resviz.core.runs import RunReader


def _png_bytes(side: int = 24) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (side, side, 3), dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def _decodable(folder):
    """Files in the modes issue 5 lists, each a valid image (name -> path)."""
    out = {}
    deep = np.linspace(0, 65535, 12 * 12).astype(np.uint16).reshape(12, 12)
    Image.fromarray(deep).save(out.setdefault("deep16.png", folder / "deep16.png"))
    Image.new("CMYK", (12, 10), (0, 255, 255, 0)).save(out.setdefault("cmyk.jpg", folder / "cmyk.jpg"), quality=95)
    Image.new("RGB", (12, 10), (200, 30, 40)).convert("P", palette=Image.Palette.ADAPTIVE).save(
        out.setdefault("palette.gif", folder / "palette.gif")
    )
    rgba = np.zeros((10, 10, 4), dtype=np.uint8)
    rgba[:, :5] = (255, 0, 0, 255)
    Image.fromarray(rgba).save(out.setdefault("rgba.png", folder / "rgba.png"))
    Image.fromarray(np.arange(100, dtype=np.uint8).reshape(10, 10)).save(
        out.setdefault("grey.png", folder / "grey.png")
    )
    frames = [
        Image.new("RGB", (10, 10), c).convert("P", palette=Image.Palette.ADAPTIVE)
        for c in ((0, 0, 255), (0, 255, 0), (255, 0, 0))
    ]
    frames[0].save(
        out.setdefault("anim.gif", folder / "anim.gif"), save_all=True, append_images=frames[1:], duration=50
    )
    return out


def _undecodable(folder):
    """Files that are no usable image (name -> (path, what the message must say))."""
    (folder / "empty.png").write_bytes(b"")
    (folder / "cut.png").write_bytes(_png_bytes()[:300])
    (folder / "notes.jpg").write_text("Dear diary, this is not a picture.\n")
    (folder / "not-an-image-folder").mkdir()
    out = {}
    if hasattr(os, "mkfifo"):  # issue #9: a FIFO froze the app, waiting for a writer
        os.mkfifo(folder / "pipe.png")
        out["pipe.png"] = (folder / "pipe.png", "named pipe (FIFO)")
    return out | {
        "empty.png": (folder / "empty.png", "empty (0 bytes)"),
        "cut.png": (folder / "cut.png", "truncated or corrupt"),
        "notes.jpg": (folder / "notes.jpg", "holds text, not an image"),
        "not-an-image-folder": (folder / "not-an-image-folder", "is a folder, not an image or a model"),
    }


def _shown(tab, qtbot):
    """Show the first gallery image and wait for it: the state a bad drop must not disturb."""
    tab.gallery.pick(0)
    wait_for_view(tab, qtbot)
    return tab.session.image, tab.session.loaded, tab.session.look


def test_bad_and_unusual_images(window, qtbot, tiny_run, tmp_path, monkeypatch):
    tab = inspect_tab(window)
    load_into(tab, qtbot, tiny_run)
    image, loaded, look = _shown(tab, qtbot)
    for name, (path, says) in _undecodable(tmp_path).items():
        window.last_error = None
        assert drop_paths(window, [path]), name
        qtbot.waitUntil(lambda: window.last_error is not None, timeout=30_000)
        assert says in window.last_error and name in window.last_error, (name, window.last_error)
        assert tab.image_problem.isVisible() and says in tab.image_problem.text()
        assert tab.session.image is image and tab.session.loaded is loaded and tab.session.look is look  # nothing lost

    # A decompression bomb (Pillow's limit, lowered here so the file stays small).
    (tmp_path / "bomb.png").write_bytes(_png_bytes(24))
    with monkeypatch.context() as m:
        m.setattr(Image, "MAX_IMAGE_PIXELS", 100)
        window.last_error = None
        drop_paths(window, [tmp_path / "bomb.png"])
        qtbot.waitUntil(lambda: window.last_error is not None, timeout=30_000)
    assert "decompression bomb" in window.last_error and tab.session.image is image

    for name, path in _decodable(tmp_path).items():
        drop_paths(window, [path])
        qtbot.waitUntil(lambda name=name: tab.session.image.name == name, timeout=30_000)
        wait_for_view(tab, qtbot)
        assert not tab.image_problem.isVisible(), name  # a good image clears the last complaint
        assert tab.session.prepared.display.shape == (16, 16, 3) and len(tab.session.maps) == 3, name
    assert any("first" in n for n in tab.session.image.notes)  # anim.gif: its first frame, and it says so
    assert "first" in tab.image_info.text()


def test_weights_that_do_not_fit_or_need_code(window, qtbot, tiny_run, tmp_path):
    tab = inspect_tab(window)
    checkpoint = RunReader(tiny_run).checkpoints()[-1]
    load_into(tab, qtbot, checkpoint)
    image, loaded, look = _shown(tab, qtbot)

    def refused(source, *, arch=None, says=()):
        window.last_error = None
        tab.model_box.arch.setCurrentText(arch or "inferred from the weights")
        if isinstance(source, str):
            tab.session.load_model(source, arch=tab.model_box.arch_override())
        else:
            drop_paths(window, [source])
        qtbot.waitUntil(lambda: window.last_error is not None and not tab.session.busy, timeout=30_000)
        for text in says:
            assert text in window.last_error, (text, window.last_error)
        assert tab.session.loaded is loaded and tab.session.image is image and tab.session.look is look

    refused(checkpoint, arch="resnet14", says=("does not fit resnet14", "looks like resnet8"))
    torch.save({"state_dict": build_model("resnet8").state_dict(), "extra": _NeedsCode()}, tmp_path / "evil.pt")
    refused(tmp_path / "evil.pt", says=("need code", "_NeedsCode", "never runs code"))
    (tmp_path / "text.pth").write_text("not weights at all\n")
    refused(tmp_path / "text.pth", says=("not a PyTorch weights file",))
    refused(str(tmp_path / "gone.pt"), says=("does not exist",))
    refused("ResNet19_Weights.DEFAULT", says=("torchvision has no weights called ResNet19",))
    # ... and the app keeps working: the next image is inspected as before
    tab.model_box.arch.setCurrentText("inferred from the weights")
    tab.gallery.pick(4)
    wait_for_view(tab, qtbot)
    assert tab.session.image.name.startswith("digits test image 4")


class _NeedsCode:
    """Unpickling an instance needs this test module's code."""
