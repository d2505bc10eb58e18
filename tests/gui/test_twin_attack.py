"""The twin finder ignores entries beside the run that cannot be read (issue #17 item 20)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from resviz.core.runs import RunStore
from resviz.gui import twin as twin_module
from resviz.gui.twin import find_twin


def _run(path: Path, arch: str) -> Path:
    RunStore.create(path, config={"arch": arch, "data": "digits"}, layout={}, versions={}).close()
    (path / "checkpoints").mkdir()
    (path / "checkpoints" / "step_0000004.pt").write_bytes(b"weights")
    return path


def test_a_symbolic_link_loop_beside_the_run_is_ignored(tmp_path):
    own = _run(tmp_path / "resnet8", "resnet8")
    _run(tmp_path / "plain8", "plain8")
    os.symlink("zz-loop", tmp_path / "zz-loop")
    found = find_twin(own, [])
    assert found.checkpoint is not None and found.checkpoint.parent.parent.name == "plain8", found.note


def test_an_unreadable_folder_beside_the_run_is_ignored(tmp_path, monkeypatch):
    own = _run(tmp_path / "resnet8", "resnet8")
    _run(tmp_path / "plain8", "plain8")
    (tmp_path / "aa-locked").mkdir()
    real = Path.is_dir

    def is_dir(self):
        if self.name == "aa-locked":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(twin_module.Path, "is_dir", is_dir)
    found = find_twin(own, [])
    assert found.checkpoint is not None and found.checkpoint.parent.parent.name == "plain8", found.note
