"""check_output: never write over an input, into a run folder, or onto a pipe (issue #9)."""

from __future__ import annotations

import os

import pytest

from resviz.core.errors import ConfigError
from resviz.core.outputs import check_output, run_folder_of


def _fake_run(folder):
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "layout.json").write_text("{}")
    (folder / "checkpoints").mkdir()
    return folder


def test_a_new_file_is_fine(tmp_path):
    assert check_output(tmp_path / "fig.png") == tmp_path / "fig.png"


def test_an_existing_regular_file_may_be_replaced(tmp_path):
    f = tmp_path / "old.csv"
    f.write_text("x")
    assert check_output(f) == f


def test_the_input_itself_is_refused_under_any_name(tmp_path):
    image = tmp_path / "cat.png"
    image.write_bytes(b"png")
    (tmp_path / "link.png").symlink_to(image)
    with pytest.raises(ConfigError, match="also an input"):
        check_output(image, inputs=[image])
    with pytest.raises(ConfigError, match="also an input"):
        check_output(tmp_path / "link.png", inputs=[str(image)])
    with pytest.raises(ConfigError, match="also an input"):
        check_output(tmp_path / "sub" / ".." / "cat.png", inputs=[image])


def test_every_file_of_a_run_folder_is_refused(tmp_path):
    run = _fake_run(tmp_path / "r")
    for name in ("metrics.sqlite", "config.json", "new.csv", "checkpoints/step_0000001.pt"):
        with pytest.raises(ConfigError, match="inside the run folder"):
            check_output(run / name)
    assert run_folder_of(run / "checkpoints" / "x.pt") == run
    assert run_folder_of(tmp_path / "elsewhere.csv") is None


def test_a_symlink_into_a_run_folder_is_refused(tmp_path):
    run = _fake_run(tmp_path / "r")
    (tmp_path / "db").symlink_to(run / "metrics.sqlite")
    with pytest.raises(ConfigError, match="inside the run folder"):
        check_output(tmp_path / "db")


def test_a_folder_and_a_fifo_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="is a folder"):
        check_output(tmp_path)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="not a regular file"):
        check_output(fifo)


def test_threads_and_finite_numbers_are_checked():
    from resviz.core.limits import MAX_THREADS, check_finite, check_threads

    assert check_threads(None) is None
    assert check_threads(2) == 2
    for bad in (0, -1, MAX_THREADS + 1, 100000, True, 2.0):
        with pytest.raises(ConfigError, match="--threads must be a whole number from 1"):
            check_threads(bad)
    assert check_finite(1e-4, "--weight-decay") == 1e-4
    for bad in (float("nan"), float("inf"), "x", None):
        with pytest.raises(ConfigError, match="--weight-decay must be a finite number"):
            check_finite(bad, "--weight-decay")


def test_a_text_written_atomically_replaces_the_old_or_leaves_it_whole(tmp_path):
    from resviz.core.outputs import write_text_atomic

    path = tmp_path / "summary.md"
    path.write_text("the last summary\n")
    assert write_text_atomic(path, "a new one\n") == path and path.read_text() == "a new one\n"
    # a write that fails midway (a lone surrogate cannot be encoded: the encoder stops there)
    with pytest.raises(UnicodeEncodeError):
        write_text_atomic(path, "half of it" + "\ud800" + " never written")
    assert path.read_text() == "a new one\n"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.md"]  # no temporary left behind
