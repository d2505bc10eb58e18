"""``resviz eval``, ``attribute`` and ``lesion`` end to end on a tiny trained checkpoint."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from resviz.cli import main
from resviz.core.checkpoint import checkpoint_dict, save_checkpoint


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory, trained_resnet14, digits):
    path = tmp_path_factory.mktemp("ckpt") / "resnet14.pt"
    return str(
        save_checkpoint(
            path, checkpoint_dict(trained_resnet14, classes=digits.classes, mean=digits.mean, dataset="digits", step=40)
        )
    )


@pytest.fixture(scope="module")
def digit_png(tmp_path_factory, digits):
    """A test digit as a PNG file, at 4x the size the net takes (the CLI resizes it)."""
    path = tmp_path_factory.mktemp("img") / "digit.png"
    Image.fromarray(digits.test.images[0].permute(1, 2, 0).numpy()).resize((64, 64)).save(path)
    return str(path)


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert err, "expected an error message"
    assert err[-1].startswith("resviz: error: ") and "Traceback" not in "\n".join(err)
    return err[-1]


def test_eval_prints_the_test_error(ckpt, capsys):
    assert main(["eval", "--checkpoint", ckpt, "--data", "digits", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n_images"] == 359 and result["data"] == "digits"
    assert result["error"] < 60 and result["top5_error"] < result["error"]
    assert main(["eval", "--checkpoint", ckpt, "--data", "digits", "--limit", "50"]) == 0
    out = capsys.readouterr().out
    assert "test error" in out and "top-5 error" in out and "on 50 test images" in out


def test_attribute_writes_the_overlay_figure(ckpt, digit_png, tmp_path, capsys):
    out = tmp_path / "cam.png"
    assert (
        main(["attribute", "--checkpoint", ckpt, "--image", digit_png, "--method", "gradcam", "--out", str(out)]) == 0
    )
    printed = capsys.readouterr().out
    assert printed.count("%") == 5 and f"wrote {out}" in printed  # top-5, then the file
    with Image.open(out) as im:
        assert im.size[0] > 3 * im.size[1]  # input + three levels side by side
    out2 = tmp_path / "ig.png"
    args = ["attribute", "--checkpoint", ckpt, "--image", digit_png, "--method", "ig", "--steps", "8"]
    assert (
        main(args + ["--level", "mid", "--target", "7", "--out", str(out2), "--cmap", "viridis", "--alpha", "0.7"]) == 0
    )
    captured = capsys.readouterr()
    assert "explained class 7 (7)" in captured.out and "--level is not used" in captured.err
    with Image.open(out2) as im:
        pixels = np.asarray(im.convert("RGB"))
    assert pixels.std() > 10  # a drawn figure, not a blank page


def test_lesion_json_chart_and_csv(ckpt, tmp_path, capsys):
    fig, table = tmp_path / "lesion.png", tmp_path / "lesion.csv"
    args = [
        "lesion",
        "--checkpoint",
        ckpt,
        "--data",
        "digits",
        "--limit",
        "60",
        "--json",
        "--out",
        str(fig),
        "--csv",
        str(table),
    ]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n_images"] == 60 and len(result["residual_error"]) == len(result["shortcut_error"]) == 6
    assert fig.stat().st_size > 1000 and table.read_text().count("\n") == 7
    assert main(["lesion", "--checkpoint", ckpt, "--data", "digits", "--limit", "30"]) == 0
    out = capsys.readouterr().out
    assert "intact test error" in out and "layer3.1" in out


def test_torchvision_weights_by_name_offline(tmp_path, monkeypatch, capsys, digit_png):
    monkeypatch.setattr(torch.hub, "_hub_dir", str(tmp_path / "hub"))
    args = ["attribute", "--checkpoint", "ResNet18_Weights.DEFAULT", "--offline", "--image", digit_png]
    assert main(args + ["--method", "saliency", "--out", str(tmp_path / "x.png")]) == 2
    line = _error_line(capsys)
    assert "resnet18-f37072fd.pth" in line and str(tmp_path / "hub" / "checkpoints") in line


class Payload:
    """Pickling this needs this module's code: the loader must refuse it."""


