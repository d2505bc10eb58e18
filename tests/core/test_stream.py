"""The streaming folder pipeline (issue #22): order, shards, resume, corrupt images, the choice."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from imagefolder import make_image_folder
from PIL import Image

from resviz.core.data import Augment, BatchStream, ImageSet, augment_batch, load_dataset
from resviz.core.data.recipes import PCA_EIGVAL, PCA_EIGVEC, ImageNetRecipe
from resviz.core.data.streamset import MEMORY_FRACTION, choose_stream, load_stream_folder
from resviz.core.errors import ConfigError

SIZE = 32  # the recipe at 32 px: scale in [37, 69], test resize 37, crop 32
RECIPE = ImageNetRecipe.at(SIZE)


def _children():
    """This process's live multiprocessing children (DataLoader workers among them)."""
    import multiprocessing

    return multiprocessing.active_children()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return make_image_folder(tmp_path_factory.mktemp("imgs"))


def reference_loader(root, batches, train_seed=None, recipe=RECIPE):
    """torchvision's ImageFolder and transforms in a plain DataLoader over the given index
    batches: the pipeline written the textbook way, as the oracle."""
    import torchvision.transforms.functional as TF
    from torchvision.datasets import ImageFolder

    ds = ImageFolder(str(root / "train"))

    class Item(torch.utils.data.Dataset):
        def __len__(self):
            return len(ds)

        def __getitem__(self, item):
            i, epoch, pos = item
            img, label = ds[i]
            if train_seed is None:
                img = TF.center_crop(TF.resize(img, recipe.test_resize), recipe.crop)
            else:
                (rw, rh), (left, top), flip = recipe.train_geometry(
                    *img.size, np.random.default_rng((train_seed, epoch, pos))
                )
                img = TF.crop(TF.resize(img, [rh, rw]), top, left, recipe.crop, recipe.crop)
                img = TF.hflip(img) if flip else img
            return TF.pil_to_tensor(img), label

    return torch.utils.data.DataLoader(Item(), batch_sampler=batches)


