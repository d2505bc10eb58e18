"""Issue #17 item 1: every output check looks at the file that is actually written.

matplotlib appends ``.png`` to a name without a suffix; the guards looked at the name given,
so ``--out pic`` overwrote the input ``pic.png``, and a link ``fig.png`` into another run
turned its database into a PNG. And one rule for every output: written to a temporary file
and moved into place, so a link at the output is replaced, never written through.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image

from resviz.cli import main
from resviz.core.checkpoint import checkpoint_dict, save_checkpoint
from resviz.core.errors import ConfigError
from resviz.core.outputs import check_output

TINY = ["--arch", "resnet8", "--iters", "4", "--batch-size", "8", "--eval-every", "4", "--device", "cpu", "--quiet"]


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory, trained_resnet14, digits):
    path = tmp_path_factory.mktemp("ckpt") / "resnet14.pt"
    meta = checkpoint_dict(trained_resnet14, classes=digits.classes, mean=digits.mean, dataset="digits", step=40)
    return str(save_checkpoint(path, meta))


@pytest.fixture(scope="module")
def _run(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("r") / "kref"
    assert main(["train", *TINY, "--out", str(run)]) == 0
    return run


@pytest.fixture
def run(_run, tmp_path) -> Path:
    return Path(shutil.copytree(_run, tmp_path / "kref"))


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[-1].startswith("resviz: error: ") and "Traceback" not in "\n".join(err), err
    return err[-1]


# -- the path resolved before it is checked --


def test_a_figure_name_without_a_suffix_is_checked_as_name_png(tmp_path):
    from resviz.core.outputs import FIGURE

    assert check_output(tmp_path / "fig", kind=FIGURE) == tmp_path / "fig.png"
    assert check_output(tmp_path / "fig.PNG", kind=FIGURE) == tmp_path / "fig.PNG"
    assert check_output(tmp_path / "fig.svg", kind=FIGURE) == tmp_path / "fig.svg"
    pic = tmp_path / "pic.png"
    pic.write_bytes(b"image")
    with pytest.raises(ConfigError, match=r"pic\.png is also an input"):
        check_output(tmp_path / "pic", inputs=[pic], kind=FIGURE)
    with pytest.raises(ConfigError, match=r"\.txt"):
        check_output(tmp_path / "fig.txt", kind=FIGURE)
    with pytest.raises(ConfigError, match="folder"):
        check_output(str(tmp_path / "new") + "/", kind=FIGURE)
    with pytest.raises(ConfigError, match="is a folder"):  # not written as tmp_path.png beside it
        check_output(tmp_path, kind=FIGURE)
    with pytest.raises(ConfigError, match="File name too long"):
        check_output(tmp_path / ("b" * 300), kind=FIGURE)


def test_attribute_out_without_suffix_never_overwrites_the_input(ckpt, digits, tmp_path, capsys):
    pic = tmp_path / "pic.png"
    Image.fromarray(digits.test.images[0].permute(1, 2, 0).numpy()).save(pic)
    before = pic.read_bytes()
    args = ["attribute", "--checkpoint", ckpt, "--method", "saliency", "--image", str(pic)]
    assert main([*args, "--out", str(tmp_path / "pic")]) == 2
    assert f"{pic} is also an input" in _error(capsys)
    assert pic.read_bytes() == before
    # A new name: the message names the file that exists.
    assert main([*args, "--out", str(tmp_path / "sal")]) == 0
    assert f"wrote {tmp_path / 'sal.png'}" in capsys.readouterr().out
    assert (tmp_path / "sal.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (tmp_path / "sal").exists()


def test_report_through_a_link_into_another_run_is_refused(run, tmp_path, capsys):
    victim = Path(shutil.copytree(run, tmp_path / "victim"))
    before = (victim / "metrics.sqlite").read_bytes()
    (tmp_path / "fig.png").symlink_to(victim / "metrics.sqlite")
    assert main(["report", str(run), "--out", str(tmp_path / "fig")]) == 2
    assert "inside the run folder" in _error(capsys)
    assert (victim / "metrics.sqlite").read_bytes() == before


def test_report_replaces_a_link_instead_of_writing_through_it(run, tmp_path, capsys):
    other = tmp_path / "notes.txt"
    other.write_text("my notes")
    link = tmp_path / "link.png"
    link.symlink_to(other)
    assert main(["report", str(run), "--out", str(link)]) == 0
    assert other.read_text() == "my notes"
    assert not link.is_symlink() and link.read_bytes()[:4] == b"\x89PNG"
    assert f"wrote {link}" in capsys.readouterr().err


def test_a_hard_link_to_a_file_is_replaced_not_written_through(run, tmp_path):
    other = tmp_path / "keep.csv"
    other.write_text("keep")
    hard = tmp_path / "hard.csv"
    hard.hardlink_to(other)
    assert main(["export", str(run), "--out", str(hard)]) == 0
    assert other.read_text() == "keep" and hard.read_text().startswith("step,metric")


def test_report_name_without_suffix_is_written_as_png_and_said(run, tmp_path, capsys):
    assert main(["report", str(run), "--out", str(tmp_path / "fig")]) == 0
    assert f"wrote {tmp_path / 'fig.png'}" in capsys.readouterr().err
    assert (tmp_path / "fig.png").is_file() and not (tmp_path / "fig").exists()


def test_lesion_and_features_check_the_written_name(ckpt, tmp_path, capsys):
    target = tmp_path / "target.png"
    target.symlink_to(ckpt)
    before = Path(ckpt).read_bytes()
    for verb in (
        ["lesion", "--checkpoint", ckpt, "--data", "digits", "--limit", "20"],
        ["features", "--checkpoint", ckpt, "--data", "digits", "--limit", "20"],
        ["landscape", "--checkpoint", ckpt, "--data", "digits", "--grid", "2", "--images", "8"],
    ):
        assert main([*verb, "--out", str(tmp_path / "target")]) == 2, verb
        assert "also an input" in _error(capsys)
    assert Path(ckpt).read_bytes() == before


def test_a_failed_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    from resviz.core.outputs import atomic_output

    out = tmp_path / "old.csv"
    out.write_text("old")
    with pytest.raises(RuntimeError), atomic_output(out) as tmp:
        tmp.write_text("half")
        raise RuntimeError("writer died")
    assert out.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.csv"]
