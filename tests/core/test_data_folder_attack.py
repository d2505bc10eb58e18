"""Image data folders with entries that cannot be read (issue #17 item 19).

A symbolic link loop in a split or class folder raised ELOOP from ``_list_split``; an
unreadable class or split folder raised PermissionError. Loops are skipped and counted;
a folder that cannot be listed is one line.
"""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest
from PIL import Image

from resviz.core.data import folder as folder_module
from resviz.core.data.folder import load_folder
from resviz.core.errors import DataError


@pytest.fixture
def image_folder(tmp_path):
    root = tmp_path / "imgs"
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        for cls in ("a", "b"):
            (root / split / cls).mkdir(parents=True)
            for i in range(2):
                pixels = rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(root / split / cls / f"{i}.png")
    return root


def test_symbolic_link_loops_are_skipped_and_counted(image_folder):
    os.symlink("loop", image_folder / "train" / "loop")  # a class folder that is a loop
    os.symlink("x.png", image_folder / "train" / "a" / "x.png")  # an image that is a loop
    data = load_folder(image_folder, size=8, use_cache=False)
    assert data.classes == ["a", "b"]
    assert len(data.train) == 4 and len(data.test) == 4
    note = next(n for n in data.notes if "cannot be read" in n)
    assert note.startswith("skipped 2 entr(ies)") and "loop" in note and "x.png" in note


def test_an_unreadable_class_folder_is_one_line(image_folder, monkeypatch):
    """As root chmod 000 does not stop reading, so the listing itself is made to fail."""
    real = os.scandir
    locked = str(image_folder / "test" / "b")

    def scandir(path="."):
        if os.fspath(path) == locked:
            raise PermissionError(errno.EACCES, "Permission denied", locked)
        return real(path)

    monkeypatch.setattr(folder_module.os, "scandir", scandir)
    with pytest.raises(DataError, match=r"cannot be read: permission denied") as info:
        load_folder(image_folder, size=8, use_cache=False)
    assert "\n" not in str(info.value) and locked in str(info.value)


def test_a_split_that_is_a_link_loop_is_one_line(image_folder, tmp_path):
    import shutil

    shutil.rmtree(image_folder / "test")
    os.symlink("test", image_folder / "test")
    with pytest.raises(DataError) as info:
        load_folder(image_folder, size=8, use_cache=False)
    assert "\n" not in str(info.value) and "test" in str(info.value)
