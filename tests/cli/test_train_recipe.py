"""``resviz train --recipe / --stream / --workers`` (issue #22)."""

from __future__ import annotations

from imagefolder import make_image_folder

from resviz.cli import build_parser, main
from resviz.cli.train import config_from_args


def _config(*argv):
    return config_from_args(build_parser().parse_args(["train", "--out", "x", *argv]))


def test_the_imagenet_recipe_fills_what_the_user_did_not_set(tmp_path):
    root = make_image_folder(tmp_path / "f", classes=2, train_per_class=64, test_per_class=1)  # 128 train images
    cfg = _config("--arch", "resnet18", "--data", str(root))
    assert cfg.recipe_name == "imagenet" and cfg.batch_size == 256 and cfg.image_size == 224
    assert cfg.iters == 90 * 128 // 256  # 90 epochs of 128 images in batches of 256 = 45 steps
    assert cfg.milestone_steps() == [15, 30]  # epochs 30 and 60
    given = _config("--arch", "resnet18", "--data", str(root), "--batch-size", "8", "--iters", "30", "--size", "32")
    assert (given.batch_size, given.iters, given.image_size, given.milestone_steps()) == (8, 30, 32, [10, 20])
    cifar = _config("--arch", "resnet18", "--data", str(root), "--recipe", "cifar", "--no-stream", "--workers", "3")
    assert (cifar.batch_size, cifar.iters, cifar.stream, cifar.workers) == (128, 64_000, False, 3)
    assert _config("--arch", "resnet20", "--data", str(root)).recipe_name == "cifar"


def test_no_stream_with_the_imagenet_recipe_is_refused_in_one_line(tmp_path, capsys):
    root = make_image_folder(tmp_path / "f", classes=2, train_per_class=2, test_per_class=1)
    argv = [
        "train",
        "--arch",
        "resnet18",
        "--data",
        str(root),
        "--size",
        "32",
        "--no-stream",
        "--out",
        str(tmp_path / "r"),
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "needs each full image" in err and "--recipe cifar" in err and "Traceback" not in err
