"""Raw numbers out (issue #20): ``attribute --npz/--json``, ``eval --json`` loss, ``--image sample:NAME``.

The numbers read back are checked against Captum and torch called directly on the same net.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from resviz.cli import main
from resviz.core.checkpoint import checkpoint_dict, save_checkpoint
from resviz.core.inspect import decode_image, load_model
from resviz.core.samples import SAMPLES, sample_path, samples_available


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory, trained_resnet14, digits):
    path = tmp_path_factory.mktemp("ckpt") / "resnet14.pt"
    save_checkpoint(
        path, checkpoint_dict(trained_resnet14, classes=digits.classes, mean=digits.mean, dataset="digits", step=40)
    )
    return str(path)


@pytest.fixture(scope="module")
def digit_png(tmp_path_factory, digits):
    path = tmp_path_factory.mktemp("img") / "digit.png"
    Image.fromarray(digits.test.images[3].permute(1, 2, 0).numpy()).save(path)
    return str(path)


def _net_and_input(ckpt, image):
    loaded = load_model(ckpt)
    x = loaded.preprocess.prepare(decode_image(image)).tensor
    return loaded.model.eval(), x


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[-1].startswith("resviz: error: ")
    return err[-1]


def test_saliency_npz_and_json_hold_what_captum_and_softmax_give(ckpt, digit_png, tmp_path, capsys):
    from captum.attr import Saliency

    npz, js = tmp_path / "sal.npz", tmp_path / "sal.json"
    argv = ["attribute", "--checkpoint", ckpt, "--image", digit_png, "--method", "saliency"]
    assert main(argv + ["--npz", str(npz), "--json", str(js)]) == 0
    assert f"wrote {npz}, {js}" in capsys.readouterr().out
    net, x = _net_and_input(ckpt, digit_png)
    with torch.no_grad():
        probs = F.softmax(net(x), dim=1)[0]
    top = int(probs.argmax())
    direct = Saliency(net).attribute(x.clone().requires_grad_(), target=top, abs=True)[0]
    with np.load(npz) as got:
        assert sorted(got.files) == [
            "attribution_input",
            "classes",
            "display",
            "heatmap_input",
            "input",
            "method",
            "probabilities",
            "target",
        ]
        assert np.allclose(got["probabilities"], probs.numpy(), atol=1e-6)
        assert got["probabilities"].sum() == pytest.approx(1.0, abs=1e-5)
        assert int(got["target"]) == top and str(got["method"]) == "saliency"
        assert list(got["classes"]) == [str(i) for i in range(10)]
        assert np.allclose(got["input"], x[0].numpy())
        assert np.allclose(got["attribution_input"], direct.numpy(), atol=1e-6)
        assert got["heatmap_input"].shape == got["display"].shape[:2] == tuple(x.shape[-2:])
        npz_arrays = {k: got[k] for k in got.files}
    record = json.loads(js.read_text())
    assert np.allclose(np.array(record["attribution_input"]), npz_arrays["attribution_input"])
    assert record["shapes"]["attribution_input"] == list(direct.shape)
    assert record["predictions"][0]["index"] == top
    assert record["predictions"][0]["probability"] == pytest.approx(float(probs[top]), abs=1e-6)


def test_gradcam_npz_has_one_map_per_level_matching_captum(ckpt, digit_png, tmp_path, capsys):
    from captum.attr import LayerAttribution, LayerGradCam

    from resviz.core.models.registry import level_module

    npz = tmp_path / "cam.npz"
    argv = ["attribute", "--checkpoint", ckpt, "--image", digit_png, "--method", "gradcam", "--target", "2"]
    assert main(argv + ["--npy", str(npz)]) == 0  # --npy is the same option
    capsys.readouterr()
    net, x = _net_and_input(ckpt, digit_png)
    with np.load(npz) as got:
        assert int(got["target"]) == 2
        for level in ("low", "mid", "high"):
            cam = LayerGradCam(net, level_module(net, level)).attribute(x, target=2, relu_attributions=True)
            direct = LayerAttribution.interpolate(cam, tuple(x.shape[-2:]), "bilinear")[0]
            assert np.allclose(got[f"attribution_{level}"], direct.detach().numpy(), atol=1e-5), level
            assert 0.0 <= got[f"heatmap_{level}"].min() and got[f"heatmap_{level}"].max() <= 1.0


def test_attribute_needs_somewhere_to_write(ckpt, digit_png, tmp_path, capsys):
    argv = ["attribute", "--checkpoint", ckpt, "--image", digit_png, "--method", "saliency"]
    assert main(argv) == 2
    assert "say where to write" in _error_line(capsys)
    same = str(tmp_path / "x")
    assert main(argv + ["--npz", same, "--json", same]) == 2
    assert "must be different files" in _error_line(capsys)
    assert main(argv + ["--npz", ckpt]) == 2  # never over an input
    assert "resviz: error:" in _error_line(capsys)


def test_eval_json_reports_the_mean_cross_entropy_loss(ckpt, digits, capsys):
    assert main(["eval", "--checkpoint", ckpt, "--data", "digits", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    loaded = load_model(ckpt)
    with torch.no_grad():
        logits = loaded.model.eval()(loaded.preprocess.batch(digits.test.images))
    loss = F.cross_entropy(logits, digits.test.labels).item()
    wrong = int((logits.argmax(1) != digits.test.labels).sum())
    assert result["n_images"] == len(digits.test.labels) == 359
    assert result["loss"] == pytest.approx(loss, rel=1e-4) and result["wrong"] == wrong
    assert main(["eval", "--checkpoint", ckpt, "--data", "digits"]) == 0
    assert f"loss {loss:.4f}" in capsys.readouterr().out


def test_sample_photographs_ship_with_scikit_image():
    skimage_data = pytest.importorskip("skimage.data", reason="scikit-image (the sample photographs) is not installed")
    assert [s.name for s in samples_available()] == list(SAMPLES)
    for name, loader in (("chelsea", skimage_data.chelsea), ("coffee", skimage_data.coffee)):
        ours = decode_image(sample_path(f"sample:{name}")).rgb
        assert np.array_equal(ours, loader())


def test_attribute_on_a_sample_photograph(ckpt, tmp_path, capsys):
    pytest.importorskip("skimage", reason="scikit-image (the sample photographs) is not installed")
    out = tmp_path / "chelsea.npz"
    argv = ["attribute", "--checkpoint", ckpt, "--image", "sample:chelsea", "--method", "saliency"]
    assert main(argv + ["--npz", str(out)]) == 0
    capsys.readouterr()
    with np.load(out) as got:
        assert got["display"].shape == (16, 16, 3)  # the cat, as the digits net sees it
    assert (
        main(["attribute", "--checkpoint", ckpt, "--image", "sample:dog", "--method", "saliency", "--npz", str(out)])
        == 2
    )
    assert "no sample photograph called 'dog'" in _error_line(capsys)


def test_screenshot_takes_a_sample_photograph_and_refuses_an_unknown_one(tmp_path, capsys):
    argv = ["screenshot", str(tmp_path / "x.png"), "--checkpoint", "c.pt", "--inspect"]
    assert main([*argv, "sample:dog"]) == 2
    assert "no sample photograph called 'dog'" in _error_line(capsys)
    assert not (tmp_path / "x.png").exists()
