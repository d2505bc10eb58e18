"""Paths named on the command line (``resviz-gui RUN``) open as a drop would (issue #17 item 13)."""

from __future__ import annotations

from conftest import trained_experiment


def test_a_run_folder_named_on_the_command_line_opens(window, tmp_path):
    run = trained_experiment(tmp_path / "exp", "resnet8") / "resnet8"
    window.open_paths([run])
    assert [r.run_dir for r in window.runs] == [run]


def test_what_a_drop_would_not_take_is_said(window, tmp_path):
    (tmp_path / "a.txt").write_text("x")
    window.open_paths([tmp_path / "a.txt"])
    assert "a.txt is neither a folder, an image nor a weights file" in window.last_error
    assert len(window.runs) == 0
