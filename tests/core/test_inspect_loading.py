"""Loading nets for inspection: our checkpoints, bare state dicts, torchvision, akamaster."""

from __future__ import annotations

import dataclasses
import socket
import urllib.error
import urllib.request

import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from resviz.core.checkpoint import checkpoint_dict, save_checkpoint
from resviz.core.errors import CheckpointError, ResvizError
from resviz.core.inspect import load_model
from resviz.core.inspect.hub import hub_checkpoint_dir, resolve_weights
from resviz.core.inspect.loading import CIFAR10_CLASSES
from resviz.core.inspect.preprocess import IMAGENET_MEAN, IMAGENET_STD
from resviz.core.inspect.statedict import infer_layout
from resviz.core.models import build_model

# -- a faithful reimplementation of pytorch_resnet_cifar10's resnet.py (akamaster) ----------
# Module names, the option-A lambda (x[:, :, ::2, ::2] padded planes//4 on both sides) and
# the forward pass (F.relu, F.avg_pool2d over the whole map, ``linear`` head) as in
# github.com/akamaster/pytorch_resnet_cifar10/blob/master/resnet.py.


class _LambdaLayer(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


class _AkaBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1, option="A"):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            if option == "A":
                self.shortcut = _LambdaLayer(
                    lambda x: F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, planes // 4, planes // 4), "constant", 0)
                )
            else:
                self.shortcut = nn.Sequential(
                    nn.Conv2d(in_planes, planes, kernel_size=1, stride=stride, bias=False), nn.BatchNorm2d(planes)
                )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        return F.relu(out)


