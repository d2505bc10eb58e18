"""Data sets and the paper's batch augmentation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from resviz.core.data import Augment, BatchStream, augment_batch, load_dataset, normalise
from resviz.core.errors import DataError


def test_digits_is_real_split_and_shaped_for_cifar_nets(digits):
    assert digits.image_shape == (3, 16, 16)
    assert digits.num_classes == 10
    assert len(digits.train) + len(digits.test) == 1797
    assert 0.18 < len(digits.test) / 1797 < 0.22
    assert digits.train.images.dtype == torch.uint8
    # Every class in both splits, and the split is the same on every load.
    assert set(digits.test.labels.tolist()) == set(range(10))
    again = load_dataset("digits")
    assert torch.equal(again.test.labels, digits.test.labels)
    assert torch.equal(again.train.images, digits.train.images)
    assert digits.mean.shape == (3, 16, 16)
    assert not digits.augment.flip  # mirrored digits are not digits


def test_digits_trains_a_tiny_net_quickly(digits):
    """The app's first run must learn something within seconds on a CPU."""
    from resviz.core.models import build_model

    torch.manual_seed(0)
    model = build_model("resnet8")
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    stream = BatchStream(digits.train, 64, torch.Generator().manual_seed(0))
    for _ in range(60):
        x, y = next(stream)
        loss = torch.nn.functional.cross_entropy(model(augment_batch(normalise(x, digits.mean), digits.augment)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        pred = model(normalise(digits.test.images, digits.mean)).argmax(1)
    assert (pred == digits.test.labels).float().mean() > 0.5  # chance is 0.1


def test_augment_keeps_shape_and_label_order():
    x = torch.arange(4 * 3 * 8 * 8, dtype=torch.float32).reshape(4, 3, 8, 8)
    out = augment_batch(x, Augment(pad=2, flip=True), torch.Generator().manual_seed(1))
    assert out.shape == x.shape
    # Each output image is a shifted (maybe flipped) crop of *its own* input: every
    # non-padding value must come from the same sample, so labels stay aligned.
    for i in range(4):
        vals = set(out[i][out[i] != 0].tolist())
        assert vals <= set(x[i].flatten().tolist())


def test_augment_crop_is_a_translation():
    x = torch.zeros(1, 1, 6, 6)
    x[0, 0, 2, 3] = 1.0
    for seed in range(10):
        out = augment_batch(x, Augment(pad=1, flip=False), torch.Generator().manual_seed(seed))
        (r, c) = (out[0, 0] == 1).nonzero()[0].tolist()
        assert abs(r - 2) <= 1 and abs(c - 3) <= 1


def test_no_pad_no_flip_is_identity():
    x = torch.randn(3, 3, 5, 5)
    torch.testing.assert_close(augment_batch(x, Augment(pad=0, flip=False)), x)


def test_batch_stream_covers_an_epoch_without_repeats(digits):
    from resviz.core.data import ImageSet

    # Each image's single pixel value is its index, so batches tell which images they hold.
    n_images = 230
    images = torch.arange(n_images, dtype=torch.uint8).reshape(n_images, 1, 1, 1)
    stream = BatchStream(ImageSet(images, torch.zeros(n_images)), 50, torch.Generator().manual_seed(0))
    seen = torch.cat([next(stream)[0].flatten() for _ in range(n_images // 50)])
    assert len(seen) == len(set(seen.tolist())) == 200  # one epoch: no image twice
    state = stream.state_dict()
    nxt = next(stream)[0]
    stream.load_state_dict(state)
    assert torch.equal(next(stream)[0], nxt)  # a new epoch drawn from the restored generator
    assert not set(nxt.flatten().tolist()) - set(range(n_images))


def _write_folder(root, classes=("cat", "dog"), per_class=3, size=(10, 12)):
    for split in ("train", "test"):
        for k, name in enumerate(classes):
            d = root / split / name
            d.mkdir(parents=True, exist_ok=True)
            for i in range(per_class):
                arr = np.full((size[1], size[0], 3), 40 * k + i, dtype=np.uint8)
                Image.fromarray(arr).save(d / f"{i}.png")
    return root


def test_folder_dataset_decodes_resizes_and_caches(tmp_path):
    root = _write_folder(tmp_path / "data")
    ds = load_dataset(root, size=8)
    assert ds.classes == ["cat", "dog"]
    assert ds.image_shape == (3, 8, 8)
    assert len(ds.train) == 6 and ds.train.labels.tolist() == [0, 0, 0, 1, 1, 1]
    # The second load comes from the decoded cache: with the decoder broken it still works.
    import resviz.core.data.folder as folder

    real = folder._decode
    folder._decode = lambda *a: (_ for _ in ()).throw(AssertionError("decoded again"))
    try:
        again = load_dataset(root, size=8)
    finally:
        folder._decode = real
    assert torch.equal(again.train.images, ds.train.images)


def test_folder_corrupt_image_is_skipped_and_counted(tmp_path):
    root = _write_folder(tmp_path / "data")
    (root / "train" / "cat" / "broken.jpg").write_bytes(b"not a jpeg at all")
    ds = load_dataset(root, size=8)
    assert len(ds.train) == 6
    assert any("skipped 1 unreadable" in n and "broken.jpg" in n for n in ds.notes)


def _only_train(root):
    (root / "train" / "cat").mkdir(parents=True)


def _empty_class(root):
    _write_folder(root)
    (root / "train" / "cow").mkdir()


def _mismatched_classes(root):
    _write_folder(root)
    _write_folder(root, classes=("eel",))
    import shutil

    shutil.rmtree(root / "test" / "eel")


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda root: None, "does not exist"),
        (_only_train, "test is missing"),
        (_empty_class, "cow holds no images"),
        (_mismatched_classes, r"different classes \(only in train: \['eel'\]"),
    ],
    ids=["missing", "no-test", "empty-class", "mismatched-classes"],
)
def test_folder_bad_input_is_named(tmp_path, make, message):
    root = tmp_path / "data"
    make(root)
    with pytest.raises(DataError, match=message):
        load_dataset(root)


def test_unknown_dataset_name():
    with pytest.raises(DataError, match="unknown data set"):
        load_dataset("imagenet-but-misspelled")


def test_cifar10_offline_error_says_where_to_put_files(tmp_path):
    with pytest.raises(DataError, match="cifar-10-python.tar.gz"):
        load_dataset("cifar10", root=tmp_path)


@pytest.mark.slow
def test_shared_cifar10_folder(cifar10_folder):
    ds = load_dataset(cifar10_folder)
    assert ds.classes[:2] == ["airplane", "automobile"] and ds.num_classes == 10
    assert len(ds.train) == 50_000 and len(ds.test) == 10_000
    assert ds.image_shape == (3, 32, 32)
    assert torch.bincount(ds.test.labels).tolist() == [1000] * 10


# -- issue #9: read only the split that is used; open only the allowed formats ---------------


def _counting_decoder(monkeypatch):
    """Patch the folder decoder to record which files it decodes."""
    import resviz.core.data.folder as folder

    decoded, real = [], folder._decode

    def decode(path, size):
        decoded.append(path)
        return real(path, size)

    monkeypatch.setattr(folder, "_decode", decode)
    return decoded


def test_folder_test_split_alone_never_decodes_the_train_split(tmp_path, monkeypatch):
    root = _write_folder(tmp_path / "data")
    whole = load_dataset(root, size=8, splits=("train", "test"))
    decoded = _counting_decoder(monkeypatch)
    monkeypatch.setenv("RESVIZ_CACHE_DIR", str(tmp_path / "fresh-cache"))
    test_only = load_dataset(root, size=8, splits=("test",), mean=False)
    assert decoded and all("/test/" in p.replace("\\", "/") for p in decoded)
    assert len(test_only.train) == 0 and test_only.mean is None and "test split only" in test_only.describe()
    assert torch.equal(test_only.test.images, whole.test.images) and test_only.classes == whole.classes


def test_folder_training_mean_is_decoded_once_then_cached_on_its_own(tmp_path, monkeypatch):
    root = _write_folder(tmp_path / "data")
    Image.new("RGB", (10, 12), (250, 0, 0)).save(root / "train" / "cat" / "9.png")  # 7 train images, 6 test
    monkeypatch.setenv("RESVIZ_CACHE_DIR", str(tmp_path / "cache"))
    decoded = _counting_decoder(monkeypatch)
    first = load_dataset(root, size=8, splits=("test",), mean=True)
    assert any("/train/" in p.replace("\\", "/") for p in decoded)  # no mean cached yet: decoded once
    full = load_dataset(root, size=8)
    assert torch.equal(first.mean, full.mean)  # the same mean the paper's recipe gives
    # Next time: the mean comes from its own small entry; neither split's pixels are needed.
    folders = tmp_path / "cache" / "folders"
    gone = 0
    for big in folders.glob("*.pt"):
        if not big.name.endswith(".mean.pt") and len(torch.load(big, weights_only=True)["images"]) == 7:
            big.unlink()  # the train split's cache entry is gone
            gone += 1
    assert gone == 1
    decoded.clear()
    again = load_dataset(root, size=8, splits=("test",), mean=True)
    assert decoded == [] and torch.equal(again.mean, full.mean) and len(again.train) == 0


def test_inspector_data_reads_the_train_split_only_for_a_net_without_a_mean(tmp_path, monkeypatch):
    from resviz.core.checkpoint import checkpoint_dict, save_checkpoint
    from resviz.core.inspect import load_model
    from resviz.core.inspect.datasets import load_data_for
    from resviz.core.models import build_model

    root = _write_folder(tmp_path / "data", size=(8, 8))
    monkeypatch.setenv("RESVIZ_CACHE_DIR", str(tmp_path / "cache"))
    net = build_model("resnet8", num_classes=2)
    ckpt = save_checkpoint(
        tmp_path / "c.pt", checkpoint_dict(net, classes=["cat", "dog"], mean=torch.full((3, 8, 8), 0.5), dataset="d")
    )
    torch.save(net.state_dict(), tmp_path / "bare.pt")
    decoded = _counting_decoder(monkeypatch)
    loaded, data = load_data_for(load_model(ckpt), root, size=8)
    assert not any("/train/" in p.replace("\\", "/") for p in decoded) and len(data.test) == 6
    loaded, data = load_data_for(load_model(tmp_path / "bare.pt"), root, size=8)
    assert any("/train/" in p.replace("\\", "/") for p in decoded)  # the bare net needs the mean
    assert "input mean taken from the data set" in loaded.notes


def test_folder_opens_only_the_allowed_formats(tmp_path):
    root = _write_folder(tmp_path / "data")
    # An EPS (Ghostscript) and an ICO named .png: Pillow could open both; resviz must not.
    (root / "train" / "cat" / "x.png").write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 8 8\n")
    Image.new("RGB", (8, 8)).save(root / "train" / "dog" / "y.png", format="ICO")
    ds = load_dataset(root, size=8)
    assert len(ds.train) == 6 and any("skipped 2 unreadable" in n for n in ds.notes)


def test_folder_skips_a_decompression_bomb(tmp_path, monkeypatch):
    root = _write_folder(tmp_path / "data", size=(10, 12))
    Image.new("RGB", (40, 40)).save(root / "test" / "cat" / "bomb.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 1,600 pixels: Pillow only warns (<2x)
    ds = load_dataset(root, size=8)
    assert len(ds.test) == 6 and any("bomb.png" in n for n in ds.notes)


def test_a_data_folder_that_is_a_link_loop_is_not_said_to_be_missing(tmp_path):
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    with pytest.raises(DataError, match="symbolic link loop") as e:
        load_dataset(tmp_path / "loop")
    assert "does not exist" not in str(e.value)
    with pytest.raises(DataError, match="does not exist"):
        load_dataset(tmp_path / "gone" / "data")


def test_cifar10_download_goes_through_the_verified_downloader(tmp_path, monkeypatch):
    """Issue #20: one downloader for every remote file; offline, the line names URL and folder."""
    import socket
    import urllib.error
    import urllib.request

    from resviz.core.data.cifar10 import CIFAR10_REMOTE
    from resviz.core.download import DownloadError

    def no_network(request, timeout=None):
        assert request.full_url == CIFAR10_REMOTE.url  # ours, not torchvision's download
        raise urllib.error.URLError(socket.gaierror(-2, "Name or service not known"))

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    with pytest.raises(DownloadError) as e:
        load_dataset("cifar10", root=tmp_path / "c", download=True)
    msg = str(e.value)
    assert CIFAR10_REMOTE.url in msg and f"put it in {tmp_path / 'c'}" in msg and "\n" not in msg
    assert list((tmp_path / "c").iterdir()) == []  # nothing half-written
