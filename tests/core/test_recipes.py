"""The paper's ImageNet recipe (section 3.4): its geometry by hand, its schedule, a streamed run."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from imagefolder import make_image_folder

from resviz.core.data.recipes import ImageNetRecipe, centre_box, recipe_train_settings, ten_crop_boxes
from resviz.core.errors import ConfigError


def test_ten_crops_are_the_corners_and_centre_then_flipped():
    # 300 x 260 image, 224 crops: right edge 300 - 224 = 76, bottom 260 - 224 = 36, centre (38, 18).
    five = [(0, 0), (76, 0), (0, 36), (76, 36), (38, 18)]
    assert ten_crop_boxes(300, 260, 224) == [(x, y, False) for x, y in five] + [(x, y, True) for x, y in five]
    assert centre_box(341, 256, 224) == (58, 16)  # (341 - 224) / 2 = 58.5 rounds to even, 58
    with pytest.raises(ValueError, match="does not fit"):
        ten_crop_boxes(200, 300, 224)


def test_recipe_lengths_at_224_and_scaled():
    assert ImageNetRecipe.at(224) == ImageNetRecipe(224, 256, 480, 256)
    assert ImageNetRecipe.at(32) == ImageNetRecipe(32, 37, 69, 37)  # 256 * 32/224 = 36.6, 480 * 32/224 = 68.6
    r = ImageNetRecipe()
    assert r.resized(300, 400, 256) == (256, 341) and r.resized(400, 300, 256) == (341, 256)
    assert r.test_geometry(500, 375) == ((341, 256), (58, 16))


def test_scale_augmentation_spans_256_to_480_and_crops_stay_inside():
    r = ImageNetRecipe()
    rng = np.random.default_rng(0)
    shorts, flips = set(), []
    for _ in range(3000):
        (w, h), (left, top), flip = r.train_geometry(500, 375, rng)
        assert h == min(w, h) and 256 <= h <= 480 and w == int(h * 500 / 375)
        assert 0 <= left <= w - 224 and 0 <= top <= h - 224
        shorts.add(h)
        flips.append(flip)
    assert min(shorts) == 256 and max(shorts) == 480 and len(shorts) > 200
    assert 0.45 < np.mean(flips) < 0.55


def test_imagenet_schedule_is_lr_0_1_divided_at_epochs_30_and_60_of_90():
    from resviz.core.train import TrainConfig

    s = recipe_train_settings("imagenet", 1_281_167)
    assert s["batch_size"] == 256 and s["momentum"] == 0.9 and s["weight_decay"] == 1e-4 and s["lr"] == 0.1
    assert s["iters"] == 450_410  # 90 epochs of 1,281,167 images in batches of 256
    cfg = TrainConfig(arch="resnet34", data="/x", **s)
    assert cfg.milestone_steps() == [150_137, 300_273]  # epoch 30 = 150,136.7 steps, epoch 60 = 300,273.4
    assert recipe_train_settings("cifar", 50_000) == {}
    assert cfg.recipe_name == "imagenet" and TrainConfig(arch="resnet20", data="/x").recipe_name == "cifar"
    assert TrainConfig(arch="resnet18", data="cifar10").recipe_name == "cifar"
    for bad in ({"stream": True}, {"recipe": "imagenet"}):
        with pytest.raises(ConfigError, match="take a folder"):
            TrainConfig(arch="resnet18", data="digits", **bad)


def test_a_streamed_run_resumed_mid_epoch_ends_as_the_uninterrupted_one(tmp_path):
    from resviz.core.train import TrainConfig, Trainer

    root = make_image_folder(tmp_path / "imgs", classes=3, train_per_class=4, test_per_class=2)
    cfg = TrainConfig(
        arch="resnet18", data=str(root), image_size=32, recipe="imagenet", workers=0, batch_size=4, iters=5,
        eval_every=5, checkpoint_every=100, telemetry_every=1, device="cpu", compile="off", seed=2,
    )  # fmt: skip
    whole = Trainer(cfg, run_dir=tmp_path / "whole")
    assert whole.run() == "finished"
    assert any(n.startswith("streaming the folder: the imagenet recipe") for n in whole.dataset.notes)
    cut = Trainer(cfg, run_dir=tmp_path / "cut")
    cut.start()
    for _ in range(4):  # into the second epoch (3 batches of 4 an epoch)
        cut.obey()
        cut.advance()
    cut.control.stop()
    cut.obey()
    assert cut.status == "stopped" and cut.step == 4
    again = Trainer.resume(tmp_path / "cut")
    assert again.run() == "finished" and again.step == 5
    for (name, a), b in zip(whole.model.state_dict().items(), again.model.state_dict().values(), strict=True):
        assert torch.allclose(a.float(), b.float(), atol=1e-6), name


def test_a_run_records_its_recipe_and_one_from_before_resumes_with_cifars(tmp_path):
    import json

    from resviz.core.data import ImageSet
    from resviz.core.train import TrainConfig, Trainer

    root = make_image_folder(tmp_path / "imgs", classes=2, train_per_class=2, test_per_class=1)
    cfg = TrainConfig(arch="resnet18", recipe="cifar", data=str(root), image_size=16, iters=4, batch_size=4,
                      checkpoint_every=2, device="cpu", compile="off")  # fmt: skip
    t = Trainer(cfg, run_dir=tmp_path / "run")
    t.start()
    for _ in range(2):
        t.obey()
        t.advance()
    t.control.stop()
    t.obey()
    path = tmp_path / "run" / "config.json"
    doc = json.loads(path.read_text())
    assert doc["recipe"] == "cifar" and t.config.recipe == "cifar"
    # As a run from before issue #22 would have it, and with an ImageNet net's name, whose
    # default recipe is now imagenet: it must go on with the recipe it was trained with.
    del doc["recipe"]
    path.write_text(json.dumps(doc))
    again = Trainer.resume(tmp_path / "run")
    assert again.config.recipe == "cifar" and isinstance(again.dataset.train, ImageSet)