@pytest.fixture
def bad_files(tmp_path, digits):
    files = {}
    files["text.pt"] = tmp_path / "text.pt"
    files["text.pt"].write_text("hello")
    files["code.pt"] = tmp_path / "code.pt"
    torch.save({"state_dict": {}, "payload": Payload()}, files["code.pt"])
    files["imagenet.pt"] = tmp_path / "imagenet.pt"
    import torchvision

    torch.save(torchvision.models.resnet18().state_dict(), files["imagenet.pt"])
    files["empty.png"] = tmp_path / "empty.png"
    files["empty.png"].write_bytes(b"")
    files["text.jpg"] = tmp_path / "text.jpg"
    files["text.jpg"].write_text("this is not a photo")
    files["cut.png"] = tmp_path / "cut.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(files["cut.png"])
    files["cut.png"].write_bytes(files["cut.png"].read_bytes()[:500])
    return {k: str(v) for k, v in files.items()}


def test_every_bad_input_is_one_line_and_exit_2(ckpt, digit_png, bad_files, tmp_path, capsys):
    out = str(tmp_path / "f.png")
    attribute = ["attribute", "--method", "saliency", "--out", out]
    cases = [
        (["eval", "--checkpoint", str(tmp_path / "missing.pt"), "--data", "digits"], "does not exist"),
        (["eval", "--checkpoint", bad_files["text.pt"], "--data", "digits"], "not a PyTorch weights file"),
        (["eval", "--checkpoint", bad_files["code.pt"], "--data", "digits"], "need code"),
        (["eval", "--checkpoint", ckpt, "--arch", "resnet20", "--data", "digits"], "looks like resnet14"),
        (["eval", "--checkpoint", bad_files["imagenet.pt"], "--data", "digits"], "1000 classes"),
        (["eval", "--checkpoint", ckpt, "--data", "no-such-set"], "unknown data set"),
        (["eval", "--checkpoint", ckpt, "--data", "digits", "--limit", "0"], "--limit"),
        (["lesion", "--checkpoint", ckpt, "--data", "digits", "--limit", "-3"], "--limit"),
        (["lesion", "--checkpoint", ckpt, "--data", "digits", "--threads", "0"], "--threads"),
        (attribute + ["--checkpoint", ckpt, "--image", bad_files["empty.png"]], "empty"),
        (attribute + ["--checkpoint", ckpt, "--image", bad_files["text.jpg"]], "holds text"),
        (attribute + ["--checkpoint", ckpt, "--image", bad_files["cut.png"]], "truncated or corrupt"),
        (attribute + ["--checkpoint", ckpt, "--image", str(tmp_path)], "is a folder"),
        (attribute + ["--checkpoint", ckpt, "--image", digit_png, "--target", "12"], "out of range"),
        (attribute + ["--checkpoint", ckpt, "--image", digit_png, "--level", "top"], "unknown level"),
        (attribute + ["--checkpoint", ckpt, "--image", digit_png, "--alpha", "2"], "--alpha"),
        (
            ["attribute", "--checkpoint", ckpt, "--image", digit_png, "--method", "lime", "--out", out],
            "unknown attribution method",
        ),
        (
            [
                "attribute",
                "--checkpoint",
                ckpt,
                "--image",
                digit_png,
                "--method",
                "saliency",
                "--out",
                str(tmp_path / "f.xyz"),
            ],
            "ends in .xyz: a figure is written as .png",  # refused before any work (issue #17)
        ),
    ]
    for argv, expected in cases:
        assert main(argv) == 2, argv
        line = _error_line(capsys)
        assert expected in line, (argv, line)


# -- issue #9: nothing the verbs read is overwritten; numbers checked up front; honest counts --