class _AkaResNet(nn.Module):
    def __init__(self, num_blocks, num_classes=10, option="A"):
        super().__init__()
        self.in_planes = 16
        self.conv1 = nn.Conv2d(3, 16, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = self._make_layer(16, num_blocks[0], 1, option)
        self.layer2 = self._make_layer(32, num_blocks[1], 2, option)
        self.layer3 = self._make_layer(64, num_blocks[2], 2, option)
        self.linear = nn.Linear(64, num_classes)

    def _make_layer(self, planes, n, stride, option):
        layers = []
        for s in [stride] + [1] * (n - 1):
            layers.append(_AkaBlock(self.in_planes, planes, s, option))
            self.in_planes = planes
        return nn.Sequential(*layers)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.avg_pool2d(out, out.size()[3])
        return self.linear(out.view(out.size(0), -1))


def _randomise_bn(model: nn.Module, seed: int = 0) -> nn.Module:
    """Non-trivial BN statistics, so a wrongly mapped buffer changes the logits."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=g) * 0.1)
    return model.eval()


def _ours_to_akamaster(state: dict) -> dict:
    """Our key layout -> akamaster's checkpoint: the renaming of the loader in reverse."""
    out = {}
    for k, v in state.items():
        k = k.replace(".downsample.", ".shortcut.")
        if k.startswith("fc."):
            k = "linear." + k[3:]
        out["module." + k] = v
    return out


@pytest.mark.parametrize("depth,option", [(8, "A"), (14, "A"), (14, "B")])
def test_akamaster_checkpoint_gives_their_logits(tmp_path, depth, option):
    torch.manual_seed(depth)
    ours = _randomise_bn(build_model(f"resnet{depth}", shortcut=option))
    n = (depth - 2) // 6
    theirs = _AkaResNet([n, n, n], option=option).eval()
    aka_state = _ours_to_akamaster(ours.state_dict())
    # Old checkpoints (torch < 0.4.1) have no num_batches_tracked; the loader must not care.
    aka_state = {k: v for k, v in aka_state.items() if not k.endswith("num_batches_tracked")}
    theirs.load_state_dict({k[len("module.") :]: v for k, v in aka_state.items()}, strict=False)
    path = tmp_path / f"resnet{depth}.th"
    torch.save({"epoch": 200, "best_prec1": 91.7, "state_dict": aka_state}, path)

    loaded = load_model(path)
    assert loaded.layout == "pytorch_resnet_cifar10"
    assert loaded.arch == f"resnet{depth}" and loaded.model.shortcut_option == option
    assert loaded.classes == CIFAR10_CLASSES
    assert loaded.preprocess.size == 32 and loaded.preprocess.mean == IMAGENET_MEAN
    assert loaded.preprocess.std == IMAGENET_STD
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        expected = theirs(x)
        got = loaded.model(x)
    assert torch.allclose(got, expected, atol=1e-5), (got - expected).abs().max()
    assert expected.std() > 0.1  # the comparison means something


def test_our_checkpoint_round_trip_keeps_weights_switches_classes_and_mean(tmp_path, digits):
    torch.manual_seed(0)
    model = _randomise_bn(build_model("resnet14"))
    model.set_shortcuts([True, False, True, True, True, True])
    model.set_residuals([True, True, True, True, False, True])
    path = save_checkpoint(
        tmp_path / "c.pt", checkpoint_dict(model, classes=digits.classes, mean=digits.mean, dataset="digits", step=7)
    )
    loaded = load_model(path)
    assert loaded.layout == "resviz" and loaded.arch == "resnet14"
    assert loaded.classes == digits.classes
    assert loaded.model.shortcuts() == model.shortcuts() and loaded.model.residuals() == model.residuals()
    assert loaded.preprocess.size == 16 and torch.equal(loaded.preprocess.pixel_mean, digits.mean)
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        assert torch.equal(loaded.model(x), model(x))


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_bare_state_dict_infers_the_architecture(tmp_path, suffix, digits):
    torch.manual_seed(1)
    model = _randomise_bn(build_model("resnet20", num_classes=7, shortcut="B"))
    path = tmp_path / f"w{suffix}"
    if suffix == ".pt":
        torch.save(model.state_dict(), path)
    else:
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
    loaded = load_model(path)
    assert (loaded.arch, loaded.model.family, loaded.model.shortcut_option, loaded.model.num_classes) == (
        "resnet20",
        "cifar",
        "B",
        7,
    )
    assert loaded.classes == [f"class {i}" for i in range(7)]
    assert any("no input mean" in n for n in loaded.notes)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(loaded.model(x), model(x))
    # The data set it is used with fills in the mean and the names.
    filled = loaded.with_data(list("abcdefg"), digits.mean)
    assert filled.classes == list("abcdefg") and filled.preprocess.pixel_mean is not None


def test_explicit_plain_arch_loads_resnet_weights_with_shortcuts_off(tmp_path):
    model = build_model("resnet8")
    torch.save(model.state_dict(), tmp_path / "w.pt")
    loaded = load_model(tmp_path / "w.pt", arch="plain8")
    assert loaded.arch == "plain8" and loaded.model.is_plain


def test_torchvision_state_dict_gives_torchvision_logits(tmp_path):
    torch.manual_seed(2)
    tv = _randomise_bn(torchvision.models.resnet18())
    torch.save(tv.state_dict(), tmp_path / "resnet18.pth")
    loaded = load_model(tmp_path / "resnet18.pth")
    assert loaded.layout == "torchvision" and loaded.arch == "resnet18" and loaded.model.family == "imagenet"
    assert len(loaded.classes) == 1000 and loaded.classes[0] == "tench"
    assert (loaded.preprocess.resize, loaded.preprocess.size) == (256, 224)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(loaded.model(x), tv(x), atol=1e-5)


def test_layout_inference_from_shapes():
    with torch.device("meta"):
        cases = {
            "resnet56": build_model("resnet56").state_dict(),
            "resnet50": build_model("resnet50").state_dict(),
            "resnet34": build_model("resnet34", shortcut="C").state_dict(),
        }
    got = {name: infer_layout(state) for name, state in cases.items()}
    assert (got["resnet56"].arch, got["resnet56"].family, got["resnet56"].shortcut) == ("resnet56", "cifar", "A")
    assert (got["resnet50"].arch, got["resnet50"].block, got["resnet50"].shortcut) == ("resnet50", "bottleneck", "B")
    assert (got["resnet34"].arch, got["resnet34"].shortcut, got["resnet34"].stage_blocks) == (
        "resnet34",
        "C",
        (3, 4, 6, 3),
    )
    assert infer_layout({"weight": torch.zeros(3)}) is None


def test_checkpoint_of_another_architecture_names_what_it_looks_like(tmp_path):
    torch.save(build_model("resnet14").state_dict(), tmp_path / "w.pt")
    with pytest.raises(CheckpointError) as e:
        load_model(tmp_path / "w.pt", arch="resnet8")
    msg = str(e.value)
    assert "does not fit resnet8" in msg and "looks like resnet14 (CIFAR" in msg
    assert "unexpected layer1.1." in msg
    torch.save(torchvision.models.resnet18().state_dict(), tmp_path / "tv.pt")
    with pytest.raises(CheckpointError, match=r"looks like resnet18 \(ImageNet.*conv1.weight is \(64, 3, 7, 7\)"):
        load_model(tmp_path / "tv.pt", arch="resnet20")


def test_weights_of_no_known_resnet_are_refused(tmp_path):
    torch.save({"encoder.weight": torch.zeros(4, 4)}, tmp_path / "w.pt")
    with pytest.raises(CheckpointError, match="no ResNet resviz knows"):
        load_model(tmp_path / "w.pt")


class NeedsCode:
    """A class of this test module: unpickling its objects needs this module's code."""

    def __init__(self) -> None:
        self.note = "unpickling me imports and runs code"


def test_pickle_that_needs_code_is_refused(tmp_path):
    torch.save({"state_dict": build_model("resnet8").state_dict(), "extra": NeedsCode()}, tmp_path / "evil.pt")
    with pytest.raises(CheckpointError) as e:
        load_model(tmp_path / "evil.pt")
    msg = str(e.value)
    assert "need code" in msg and "NeedsCode" in msg and "state_dict()" in msg


@pytest.mark.parametrize(
    "make,pattern",
    [
        (lambda p: p.write_bytes(b""), "empty"),
        (lambda p: p.write_text("not weights at all\n"), "not a PyTorch weights file"),
        (lambda p: p.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{broken json"), "not a readable safetensors"),
        (lambda p: torch.save([1, 2, 3], p), "holds no state dict"),
    ],
)
def test_unreadable_files_get_clear_messages(tmp_path, make, pattern):
    path = tmp_path / "w.pt"
    make(path)
    with pytest.raises(CheckpointError, match=pattern):
        load_model(path)


def test_missing_file_and_folders(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_model(tmp_path / "nope.pt")
    with pytest.raises(CheckpointError, match="no checkpoint in it"):
        load_model(tmp_path)
    # A run folder: its newest checkpoint is taken.
    import os

    (tmp_path / "checkpoints").mkdir()
    torch.save(build_model("resnet8").state_dict(), tmp_path / "checkpoints" / "step100.pt")
    torch.save(build_model("resnet14").state_dict(), tmp_path / "checkpoints" / "step200.pt")
    os.utime(tmp_path / "checkpoints" / "step100.pt", (1, 1))
    assert load_model(tmp_path).arch == "resnet14"


@pytest.fixture
def hub_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "_hub_dir", str(tmp_path / "hub"))
    return tmp_path / "hub" / "checkpoints"


def test_torchvision_weights_by_name_from_the_hub_cache(hub_dir, monkeypatch):
    weights = resolve_weights("ResNet18_Weights.DEFAULT")
    assert hub_checkpoint_dir() == hub_dir
    hub_dir.mkdir(parents=True)
    tv = _randomise_bn(torchvision.models.resnet18())
    torch.save(tv.state_dict(), hub_dir / weights.filename)
    # Random weights under torchvision's name: their hash is not the published one ...
    with pytest.raises(ResvizError, match="does not match its published SHA-256"):
        load_model("ResNet18_Weights.DEFAULT", download=False)
    # ... so the test publishes theirs (the cached file is verified as a download would be).
    _publish_hash_of(hub_dir / weights.filename, monkeypatch)
    loaded = load_model("ResNet18_Weights.DEFAULT", download=False)
    assert loaded.source == "ResNet18_Weights.IMAGENET1K_V1" and loaded.arch == "resnet18"
    assert loaded.classes[:2] == ["tench", "goldfish"]
    assert (loaded.preprocess.resize, loaded.preprocess.size) == (256, 224)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(loaded.model(x), tv(x), atol=1e-5)


def _publish_hash_of(path, monkeypatch):
    """Make torchvision's weights verify against ``path`` (a stand-in for the real file)."""
    import hashlib

    from resviz.core.inspect import hub

    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    real = hub.remote_file
    monkeypatch.setattr(hub, "remote_file", lambda w: dataclasses.replace(real(w), sha256=digest))


def test_resnet50_v2_weights_keep_their_own_resize():
    weights = resolve_weights("ResNet50_Weights.DEFAULT")
    assert (weights.resize, weights.crop, weights.depth) == (232, 224, 50)


def test_uncached_weights_offline_say_where_to_put_the_file(hub_dir, monkeypatch):
    with pytest.raises(ResvizError) as e:
        load_model("ResNet50_Weights.DEFAULT", download=False)
    msg = str(e.value)
    assert "resnet50-11ad3fa6.pth" in msg and str(hub_dir) in msg and "https://download.pytorch.org" in msg

    def offline(request, timeout=None):
        raise urllib.error.URLError(socket.gaierror(-2, "Name or service not known"))

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(ResvizError, match=r"cannot reach .*no network.*put it in"):
        load_model("ResNet50_Weights.DEFAULT")
    assert not any(hub_dir.iterdir())  # no half-written file left behind


def test_unknown_weights_name():
    with pytest.raises(CheckpointError, match="torchvision has no weights called ResNet19"):
        load_model("ResNet19_Weights.DEFAULT")


def test_a_trained_run_folder_loads_its_latest_checkpoint(tmp_path, digits):
    """A folder written by the engine: the checkpoint of the highest step, whatever the mtimes."""
    import os

    from resviz.core.runs import RunReader
    from resviz.core.train import TrainConfig, Trainer

    cfg = TrainConfig(arch="resnet8", iters=20, batch_size=16, checkpoint_every=10, eval_every=20, device="cpu")
    trainer = Trainer(cfg, run_dir=tmp_path / "run", dataset=digits)
    trainer.run()
    first, last = RunReader(tmp_path / "run").checkpoints()
    os.utime(first, (last.stat().st_mtime + 100, last.stat().st_mtime + 100))  # older step, newer file
    loaded = load_model(tmp_path / "run")
    assert loaded.arch == "resnet8" and loaded.classes == digits.classes
    for name, w in trainer.model.state_dict().items():
        torch.testing.assert_close(loaded.model.state_dict()[name], w.cpu())
