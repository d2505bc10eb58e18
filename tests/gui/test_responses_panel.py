"""The Fig. 7 panel draws the paper's measurement (test batch, BN eval) and says when it cannot."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import curve_len

from resviz.core.records import Record
from resviz.gui.plots.responses import TITLES, ResponsePanel
from resviz.gui.runs import Run, RunsModel
from resviz.gui.theme import theme


def _run(name: str, *, test: bool) -> Run:
    run = Run(name, config={"arch": "resnet8", "iters": 20}, status="running")
    vectors = {"response_std": np.array([1.0, 0.9, 1.1])}
    run.apply([Record(step=10, scalars={"train_error": 50.0}, vectors=vectors)])
    if test:
        run.apply(
            [Record(step=20, scalars={"test_error": 40.0}, vectors={"test_response_std": np.array([2.0, 0.5, 0.25])})]
        )
    return run


def _legend(panel) -> list[str]:
    return [label.text for _, label in panel.legend.items]


@pytest.fixture
def panel(qtbot):
    """A Fig. 7 panel on its own, cut from the app's theme afterwards: the theme is global, and
    a closed panel must not hear the next test's window set it."""
    panel = ResponsePanel(RunsModel())
    qtbot.addWidget(panel)
    panel.show()
    yield panel
    theme().changed.disconnect(panel._on_theme_changed)


def test_the_test_batch_is_drawn_and_a_run_without_it_is_marked(panel, qtbot):
    runs = panel.runs
    new = runs.add(_run("resnet8", test=True))
    qtbot.waitUntil(lambda: curve_len(panel._items[new].ordered) == 3, timeout=5000)
    np.testing.assert_array_equal(panel._items[new].ordered.getData()[1], [2.0, 0.5, 0.25])
    np.testing.assert_array_equal(panel._items[new].sorted.getData()[1], [2.0, 0.5, 0.25])
    assert panel._titles["response_std"] == TITLES["test_response_std"] and "BN in eval" in panel.toolTip()
    old = runs.add(_run("resnet8 old", test=False))
    qtbot.waitUntil(lambda: curve_len(panel._items[old].ordered) == 3, timeout=5000)
    np.testing.assert_array_equal(panel._items[old].ordered.getData()[1], [1.0, 0.9, 1.1])
    assert _legend(panel) == ["resnet8", "resnet8 old · training batch"]
    assert panel._titles["response_std"] == TITLES["mixed"]
    # the old run gets its first evaluation: the note goes, the title says test images only
    old.apply([Record(step=20, scalars={}, vectors={"test_response_std": np.array([0.3, 0.2, 0.1])})])
    qtbot.waitUntil(lambda: panel.drawn[old] == "test_response_std", timeout=5000)
    assert _legend(panel) == ["resnet8", "resnet8 old"]
    assert panel._titles["response_std"] == TITLES["test_response_std"]
