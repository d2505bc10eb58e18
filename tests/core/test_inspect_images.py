"""Decoding dropped or pasted images: every format and every bad input of issue 5."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from PIL import Image

from resviz.core.errors import ImageError
from resviz.core.inspect import DecodedImage, decode_image
from resviz.core.inspect.preprocess import Preprocess

RED = (200, 30, 40)


def _solid(size=(12, 10), colour=RED, mode="RGB") -> Image.Image:
    return Image.new(mode, size, colour)


@pytest.mark.parametrize(
    "fmt,suffix", [("PNG", "png"), ("JPEG", "jpg"), ("BMP", "bmp"), ("WEBP", "webp"), ("TIFF", "tif"), ("GIF", "gif")]
)
def test_every_format_decodes_to_rgb(tmp_path, fmt, suffix):
    path = tmp_path / f"x.{suffix}"
    _solid().save(path, format=fmt, **({"quality": 95} if fmt in ("JPEG", "WEBP") else {}))
    img = decode_image(path)
    assert img.rgb.shape == (10, 12, 3) and img.rgb.dtype == np.uint8
    assert img.format == fmt
    tolerance = 12 if fmt in ("JPEG", "WEBP", "GIF") else 0
    assert np.abs(img.rgb.astype(int) - np.array(RED)).max() <= tolerance


def test_bytes_from_the_clipboard():
    buf = io.BytesIO()
    _solid().save(buf, format="PNG")
    img = decode_image(buf.getvalue())
    assert img.name == "the pasted image" and tuple(img.rgb[0, 0]) == RED


def test_sixteen_bit_grey_is_scaled_not_clipped(tmp_path):
    values = np.array([[0, 257 * 128, 65535]], dtype=np.uint16).repeat(4, axis=0)
    im = Image.fromarray(values)
    assert im.mode.startswith("I;16")
    im.save(tmp_path / "deep.png")
    img = decode_image(tmp_path / "deep.png")
    assert img.rgb[0, :, 0].tolist() == [0, 128, 255]
    assert (img.rgb[..., 0] == img.rgb[..., 2]).all()
    assert any("16-bit" in n for n in img.notes)


def test_cmyk_jpeg(tmp_path):
    _solid(colour=(0, 255, 255, 0), mode="CMYK").save(tmp_path / "cmyk.jpg", quality=95)
    img = decode_image(tmp_path / "cmyk.jpg")
    assert img.mode == "CMYK" and any("CMYK" in n for n in img.notes)
    r, g, b = img.rgb[5, 5].astype(int)
    assert r > 200 and g < 40 and b < 40  # cyan-free, full magenta+yellow = red


def test_palette_gif_and_animated_gif_first_frame(tmp_path):
    _solid().convert("P", palette=Image.Palette.ADAPTIVE).save(tmp_path / "p.gif")
    img = decode_image(tmp_path / "p.gif")
    assert img.mode == "P" and np.abs(img.rgb.astype(int) - np.array(RED)).max() <= 12
    frames = [
        _solid(colour=c).convert("P", palette=Image.Palette.ADAPTIVE) for c in [(0, 0, 255), (0, 255, 0), (255, 0, 0)]
    ]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=50, loop=0)
    img = decode_image(tmp_path / "anim.gif")
    assert img.frames == 3 and "first" in " ".join(img.notes)
    assert tuple(img.rgb[0, 0]) == (0, 0, 255)


def test_rgba_is_flattened_onto_white(tmp_path):
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)
    rgba[..., 0] = 255  # red
    rgba[:, :2, 3] = 255  # left half opaque, right half transparent
    Image.fromarray(rgba).save(tmp_path / "a.png")
    img = decode_image(tmp_path / "a.png")
    assert tuple(img.rgb[0, 0]) == (255, 0, 0) and tuple(img.rgb[0, 3]) == (255, 255, 255)
    assert any("transparency" in n for n in img.notes)


def test_grayscale_becomes_three_equal_channels(tmp_path):
    Image.fromarray(np.arange(16, dtype=np.uint8).reshape(4, 4) * 16).save(tmp_path / "g.png")
    img = decode_image(tmp_path / "g.png")
    assert img.rgb.shape == (4, 4, 3) and (img.rgb[..., 0] == img.rgb[..., 1]).all()
    assert img.rgb[3, 3, 0] == 240


def test_exif_orientation_is_applied(tmp_path):
    im = Image.new("RGB", (6, 2), RED)
    exif = im.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    im.save(tmp_path / "photo.jpg", exif=exif)
    img = decode_image(tmp_path / "photo.jpg")
    assert img.rgb.shape[:2] == (6, 2)


@pytest.mark.parametrize("side", [12, 20])  # 144 > limit: a warning Pillow raises on; 400 > 2x limit: its error
def test_decompression_bomb_is_refused(tmp_path, monkeypatch, side):
    _solid(size=(side, side)).save(tmp_path / "bomb.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(ImageError, match="decompression bomb"):
        decode_image(tmp_path / "bomb.png")


def _png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def _jpeg_bytes() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(buf, format="JPEG")
    return buf.getvalue()


@pytest.mark.parametrize(
    "name,data,pattern",
    [
        ("empty.png", b"", "empty"),
        ("notes.jpg", b"Dear diary, this is not a picture.\n", "holds text"),
        ("cut.png", _png_bytes()[:300], "truncated or corrupt"),
        ("cut.jpg", _jpeg_bytes()[:400], "truncated or corrupt"),
        ("noise.png", _png_bytes()[:60] + bytes(range(256)) * 8, "truncated or corrupt"),
        ("blob.bin", bytes([0, 1, 2, 3, 250, 251]) * 20, "not an image resviz can read"),
    ],
)
def test_bad_files_get_clear_messages(tmp_path, name, data, pattern):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ImageError, match=pattern) as e:
        decode_image(path)
    assert name in str(e.value)


def test_a_folder_or_a_missing_file(tmp_path):
    with pytest.raises(ImageError, match="is a folder"):
        decode_image(tmp_path)
    with pytest.raises(ImageError, match="does not exist"):
        decode_image(tmp_path / "gone.png")


def test_eps_is_never_handed_to_ghostscript(tmp_path):
    (tmp_path / "x.eps").write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n")
    with pytest.raises(ImageError, match="not an image resviz can read|holds text"):
        decode_image(tmp_path / "x.eps")


def test_preprocess_shows_what_the_net_sees():
    rgb = np.zeros((40, 60, 3), dtype=np.uint8)
    rgb[:, 10:50] = 255  # a white square-ish centre on a wide black image
    prep = Preprocess.unit(32).prepare(DecodedImage.from_array(rgb))
    assert prep.tensor.shape == (1, 3, 32, 32) and prep.display.shape == (32, 32, 3)
    # Shorter side to 32, centre crop: the kept middle is the white part.
    assert prep.display[:, 8:24].min() > 200
    assert float(prep.tensor.max()) <= 1.0
    imagenet = Preprocess.normalized(224, resize=256).prepare(DecodedImage.from_array(rgb))
    assert imagenet.tensor.shape == (1, 3, 224, 224) and imagenet.digest != prep.digest


# -- issue #9: only regular files, of bounded size, with accurate words ---------------------


def _in_thread(fn, timeout=20.0, unblock=None):
    """``fn()``'s exception (or None), failing the test if it hangs instead of refusing
    (after ``unblock()``, which lets the stuck thread end)."""
    import threading

    box = {}

    def target():
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001  the test inspects it
            box["exc"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive() and unblock is not None:
        unblock()
    assert not t.is_alive(), "hung instead of refusing"
    return box.get("exc")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes (POSIX)")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)

    def unblock():  # a writer that opens and closes lets a reader stuck in open() go on
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))

    exc = _in_thread(lambda: decode_image(fifo), timeout=10.0, unblock=unblock)
    assert isinstance(exc, ImageError) and "named pipe (FIFO)" in str(exc) and "pipe.png" in str(exc)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_device_is_refused_before_it_is_read(tmp_path):
    link = tmp_path / "zero.png"
    link.symlink_to("/dev/zero")
    for path in ("/dev/zero", link):
        exc = _in_thread(lambda path=path: decode_image(path))
        assert isinstance(exc, ImageError) and "is a device, not a file" in str(exc)


def test_an_oversized_file_is_refused_unread(tmp_path, monkeypatch):
    from resviz.core.inspect import images

    path = tmp_path / "big.png"
    path.write_bytes(_png_bytes())
    monkeypatch.setattr(images, "MAX_IMAGE_BYTES", 1000)
    with pytest.raises(ImageError, match=r"big.png is [\d.]+ KiB, more than the 1000 bytes resviz reads from an image"):
        decode_image(path)
    with pytest.raises(ImageError, match="more than the 1000 bytes"):
        decode_image(_png_bytes())  # the clipboard too


def test_read_input_file_never_reads_past_its_limit(tmp_path):
    from resviz.core.errors import ResvizError
    from resviz.core.inputs import read_input_file

    path = tmp_path / "f"
    path.write_bytes(b"x" * 100)
    assert read_input_file(path, limit=100, what="a file") == b"x" * 100
    with pytest.raises(ResvizError, match="100 bytes, more than the 99 bytes"):
        read_input_file(path, limit=99, what="a file")


def test_paths_that_are_not_files_are_named_for_what_they_are(tmp_path):
    loop = tmp_path / "loop.png"
    loop.symlink_to(loop)
    dangling = tmp_path / "dangling.png"
    dangling.symlink_to(tmp_path / "nowhere.png")
    afile = tmp_path / "file.png"
    afile.write_bytes(_png_bytes())
    cases = [
        (loop, "is a symbolic link loop"),
        (dangling, "is a symbolic link to"),
        (afile / "inside.png", "a part of the path is a file"),
        (tmp_path / "gone.png", "does not exist"),
    ]
    for path, words in cases:
        with pytest.raises(ImageError) as e:
            decode_image(path)
        assert words in str(e.value), (path, str(e.value))
    with pytest.raises(ImageError) as e:
        decode_image(loop)
    assert "does not exist" not in str(e.value)
    if os.geteuid() != 0:  # root reads anything
        locked = tmp_path / "locked.png"
        locked.write_bytes(_png_bytes())
        locked.chmod(0)
        with pytest.raises(ImageError, match="permission denied"):
            decode_image(locked)