def test_outputs_never_overwrite_an_input(ckpt, digit_png, tmp_path, capsys):
    image = tmp_path / "x.png"
    from pathlib import Path

    image.write_bytes(Path(digit_png).read_bytes())
    before, ckpt_before = image.read_bytes(), Path(ckpt).read_bytes()
    link = tmp_path / "same.png"
    link.symlink_to(image)
    attribute = ["attribute", "--checkpoint", ckpt, "--method", "saliency", "--image", str(image)]
    for out in (str(image), str(link), ckpt):
        assert main(attribute + ["--out", out]) == 2, out
        assert "also an input" in _error_line(capsys)
    lesion = ["lesion", "--checkpoint", ckpt, "--data", "digits", "--limit", "20"]
    for option in ("--out", "--csv"):
        assert main(lesion + [option, ckpt]) == 2
        assert "also an input" in _error_line(capsys)
    assert main(lesion + ["--csv", str(tmp_path)]) == 2
    assert "is a folder" in _error_line(capsys)
    assert main(lesion + ["--out", str(tmp_path / "a.png"), "--csv", str(tmp_path / "a.png")]) == 2
    assert "both" in _error_line(capsys)
    assert image.read_bytes() == before and Path(ckpt).read_bytes() == ckpt_before


def test_numeric_options_are_checked_before_any_work(ckpt, digit_png, tmp_path, capsys, monkeypatch):
    from resviz.core.inspect import loading

    def never(*a, **k):
        raise AssertionError("the model was loaded before the options were checked")

    monkeypatch.setattr(loading, "load_model", never)
    out = str(tmp_path / "f.png")
    attribute = ["attribute", "--checkpoint", ckpt, "--image", digit_png, "--method", "ig", "--out", out]
    cases = [
        (attribute + ["--steps", "100000000"], "--steps must be a whole number from 1 to 1,000"),
        (attribute + ["--steps", "0"], "--steps must be a whole number from 1 to 1,000"),
        (attribute + ["--threads", "100000"], "--threads must be a whole number from 1 to 512"),
        (["eval", "--checkpoint", ckpt, "--data", "digits", "--threads", "100000"], "--threads"),
        (["lesion", "--checkpoint", ckpt, "--data", "digits", "--threads", "-1"], "--threads"),
        (["eval", "--checkpoint", ckpt, "--data", "digits", "--limit", "0"], "--limit"),
    ]
    for argv, expected in cases:
        assert main(argv) == 2, argv
        assert expected in _error_line(capsys), argv
    with pytest.raises(SystemExit) as info:  # non-finite numbers: refused by the one float parser (issue #17)
        main(attribute + ["--alpha", "nan"])
    assert info.value.code == 2 and "argument --alpha: must be a finite number" in capsys.readouterr().err
    assert not (tmp_path / "f.png").exists()


def test_limit_is_stratified_and_reported(ckpt, tmp_path, capsys):
    assert main(["eval", "--checkpoint", ckpt, "--data", "digits", "--limit", "50", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["class_counts"] == {str(d): 5 for d in range(10)} and result["n_images"] == 50
    assert result["error"] == round(100 * result["wrong"] / 50, 2)
    assert main(["eval", "--checkpoint", ckpt, "--data", "digits", "--limit", "50"]) == 0
    assert "5 of each of the 10 classes" in capsys.readouterr().out
    table = tmp_path / "l.csv"
    assert (
        main(["lesion", "--checkpoint", ckpt, "--data", "digits", "--limit", "30", "--json", "--csv", str(table)]) == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["class_counts"] == {str(d): 3 for d in range(10)}
    assert all(
        e == round(100 * w / 30, 2) for e, w in zip(result["residual_error"], result["residual_wrong"], strict=True)
    )
    assert "residual_deleted_wrong" in table.read_text().splitlines()[0]
    assert main(["lesion", "--checkpoint", ckpt, "--data", "digits", "--limit", "30"]) == 0
    assert "3 of each of the 10 classes" in capsys.readouterr().out
