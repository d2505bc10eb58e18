"""The paper's 10-crop test (Table 2), ``resviz eval --ten-crop``."""

from __future__ import annotations

import numpy as np
import torch
from imagefolder import make_image_folder
from PIL import Image

from resviz.core.data.recipes import ImageNetRecipe
from resviz.core.inspect.preprocess import Preprocess
from resviz.core.inspect.tencrop import ten_crop_error, ten_crops


def test_ten_crops_take_the_corners_centre_and_mirrors_at_the_right_pixels():
    # An 8 x 6 image whose red is 10 x column and green 10 x row; resized to a shorter side of
    # 6 it stays as it is, so each crop's pixels say where it was taken.
    x, y = np.meshgrid(np.arange(8), np.arange(6))
    image = Image.fromarray(np.stack([x * 10, y * 10, np.zeros_like(x)], axis=-1).astype(np.uint8))
    crops = ten_crops(image, ImageNetRecipe(crop=4, scale_low=6, scale_high=6, test_resize=6))
    assert crops.shape == (10, 4, 4, 3)
    corners = [(0, 0), (4, 0), (0, 2), (4, 2), (2, 1)]  # width 8 - 4 = 4, height 6 - 4 = 2, centre (2, 1)
    for k, (left, top) in enumerate(corners):
        assert crops[k, 0, 0, :2].tolist() == [10 * left, 10 * top]
        assert crops[k, 3, 3, :2].tolist() == [10 * (left + 3), 10 * (top + 3)]
        # The mirrored crop: its first column is the plain crop's last.
        assert crops[5 + k, 0, 0, :2].tolist() == [10 * (left + 3), 10 * top]
        assert np.array_equal(crops[5 + k], crops[k][:, ::-1])


class _SaysClassZero(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.batches = []

    def forward(self, x):
        self.batches.append(x.shape)
        return torch.tensor([[2.0, 0.0]]).expand(x.shape[0], 2)


def test_ten_crop_error_counts_what_the_averaged_prediction_gets_wrong(tmp_path):
    root = make_image_folder(tmp_path / "f", classes=2, train_per_class=1, test_per_class=3)
    (root / "test" / "c01" / "i002.jpg").write_bytes(b"broken")
    model = _SaysClassZero()
    result = ten_crop_error(model, Preprocess.unit(32), root, workers=0, batch_images=2)
    # Test images: 3 of class 0 (right), 2 readable of class 1 (wrong), 1 skipped.
    assert (result.n_images, result.wrong, result.skipped) == (5, 2, 1)
    assert result.error == 40.0 and result.top5_error is None
    assert [s[0] for s in model.batches] == [20, 20, 10]  # ten crops of 2, 2 and 1 images
    assert model.batches[0][1:] == (3, 32, 32)


def test_eval_ten_crop_on_a_run_folder(tmp_path, capsys):
    import json

    from resviz.cli import main
    from resviz.core.inspect import load_model
    from resviz.core.train import TrainConfig, Trainer

    root = make_image_folder(tmp_path / "f", classes=2, train_per_class=2, test_per_class=2)
    cfg = TrainConfig(arch="resnet8", data=str(root), image_size=16, iters=1, batch_size=4, device="cpu", compile="off")
    Trainer(cfg, run_dir=tmp_path / "run").run()
    argv = ["eval", "--checkpoint", str(tmp_path / "run"), "--data", str(root), "--ten-crop", "--workers", "0"]
    assert main([*argv, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    loaded = load_model(str(tmp_path / "run"))
    direct = ten_crop_error(loaded.model, loaded.preprocess, root, workers=0)
    assert out["ten_crop"] and out["n_images"] == 4 and out["wrong"] == direct.wrong
    assert main([*argv, "--limit", "2"]) == 2
    assert "whole (no --limit)" in capsys.readouterr().err
