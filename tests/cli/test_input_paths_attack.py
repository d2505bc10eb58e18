"""Input paths the system cannot look up (issue #17 item 17): one line from one mechanism.

A name over 255 bytes made ``Path.exists()`` raise ``OSError: [Errno 36]`` in every command
that takes a path; :func:`resviz.core.inputs.usable_path` now checks every input path first,
and the CLI turns any OSError that still escapes into one line (a backstop).
"""

from __future__ import annotations

import errno
import os

import pytest

from resviz.cli import main
from resviz.core.errors import RunError
from resviz.core.inputs import shown_path, usable_path

LONG = "n" * 300


def _commands(tmp: str) -> list[list[str]]:
    long_path = os.path.join(tmp, LONG)
    nested = os.path.join(tmp, LONG, "x")
    return [
        ["export", long_path],
        ["report", long_path, "--out", os.path.join(tmp, "r.png")],
        ["train", "--out", long_path, "--iters", "2"],
        ["train", "--out", nested, "--iters", "2"],
        ["train", "--data", long_path, "--iters", "2", "--out", os.path.join(tmp, "ok")],
        ["train", "--resume", long_path],
        ["eval", "--checkpoint", long_path, "--data", "digits"],
        ["eval", "--checkpoint", long_path, "--data", nested],
        ["lesion", "--checkpoint", long_path, "--data", "digits"],
        ["features", "--checkpoint", long_path, "--data", "digits", "--out", os.path.join(tmp, "f.png")],
        ["experiment", "degradation", "--resume", long_path],
        ["screenshot", os.path.join(tmp, "s.png"), "--open", long_path],
    ]


@pytest.mark.parametrize("index", range(12))
def test_a_name_over_255_bytes_is_one_line_in_every_command(tmp_path, capsys, index):
    args = _commands(str(tmp_path))[index]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("resviz: error: "), err
    assert "one of its names is 300 bytes long, more than the 255" in err
    assert len(err) < 400  # the 300-character name is elided, not printed whole
    assert list(tmp_path.iterdir()) == []  # nothing was created


def test_usable_path_accepts_what_does_not_exist_and_refuses_what_cannot_be_looked_up(tmp_path):
    assert usable_path(tmp_path / "missing") == tmp_path / "missing"
    assert usable_path(tmp_path / "missing" / "deeper") == tmp_path / "missing" / "deeper"
    (tmp_path / "file").write_text("x")
    assert usable_path(tmp_path / "file" / "below") == tmp_path / "file" / "below"  # ENOTDIR: absent
    with pytest.raises(RunError, match="not a usable path"):
        usable_path("a\0b", error=RunError)
    os.symlink("loop", tmp_path / "loop")
    with pytest.raises(RunError, match="symbolic link loop"):
        usable_path(tmp_path / "loop", error=RunError)


def test_a_path_with_a_newline_is_shown_on_one_line():
    assert shown_path("a\nb") == "a\\nb"
    assert shown_path("x" * 500).count("x") == 120


def test_a_stray_os_error_is_one_line_not_a_traceback(monkeypatch, capsys):
    import resviz.cli.models as models

    def boom(_args):
        raise OSError(errno.ENAMETOOLONG, "File name too long", "y" * 400)

    monkeypatch.setattr(models, "run", boom)
    assert main(["models"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("resviz: error: cannot use yyy") and "File name too long" in err


# -- our own campaign: more cases of the same class that the issue did not name ----------------


def _fifo(tmp_path):
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return str(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes (POSIX)")
@pytest.mark.parametrize(
    "make_args,words",
    [
        (lambda t: ["train", "--data", str(t / "nl\ndir"), "--iters", "2", "--out", str(t / "o")], "nl\\ndir"),
        (lambda t: ["export", _fifo(t)], "is a named pipe (FIFO), not a folder"),
        (lambda t: ["train", "--resume", os.devnull], "/dev/null is a device, not a folder"),
        (
            lambda t: ["train", "--data", _fifo(t), "--iters", "2", "--out", str(t / "o")],
            "fifo",  # one line; the stream chooser merged from main words it
        ),
        (lambda t: ["eval", "--checkpoint", "", "--data", "digits"], "an empty path ('') names no file or folder"),
    ],
)
def test_hostile_input_paths_are_one_accurate_line(tmp_path, capsys, make_args, words):
    (tmp_path / "nl\ndir").mkdir()
    assert main(make_args(tmp_path)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err, err
