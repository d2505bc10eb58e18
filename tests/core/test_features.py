"""What a channel sees: the top-k pass against brute force, crops, dead channels, cache, cancel."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from resviz.core.data import ImageSet
from resviz.core.errors import ConfigError
from resviz.core.inspect import AttributionCache, Cancelled, CancelToken
from resviz.core.inspect.features import PAD_VALUE, crop_field, top_activations
from resviz.core.inspect.preprocess import Preprocess
from resviz.core.inspect.receptive import level_field
from resviz.core.inspect.subset import limit_indices
from resviz.core.models import build_model, level_module


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    model = build_model("resnet8").eval()
    for m in model.modules():  # BN with some spread, so channels differ
        if isinstance(m, torch.nn.BatchNorm2d):
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.normal_(0, 0.2)
    return model


@pytest.fixture(scope="module")
def prep(digits):
    return Preprocess.per_pixel_mean(digits.mean)


def _brute_force(model, images, preprocess, level):
    """Every image's level output at once: (N, C, h, w)."""
    out = {}
    h = level_module(model, level).register_forward_hook(lambda _m, _i, o: out.setdefault("x", o))
    with torch.no_grad():
        model(preprocess.batch(images))
    h.remove()
    return out["x"]


def test_top_k_matches_brute_force(net, digits, prep):
    split = ImageSet(digits.test.images[:60], digits.test.labels[:60])
    result = top_activations(net, split, prep, k=5, batch_size=7)  # batches of 7: the running merge works
    assert result.n_images == 60 and result.k == 5
    for level in ("low", "mid", "high"):
        acts = _brute_force(net, split.images, prep, level)
        n, c, h, w = acts.shape
        best, place = acts.flatten(2).max(dim=2)  # each image's strongest unit
        values, images = best.t().topk(5, dim=1)
        lv = result[level]
        assert lv.values.shape == (c, 5) and lv.map_size == (h, w)
        np.testing.assert_allclose(lv.values, values.numpy(), rtol=1e-5, atol=1e-6)
        assert np.array_equal(lv.images[lv.valid], images.numpy()[lv.valid])
        flat = place.t().gather(1, images).numpy()
        assert np.array_equal((lv.rows * w + lv.cols)[lv.valid], flat[lv.valid])
        np.testing.assert_allclose(lv.mean, acts.mean(dim=(0, 2, 3)).numpy(), rtol=1e-4, atol=1e-6)
        assert list(lv.ranked()) == sorted(range(c), key=lambda ch: -lv.mean[ch])
    assert not result["low"].values.flags.writeable  # results are frozen, arrays included


def test_patches_are_the_receptive_field_crops(net, digits, prep, monkeypatch):
    import resviz.core.inspect.features as features

    monkeypatch.setattr(features, "_IMAGE_CHUNK", 7)  # many chunk boundaries on a small set
    monkeypatch.setattr(features, "_CROP_CHUNK", 5)
    result = top_activations(net, digits.test, prep, k=6, limit=None)
    lv = result["mid"]
    field = level_field(net, "mid")
    assert lv.field == field and lv.patches.shape[2:] == (13, 13, 3)
    assert np.unique(lv.images[lv.valid]).size > 3 * 7  # the crops span several chunks of images
    pictures = prep.geometry(digits.test.images).permute(0, 2, 3, 1).numpy()
    for ch in range(lv.channels):
        for j in np.flatnonzero(lv.valid[ch]):
            r, c, img = lv.rows[ch, j], lv.cols[ch, j], lv.images[ch, j]
            assert np.array_equal(lv.patches[ch, j], crop_field(pictures[img], field, r, c))
            top, left, bottom, right = lv.boxes[ch, j]
            assert (top, left, bottom, right) == field.box(r, c, 16, 16)


def test_a_crop_is_padded_where_the_field_runs_off_the_image():
    picture = np.arange(16 * 16 * 3, dtype=np.int64).reshape(16, 16, 3).astype(np.uint8)
    field = level_field(build_model("resnet8"), "low")  # 7 x 7: unit (0, 0) sees rows -3..3
    crop = crop_field(picture, field, 0, 0)
    assert crop.shape == (7, 7, 3)
    assert (crop[:3] == PAD_VALUE).all() and (crop[:, :3] == PAD_VALUE).all()
    assert np.array_equal(crop[3:, 3:], picture[:4, :4])
    assert np.array_equal(crop_field(picture, field, 8, 8), picture[5:12, 5:12])


def test_a_field_larger_than_the_image_is_cut_to_the_image_not_padded():
    from resviz.core.inspect.receptive import ReceptiveField

    picture = np.arange(16 * 16 * 3, dtype=np.int64).reshape(16, 16, 3).astype(np.uint8)
    huge = ReceptiveField(size=37, jump=4, start=1.5)  # unit (0, 0) sees rows -16..20: all 16
    assert crop_field(picture, huge, 0, 0).shape == (37, 37, 3)  # unfitted: a digit in grey
    assert np.array_equal(crop_field(picture, huge, 0, 0, fit=True), picture)
    assert np.array_equal(crop_field(picture, huge, 3, 2, fit=True), picture)
    wide = ReceptiveField(size=20, jump=4, start=1.5)  # unit (0, 0): rows/cols -8..11
    crop = crop_field(picture, wide, 0, 0, fit=True)
    assert crop.shape == (16, 16, 3)
    assert np.array_equal(crop[:12, :12], picture[:12, :12])
    assert (crop[12:] == PAD_VALUE).all() and (crop[:, 12:] == PAD_VALUE).all()  # beyond the field
    crop = crop_field(picture, wide, 3, 0, fit=True)  # rows 4..23, cols -8..11
    assert (crop[:4] == PAD_VALUE).all() and np.array_equal(crop[4:, :12], picture[4:, :12])
    small = level_field(build_model("resnet8"), "low")  # 7 px: smaller than the image, as before
    assert np.array_equal(crop_field(picture, small, 8, 8, fit=True), picture[5:12, 5:12])


