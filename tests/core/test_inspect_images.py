"""Decoding dropped or pasted images: every format and every bad input of issue 5."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from resviz.core.errors import ImageError
from resviz.core.inspect import DecodedImage, decode_image
from resviz.core.inspect.preprocess import Preprocess

RED = (200, 30, 40)


def _solid(size=(12, 10), colour=RED, mode="RGB") -> Image.Image:
    return Image.new(mode, size, colour)


@pytest.mark.parametrize("fmt,suffix", [("PNG", "png"), ("JPEG", "jpg"), ("BMP", "bmp"), ("WEBP", "webp"), ("TIFF", "tif"), ("GIF", "gif")])
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
    frames = [_solid(colour=c).convert("P", palette=Image.Palette.ADAPTIVE) for c in [(0, 0, 255), (0, 255, 0), (255, 0, 0)]]
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