def shared_order(n, batch, seed, epochs):
    """The in-memory BatchStream's order, read off a split whose images are their own indices."""
    images = torch.arange(n, dtype=torch.uint8)[:, None, None, None].expand(n, 1, 1, 1).contiguous()
    stream = BatchStream(
        ImageSet(images, torch.zeros(n, dtype=torch.int64)), batch, torch.Generator().manual_seed(seed)
    )
    steps = epochs * (n // batch)
    return [next(stream)[0].flatten().long().tolist() for _ in range(steps)]


def test_training_batches_are_the_reference_loaders_images_in_the_in_memory_order(folder):
    data = load_stream_folder(folder, SIZE, workers=2)
    n, batch, seed = len(data.train), 8, 3  # 24 images: 3 batches an epoch; two epochs
    order = shared_order(n, batch, seed, epochs=2)
    stream = data.train.batch_stream(batch, seed)
    got = [next(stream) + (stream.last_indices.tolist(),) for _ in range(len(order))]
    stream.close()  # its two workers stop now (not at a later garbage collection: 5 s each)
    assert stream._iter is None and not any(p.is_alive() for p in _children())
    assert [g[2] for g in got] == order  # BatchStream's order, over two epoch boundaries
    # Item (index, epoch, position in the epoch): batch j is epoch j // 3, positions 8 * (j % 3) + k.
    ref_batches = [[(i, j // 3, batch * (j % 3) + k) for k, i in enumerate(b)] for j, b in enumerate(order)]
    ref = list(reference_loader(folder, ref_batches, train_seed=seed))
    for (images, labels, _), (ref_images, ref_labels) in zip(got, ref, strict=True):
        assert torch.equal(labels, ref_labels)
        assert torch.equal(images, ref_images)  # the same crops, byte for byte
    assert got[0][0].shape == (batch, 3, SIZE, SIZE) and got[0][0].dtype == torch.uint8
    # Not merely the centre crops: the scale augmentation and flips moved them.
    centre = data.train.images[torch.tensor(order[0])]
    assert not torch.equal(got[0][0], centre)


def test_test_crops_are_torchvisions_resize_and_centre_crop(folder):
    data = load_stream_folder(folder, SIZE, workers=0)
    mine = torch.cat([x for x, _ in data.train.eval_batches(5)])
    ref = torch.cat([x for x, _ in reference_loader(folder, [[(i, 0, 0) for i in range(24)]])])
    assert torch.equal(mine, ref)
    assert torch.equal(data.train.images[3:5], ref[3:5])


def test_two_ranks_slices_make_the_single_process_batch(folder):
    data = load_stream_folder(folder, SIZE, workers=0)
    one = data.train.batch_stream(8, 1)
    ranks = [data.train.batch_stream(8, 1, rank=r, world_size=2) for r in (0, 1)]
    for _ in range(7):  # past an epoch boundary (3 batches an epoch)
        x, y = next(one)
        parts = [next(s) for s in ranks]
        assert [len(p[1]) for p in parts] == [4, 4]
        assert torch.equal(torch.cat([p[0] for p in parts]), x)  # same images, same crops
        assert torch.equal(torch.cat([r.last_indices for r in ranks]), one.last_indices)


@pytest.mark.parametrize("workers", [0, 2])
def test_resume_mid_epoch_continues_exactly_under_any_number_of_ranks(folder, workers):
    data = load_stream_folder(folder, SIZE, workers=workers)
    full = data.train.batch_stream(8, 5)
    whole = [(next(full)[0], full.last_indices) for _ in range(7)]
    first = data.train.batch_stream(8, 5)
    for _ in range(4):  # into the second epoch; the workers have dispatched batches beyond it
        next(first)
    state = first.state_dict()
    first.close()
    # Resumed in one process, then in two: each continues with batch 5 of the uninterrupted run.
    again = data.train.batch_stream(8, 5)
    again.load_state_dict(state)
    rest = [(next(again)[0], again.last_indices) for _ in range(3)]
    for (x, i), (wx, wi) in zip(rest, whole[4:], strict=True):
        assert torch.equal(i, wi) and torch.equal(x, wx)
    pair = [data.train.batch_stream(8, 5, rank=r, world_size=2) for r in (0, 1)]
    for s in pair:
        s.load_state_dict(state)
    for _, wi in whole[4:]:
        for s in pair:
            next(s)
        assert torch.equal(torch.cat([s.last_indices for s in pair]), wi)
    for s in (full, again, *pair):
        s.close()
    assert not any(p.is_alive() for p in _children())


def test_unreadable_images_are_skipped_and_counted(tmp_path):
    root = make_image_folder(tmp_path / "f", classes=2, train_per_class=4, test_per_class=1)
    (root / "train" / "c00" / "i000.jpg").write_bytes(b"not a jpeg")
    data = load_stream_folder(root, SIZE, workers=0)
    stream = data.train.batch_stream(8, 0)  # the whole split is one batch
    x, y = next(stream)
    assert len(y) == 7 and stream.skipped == 1 and 0 not in stream.last_indices.tolist()
    # Indexed (the warm-up batch, the Fig. 7 probe's images): it stays black, the rest is read.
    few = data.train.images[torch.tensor([0, 1])]
    assert few[0].max() == 0 and few[1].max() > 0


def test_the_choice_between_memory_and_streaming_by_measured_size():
    need = 1000 * 3 * 32 * 32  # 3,072,000 bytes decoded
    fits = int(need / MEMORY_FRACTION)  # exactly enough available memory
    assert not choose_stream(1000, 32, available=fits).stream
    over = choose_stream(1000, 32, available=fits - 8)
    assert over.stream and "1,000 images decoded at 32x32 take 0.00 GB, more than 25%" in over.reason
    assert choose_stream(1000, 32, stream=True, available=10 * fits).stream
    assert not choose_stream(10**7, 224, stream=False, available=1).stream
    assert choose_stream(10, 32, recipe="imagenet", available=10**12).stream
    with pytest.raises(ConfigError, match="needs each full image"):
        choose_stream(10, 32, recipe="imagenet", stream=False)


def test_load_dataset_says_which_it_chose(folder, monkeypatch):
    import resviz.core.data.streamset as ss

    monkeypatch.setattr(ss, "available_memory", lambda: 10**12)
    held = load_dataset(str(folder), size=SIZE, stream=None)
    assert isinstance(held.train, ImageSet) and held.notes[0].startswith("holding the folder in memory")
    monkeypatch.setattr(ss, "available_memory", lambda: 1000)
    streamed = load_dataset(str(folder), size=SIZE, stream=None)
    assert hasattr(streamed.train, "batch_stream") and streamed.notes[0].startswith("streaming the folder")
    assert len(streamed.train) == 24 and len(streamed.test) == 8 and streamed.classes == held.classes
    assert streamed.image_shape == (3, SIZE, SIZE) and streamed.mean.shape == (3, SIZE, SIZE)


def test_lighting_adds_the_pca_colour_offset_per_image():
    x = torch.zeros(3, 3, 4, 4)
    out = augment_batch(x, Augment(pad=0, flip=False, lighting=0.1), torch.Generator().manual_seed(7))
    alpha = torch.randn(3, 3, generator=torch.Generator().manual_seed(7)) * 0.1
    for i in range(3):
        expect = [sum(PCA_EIGVEC[c][k] * alpha[i, k].item() * PCA_EIGVAL[k] for k in range(3)) for c in range(3)]
        for c in range(3):
            assert torch.allclose(out[i, c], torch.full((4, 4), expect[c]), atol=1e-7)
    assert out[0, 0, 0, 0] != out[1, 0, 0, 0]


def test_streamed_split_reads_whole_images_of_every_size(folder):
    # Images of 64x48, 44x60 and 52x52 all come out at the crop size.
    sizes = set()
    for p in (folder / "train").rglob("*.jpg"):
        with Image.open(p) as im:
            sizes.add(im.size)
    assert sizes == {(64, 48), (44, 60), (52, 52)}
    data = load_stream_folder(folder, SIZE, workers=0)
    assert data.train.images[torch.tensor([0, 1, 2])].shape == (3, 3, SIZE, SIZE)


def test_a_folder_streamed_with_the_cifar_recipe_gives_the_in_memory_images(folder):
    held = load_dataset(str(folder), size=16, stream=False)
    streamed = load_dataset(str(folder), size=16, stream=True)
    assert streamed.augment == held.augment == Augment(pad=4, flip=True)
    assert torch.equal(streamed.test.images[torch.arange(8)], held.test.images)
    stream = streamed.train.batch_stream(8, 4)
    x, y = next(stream)
    assert torch.equal(x, held.train.images[stream.last_indices]) and torch.equal(
        y, held.train.labels[stream.last_indices]
    )
    assert torch.allclose(streamed.mean, held.mean, atol=1e-6)  # 24 images: the sample is the whole split
