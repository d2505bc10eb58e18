"""The lesion study's state (LesionStudy): running, progress, and when its result goes stale.

The study's task is replaced by a stand-in that waits on a gate, so these tests follow the
state through a real worker thread without torch (the study itself is tested in
tests/core and, end to end, in test_inspect_surgery.py).
"""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from resviz.gui.inspect import tasks
from resviz.gui.inspect.lesion_study import LesionStudy
from resviz.gui.inspect.results import LesionProgress

AS_LOADED = ((True, True), (True, True))
CUT = ((False, True), (True, True))  # block 0's shortcut off


@pytest.fixture
def study(qapp, monkeypatch):
    """A started LesionStudy whose task reports progress 1/2, 2/2 once ``study.gate`` is set."""
    gate = threading.Event()
    asked = []

    def stand_in(job, *, loaded, data, switches, limit, copy_of):
        asked.append((switches, limit))
        assert gate.wait(10)
        job.emit(LesionProgress(1, 2))
        job.emit(LesionProgress(2, 2))
        return SimpleNamespace(arch="resnet8", n_images=limit, seconds=0.5)

    monkeypatch.setattr(tasks, "lesion_study", stand_in)
    s = LesionStudy()
    s.gate, s.asked = gate, asked
    s.start()
    yield s
    gate.set()
    assert s.shutdown(5)


def test_a_study_runs_reports_progress_and_holds_for_the_switches_it_ran_with(study, qtbot):
    progress, news = [], []
    study.progress.connect(lambda done, total: progress.append((done, total)))
    study.message.connect(news.append)
    study.forget(AS_LOADED)
    job = study.run(object(), object(), AS_LOADED, 120)
    assert job is not None and study.running
    assert study.run(object(), object(), AS_LOADED, 120) is None  # one study at a time
    study.gate.set()
    qtbot.waitUntil(lambda: not study.running, timeout=30_000)
    assert study.asked == [(AS_LOADED, 120)]
    assert progress == [(1, 2), (2, 2)] and study.result.n_images == 120 and study.ran_with == AS_LOADED
    assert not study.stale and news == ["lesion study of resnet8 on 120 test images in 0.5 s"]
    study.switches_moved(CUT)
    assert study.stale
    study.switches_moved(AS_LOADED)  # back as it was measured: the result holds again
    assert not study.stale
    study.forget(AS_LOADED)  # another net: nothing to show, nothing stale
    assert study.result is None and not study.stale


def test_switches_moved_while_it_ran_make_the_result_stale_at_once(study, qtbot):
    study.forget(AS_LOADED)
    study.run(object(), object(), AS_LOADED, 10)
    study.switches_moved(CUT)
    assert not study.stale  # no result yet: nothing to be stale
    study.gate.set()
    qtbot.waitUntil(lambda: not study.running, timeout=30_000)
    assert study.result is not None and study.stale


def test_a_cancelled_study_says_so_and_leaves_no_result(study, qtbot):
    news = []
    study.message.connect(news.append)
    study.forget(AS_LOADED)
    study.run(object(), object(), AS_LOADED, 10)
    study.cancel()
    study.gate.set()
    qtbot.waitUntil(lambda: not study.running, timeout=30_000)
    assert study.result is None and news == ["lesion study cancelled"]
