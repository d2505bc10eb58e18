"""``resviz features``, ``resviz landscape`` and the new ``attribute`` methods end to end."""

from __future__ import annotations

import json

import pytest
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
    path = tmp_path_factory.mktemp("img") / "digit.png"
    Image.fromarray(digits.test.images[0].permute(1, 2, 0).numpy()).save(path)
    return str(path)


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[-1].startswith("resviz: error: ") and "Traceback" not in "\n".join(err)
    return err[-1]


def test_features_writes_the_grid_and_reports_the_fields(ckpt, tmp_path, capsys):
    out = tmp_path / "features.png"
    args = ["features", "--checkpoint", ckpt, "--data", "digits", "--limit", "120", "--k", "4", "--channels", "3"]
    assert main(args + ["--out", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    # resnet14 (n = 2): low 3 + 4*2 = 11; mid 11 + 2 + 3*4 = 25; high 25 + 2*2 + 3*8 = 53.
    assert [(lv["level"], lv["field"], lv["jump"]) for lv in result["levels"]] == [
        ("low", 11, 1),
        ("mid", 25, 2),
        ("high", 53, 4),
    ]
    assert result["images"] == 120 and result["k"] == 4
    assert all(len(lv["top_channels"]) == 3 for lv in result["levels"])
    with Image.open(out) as im:
        assert im.size[1] > im.size[0]  # three channels down, three levels across
    out2 = tmp_path / "high.png"
    assert (
        main(
            [
                "features",
                "--checkpoint",
                ckpt,
                "--data",
                "digits",
                "--limit",
                "50",
                "--level",
                "high",
                "--out",
                str(out2),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "high (layer3): field 53 px, jump 4, 64 channels" in printed and "low" not in printed.split("\n", 2)[2]


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--level", "top"], "unknown level 'top'"),
        (["--k", "0"], "--k must be"),
        (["--channels", "0"], "--channels must be"),
        (["--limit", "0"], "--limit must be"),
    ],
)
def test_features_bad_options(ckpt, tmp_path, capsys, extra, message):
    assert main(["features", "--checkpoint", ckpt, "--data", "digits", "--out", str(tmp_path / "f.png"), *extra]) == 2
    assert message in _error(capsys)


def test_features_never_writes_over_its_checkpoint(ckpt, capsys):
    assert main(["features", "--checkpoint", ckpt, "--data", "digits", "--out", ckpt]) == 2
    assert "is also an input" in _error(capsys)


def test_attribute_layer_and_neuron_methods(ckpt, digit_png, tmp_path, capsys):
    out = tmp_path / "cond.png"
    assert (
        main(
            [
                "attribute",
                "--checkpoint",
                ckpt,
                "--image",
                digit_png,
                "--method",
                "conductance",
                "--steps",
                "4",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert "explained class" in capsys.readouterr().out
    with Image.open(out) as im:
        assert im.size[0] > 3 * im.size[1]  # input + three levels
    out = tmp_path / "neuron.png"
    args = ["attribute", "--checkpoint", ckpt, "--image", digit_png, "--method", "neuron-ig", "--steps", "4"]
    assert main(args + ["--level", "mid", "--channel", "3", "--out", str(out)]) == 0
    assert "explained channel 3 of the mid level" in capsys.readouterr().out
    assert (
        main(
            ["attribute", "--checkpoint", ckpt, "--image", digit_png, "--method", "neuron-gradient", "--out", str(out)]
        )
        == 0
    )
    assert capsys.readouterr().out.count("channel") == 3  # each level's most active one, named
    for method in ("smoothgrad", "gradientshap", "deeplift", "layer-activation"):
        assert (
            main(["attribute", "--checkpoint", ckpt, "--image", digit_png, "--method", method, "--out", str(out)]) == 0
        )
    capsys.readouterr()


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--method", "neuron-ig", "--channel", "3"], "--channel needs --level"),
        (["--method", "gradcam", "--channel", "3", "--level", "low"], "--channel is for neuron methods"),
        (["--method", "neuron-ig", "--channel", "16", "--level", "low"], "channels 0 to 15"),
    ],
)
def test_attribute_channel_errors(ckpt, digit_png, tmp_path, capsys, extra, message):
    assert (
        main(["attribute", "--checkpoint", ckpt, "--image", digit_png, "--out", str(tmp_path / "x.png"), *extra]) == 2
    )
    assert message in _error(capsys)


def test_landscape_of_a_net_and_its_plain_twin(ckpt, tmp_path, capsys):
    out, csv, js = tmp_path / "land.png", tmp_path / "land.csv", tmp_path / "land.json"
    args = [
        "landscape",
        "--checkpoint",
        ckpt,
        "--checkpoint",
        ckpt,
        "--arch",
        "resnet14",
        "--arch",
        "plain14",
        "--data",
        "digits",
        "--grid",
        "3",
        "--images",
        "32",
    ]
    assert main(args + ["--out", str(out), "--csv", str(csv), "--json", str(js)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("resnet14: 9 points on 32 training images") and printed[1].startswith(
        "plain14: 9 points"
    )
    assert len(csv.read_text().strip().splitlines()) == 1 + 2 * 9
    nets = json.loads(js.read_text())["nets"]
    assert [n["net"] for n in nets] == ["resnet14", "plain14"] and nets[0]["loss"] != nets[1]["loss"]
    with Image.open(out) as im:
        assert im.size[0] > 1.5 * im.size[1]  # two panels side by side
    one = tmp_path / "one.png"
    assert (
        main(
            [
                "landscape",
                "--checkpoint",
                ckpt,
                "--data",
                "digits",
                "--dims",
                "1",
                "--grid",
                "5",
                "--images",
                "16",
                "--out",
                str(one),
            ]
        )
        == 0
    )
    assert "5 points on 16 training images" in capsys.readouterr().out


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--grid", "1"], "--grid must be"),
        (["--span", "1e308"], "--span must be above 0 and at most 100"),  # nan: the float parser's (issue #17)
        (["--span", "-1"], "--span must be above 0"),
        (["--dims", "3"], "--dims must be 1 or 2"),
        (["--images", "0"], "--images must be"),
        (["--arch", "resnet14", "--arch", "plain14"], "once per --checkpoint"),
    ],
)
def test_landscape_bad_options(ckpt, tmp_path, capsys, extra, message):
    assert main(["landscape", "--checkpoint", ckpt, "--data", "digits", "--out", str(tmp_path / "l.png"), *extra]) == 2
    assert message in _error(capsys)


def test_landscape_outputs_must_differ(ckpt, tmp_path, capsys):
    out = str(tmp_path / "l.png")
    assert main(["landscape", "--checkpoint", ckpt, "--data", "digits", "--out", out, "--csv", out]) == 2
    assert "--out and --csv name the same file" in _error(capsys)
    assert main(["landscape", "--checkpoint", ckpt, "--data", "digits", "--out", ckpt]) == 2
    assert "is also an input" in _error(capsys)


def test_landscape_sweeps_the_training_split_of_a_folder(tmp_path, capsys):
    """eval and lesion read only a folder's test split (issue #9); the landscape is of the
    training loss, so it reads the training split: its point counts are training images."""
    import torch

    from resviz.core.models import build_model

    for split, n in (("train", 6), ("test", 2)):
        for c, colour in (("blue", (0, 0, 200)), ("red", (200, 0, 0))):
            (tmp_path / "data" / split / c).mkdir(parents=True)
            for i in range(n):
                Image.new("RGB", (8, 8), tuple(max(0, v - 20 * i) for v in colour)).save(
                    tmp_path / "data" / split / c / f"{i}.png"
                )
    torch.manual_seed(0)
    net = build_model("resnet8", num_classes=2).eval()
    ckpt = save_checkpoint(
        tmp_path / "r8.pt",
        checkpoint_dict(net, classes=["blue", "red"], mean=torch.full((3, 8, 8), 0.3), dataset="folder"),
    )
    out = tmp_path / "l.json"
    assert (
        main(
            [
                "landscape",
                "--checkpoint",
                str(ckpt),
                "--data",
                str(tmp_path / "data"),
                "--dims",
                "1",
                "--grid",
                "3",
                "--images",
                "100",
                "--out",
                str(tmp_path / "l.png"),
                "--json",
                str(out),
            ]
        )
        == 0
    )
    assert "on 12 training images" in capsys.readouterr().out  # all 12 of train/, none of test/
