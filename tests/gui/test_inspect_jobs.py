"""The Inspect tab's worker: in order, cancellable, results on the GUI thread, errors kept."""

from __future__ import annotations

import threading

import pytest
from conftest import inspect_tab, load_into, wait_for_view

from resviz.core.errors import ImageError
from resviz.gui.inspect.jobs import JobWorker


def test_jobs_run_in_order_and_a_cancelled_one_never_delivers(qapp, qtbot):
    worker = JobWorker("test")
    gate = threading.Event()
    seen, threads = [], []
    worker.submit(lambda job: gate.wait(10), "hold")
    first = worker.submit(lambda job: seen.append("first") or "one", "first", on_done=seen.append)
    second = worker.submit(
        lambda job: (job.emit("half"), threads.append(threading.current_thread()))[0],
        "second",
        on_partial=lambda p: seen.append(("partial", p)),
        on_done=lambda r: seen.append("done"),
    )
    cancelled = []
    first.on_cancelled = lambda: cancelled.append(True)
    assert worker.busy
    first.cancel()  # stale while queued: it must never run, and its result never arrive
    with qtbot.waitSignal(worker.busy_changed, timeout=30_000, check_params_cb=lambda busy: not busy):
        worker.start()
        gate.set()
    assert seen == [("partial", "half"), "done"] and cancelled == [True]
    assert threads[0] is not threading.main_thread() and second.token.cancelled is False
    assert worker.shutdown(5)


@pytest.mark.parametrize(
    "error,expected",
    [
        (ImageError("x.png is empty (0 bytes): choose an image file that has content"), "x.png is empty (0 bytes)"),
        (ValueError("a bug"), "boom failed unexpectedly (ValueError: a bug)"),
    ],
)
def test_a_failing_job_reports_and_the_worker_goes_on(qapp, qtbot, error, expected, caplog):
    worker = JobWorker("test")
    worker.start()
    failures, results = [], []

    def boom(job):
        raise error

    worker.submit(boom, "boom", on_failed=failures.append)
    with qtbot.waitSignal(worker.busy_changed, timeout=30_000, check_params_cb=lambda busy: not busy):
        worker.submit(lambda job: 42, "after", on_done=results.append)
    assert len(failures) == 1 and failures[0].startswith(expected) and results == [42]
    assert ("Traceback" in caplog.text) == isinstance(error, ValueError)  # bugs keep their traceback
    assert worker.shutdown(5)


def test_a_new_image_cancels_the_stale_job(window, qtbot, tiny_run):
    tab = inspect_tab(window)
    load_into(tab, qtbot, tiny_run)
    gate = threading.Event()
    tab.session.worker.submit(lambda job: gate.wait(10), "hold")
    tab.gallery.pick(1)
    stale = tab.session._view_job
    tab.gallery.pick(2)
    assert stale.token.cancelled and tab.session._view_job is not stale
    gate.set()
    wait_for_view(tab, qtbot)
    assert tab.session.image.name.startswith("digits test image 2 ")
    assert {m.cached for m in tab.session.maps.values()} == {False}  # computed once, for image 2 only
    assert tab.session.inspector.cache.misses >= 3 and len(tab.session.inspector.cache) <= 4  # top-1 + 3 maps
