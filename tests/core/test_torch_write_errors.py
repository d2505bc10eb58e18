"""Issue #17 item 18: a disk that fills inside torch's zip writer reads "no space left".

On a 1.5 MB tmpfs torch's writer reported the short write as ``RuntimeError: [enforce fail
at inline_container.cc:672] unexpected pos ...`` and status.json kept that raw text. Faked
here by making ``torch.save`` raise what it raised there (tests need no root for a tmpfs).
"""

from __future__ import annotations

import json

import pytest
import torch

from resviz.cli import main
from resviz.core import checkpoint as checkpoint_module
from resviz.core.checkpoint import save_checkpoint
from resviz.core.errors import WriteError

UNEXPECTED_POS = (
    "[enforce fail at inline_container.cc:672] . unexpected pos 1472 vs 1366\n"
    "frame #0: c10::ThrowEnforceNotMet(char const*, int, char const*, std::string const&, void const*)"
)


def _full_disk(*args, **kwargs):
    raise RuntimeError(UNEXPECTED_POS)


def test_the_zip_writers_unexpected_pos_is_no_space_left(tmp_path, monkeypatch):
    monkeypatch.setattr(torch, "save", _full_disk)
    with pytest.raises(WriteError, match=r"^no space left on .* while writing .*step_0000001\.pt$"):
        save_checkpoint(tmp_path / "step_0000001.pt", {"format": "x"})
    assert list(tmp_path.iterdir()) == []  # no temporary left behind


def test_another_runtime_error_is_not_called_a_full_disk(tmp_path, monkeypatch):
    def other(*args, **kwargs):
        raise RuntimeError("something else entirely")

    monkeypatch.setattr(torch, "save", other)
    with pytest.raises(RuntimeError, match="something else"):
        save_checkpoint(tmp_path / "step_0000001.pt", {"format": "x"})


def test_a_run_whose_checkpoint_meets_a_full_disk_says_so_in_status(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(checkpoint_module.torch, "save", _full_disk)
    run = tmp_path / "run"
    argv = ["train", "--arch", "resnet8", "--iters", "2", "--batch-size", "8", "--device", "cpu", "--quiet"]
    assert main([*argv, "--out", str(run)]) != 0
    status = json.loads((run / "status.json").read_text())
    assert status["status"] == "failed"
    assert status["reason"].startswith("no space left on "), status["reason"]
    assert "inline_container" not in status["reason"]
    err = capsys.readouterr().err
    assert "no space left on" in err and "inline_container" not in err and "Traceback" not in err


def test_the_data_cache_on_a_full_disk_is_skipped_quietly(tmp_path, monkeypatch):
    from resviz.core.data import folder

    monkeypatch.setattr(folder.torch, "save", _full_disk)
    folder._write_cache(tmp_path / "cache" / "blob.pt", {"x": 1})
    assert list((tmp_path / "cache").iterdir()) == []