def test_levels_whose_field_overflows_the_digits_keep_image_sized_patches(digits, prep):
    torch.manual_seed(0)
    model = build_model("resnet14").eval()
    result = top_activations(model, digits.test, prep, k=4, limit=64)
    for lv in result.levels:
        overflow = lv.field.size > 16
        assert lv.cropped_to_image == overflow, lv.level
        assert lv.patches.shape[2] == (16 if overflow else lv.field.size), lv.level
    assert any(lv.cropped_to_image for lv in result.levels)


def test_a_constant_zero_channel_gets_no_patches_and_says_so(net, digits, prep):
    import copy

    model = copy.deepcopy(net)
    with torch.no_grad():
        # F(x) of channel 3 far below anything the shortcut carries: relu(F + x) == 0 always.
        model.layer1[-1].bn2.bias[3] = -1e4
    lv = top_activations(model, digits.test, prep, k=9, limit=100, levels=["low"])["low"]
    assert lv.dead[3] and not lv.valid[3].any() and lv.patches_of(3).shape[0] == 0
    assert lv.mean[3] == 0 and lv.ranked()[-1] == 3  # ranked last
    # Only channel 3 died: the rest are dead exactly where the intact net's are (an untrained
    # net can have a channel that is silent on these 100 digits by itself).
    intact = top_activations(net, digits.test, prep, k=9, limit=100, levels=["low"])["low"]
    assert not intact.dead[3]
    assert set(np.flatnonzero(lv.dead)) == set(np.flatnonzero(intact.dead)) | {3}
    for c in set(range(16)) - set(np.flatnonzero(lv.dead)):
        assert lv.patches_of(c).shape == (int(lv.valid[c].sum()), 7, 7, 3) and lv.valid[c, 0]


def test_fewer_images_than_k_leaves_entries_invalid(net, digits, prep):
    split = ImageSet(digits.test.images[:4], digits.test.labels[:4])
    lv = top_activations(net, split, prep, k=9, levels=["high"])["high"]
    assert lv.values.shape == (64, 9) and not lv.valid[:, 4:].any()
    assert len(set(lv.images[0, :4].tolist())) == 4  # one unit per image: four images, not four places


def test_large_fields_are_stored_downscaled_within_the_budget(net, digits, prep):
    lv = top_activations(net, digits.test, prep, k=4, limit=20, levels=["high"], patch_bytes=64 * 4 * 3 * 12 * 12)[
        "high"
    ]
    assert lv.patches.shape == (64, 4, 12, 12, 3) and lv.field.size == 25


def test_limit_takes_the_stratified_subset_eval_and_lesion_take():
    """--limit means the same images in every verb (issue #9): each class its share, not the
    first N of a split sorted by class."""
    labels = torch.tensor([0] * 6 + [1] * 6 + [2] * 3)
    idx = limit_indices(labels, 5)
    assert sorted(labels[idx].tolist()) == [0, 0, 1, 1, 2]  # shares 2, 2, 1 of 6:6:3
    assert len(set(idx.tolist())) == 5 and list(idx) == sorted(idx)
    assert list(limit_indices(labels[:3], None)) == [0, 1, 2]
    assert list(limit_indices(labels[:3], 10)) == [0, 1, 2]
    with pytest.raises(ConfigError):
        limit_indices(labels[:0], None)
    with pytest.raises(ConfigError):
        limit_indices(labels, 0)


def test_progress_cancel_and_hooks_removed(net, digits, prep):
    seen = []
    top_activations(net, digits.test, prep, limit=100, batch_size=30, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(30, 100), (60, 100), (90, 100), (100, 100)]
    token = CancelToken()

    def cancel_after_first(done, total):
        token.cancel()

    with pytest.raises(Cancelled):
        top_activations(net, digits.test, prep, batch_size=30, progress=cancel_after_first, token=token)
    assert all(not level_module(net, lvl)._forward_hooks for lvl in ("low", "mid", "high"))
    with pytest.raises(ConfigError, match="unknown level"):
        top_activations(net, digits.test, prep, levels=["top"])
    with pytest.raises(ConfigError, match="k must be"):
        top_activations(net, digits.test, prep, k=0)


def test_cached_per_model_state_and_images(net, digits, prep):
    import copy

    model = copy.deepcopy(net)
    cache = AttributionCache()
    first = top_activations(model, digits.test, prep, limit=50, cache=cache)
    assert top_activations(model, digits.test, prep, limit=50, cache=cache) is first
    assert top_activations(model, digits.test, prep, limit=51, cache=cache) is not first  # other images
    model.set_shortcuts([True, True, False])
    other = top_activations(model, digits.test, prep, limit=50, cache=cache)
    assert other is not first and other.key != first.key
    assert not np.allclose(other["high"].values, first["high"].values)
    assert cache._bytes >= first.nbytes  # sized by its arrays, not a placeholder


def test_the_inspector_caches_the_pass_per_state(net, digits, prep):
    from resviz.core.inspect import Inspector

    inspector = Inspector.from_model(net, digits.classes, prep)
    first = inspector.top_activations(digits.test, limit=40, k=3)
    assert inspector.top_activations(digits.test, limit=40, k=3) is first
    inspector.set_residual(1, False)
    changed = inspector.top_activations(digits.test, limit=40, k=3)
    assert changed is not first and changed["mid"].field.size < first["mid"].field.size  # a shorter path sees less
    inspector.reset()
    assert inspector.top_activations(digits.test, limit=40, k=3) is first
