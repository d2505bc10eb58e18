"""One answer to "what is this run": names, kinds and depths from the arch spec, and run folders."""

from __future__ import annotations

import pytest

from resviz.core.archs import arch_name, parse_arch, spec_of
from resviz.core.errors import RunError
from resviz.core.runs.reader import check_run_folder, is_run_folder
from resviz.core.train.config import TrainConfig


def test_names_kinds_and_twins():
    assert arch_name(20) == "resnet20" and arch_name(56, plain=True) == "plain56"
    spec = parse_arch("resnet20")
    assert (spec.kind, spec.depth, spec.plain) == ("resnet", 20, False)
    assert spec.twin.name == "plain20" and spec.twin.plain and spec.twin.twin == spec
    assert parse_arch("resnet20", plain=True) == parse_arch("plain20")
    assert parse_arch("Plain-56").name == "plain56" and parse_arch("plain56").with_plain(False).name == "resnet56"
    # ImageNet nets keep their family through the switch
    assert parse_arch("resnet50").twin.family == "imagenet" and parse_arch("resnet50", "cifar").twin.family == "cifar"


@pytest.mark.parametrize(
    "arch,family,option",
    [
        ("resnet20", "cifar", "A"),
        ("resnet110", "cifar", "A"),
        ("resnet8", "cifar", "A"),
        ("resnet18", "imagenet", "B"),
        ("resnet50", "imagenet", "B"),
        ("plain34", "imagenet", "B"),
    ],
)
def test_the_family_default_shortcut(arch, family, option):
    spec = parse_arch(arch)
    assert (spec.family, spec.shortcut) == (family, option)


@pytest.mark.parametrize(
    "config,label,plain,depth",
    [
        (dict(arch="resnet20"), "resnet20", False, 20),
        (dict(arch="resnet20", plain=True), "plain20", True, 20),
        (dict(arch="plain56"), "plain56", True, 56),
        (dict(arch="resnet20", shortcut="B"), "resnet20-B", False, 20),
        (dict(arch="resnet20", shortcut="b"), "resnet20-B", False, 20),
        (dict(arch="resnet20", shortcut="B", plain=True), "plain20", True, 20),  # no shortcuts to choose
        (dict(arch="resnet50"), "resnet50", False, 50),
    ],
)
def test_a_configs_label_kind_and_depth(config, label, plain, depth):
    cfg = TrainConfig(**config)
    assert (cfg.label, cfg.is_plain, cfg.depth) == (label, plain, depth)
    assert cfg.spec == parse_arch(config["arch"], plain=bool(config.get("plain")))
    assert spec_of(cfg.to_dict()) == cfg.spec  # a saved config says the same


def test_saved_configs_name_their_net_even_when_this_version_would_refuse_them():
    assert spec_of({"arch": "resnet8", "plain": True, "lr": -1, "from_the_future": 1}).name == "plain8"
    assert spec_of({}) is None and spec_of({"arch": "vgg16"}) is None and spec_of({"arch": "?"}) is None


def test_what_is_a_run_folder(tmp_path):
    with pytest.raises(RunError, match="does not exist") as missing:
        check_run_folder(tmp_path / "nope")
    assert "not a folder" in str(missing.value)
    (tmp_path / "file").write_text("x")
    with pytest.raises(RunError, match="is a file, not a folder"):
        check_run_folder(tmp_path / "file")
    run = tmp_path / "run"
    run.mkdir()
    with pytest.raises(RunError, match=r"not a run folder \(no config.json\).*resviz train"):
        check_run_folder(run)
    (run / "config.json").write_text("{}")
    assert not is_run_folder(run)
    with pytest.raises(RunError, match=r"not a run folder \(no layout.json\)"):
        check_run_folder(run)
    (run / "layout.json").write_text("{}")
    assert is_run_folder(run) and check_run_folder(run) == run
    assert not is_run_folder(tmp_path / "file") and not is_run_folder(tmp_path / "nope")
