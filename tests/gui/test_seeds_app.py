"""Seeds in the app (issue #18): the Degradation form's Seeds box, the paper dialog's, and the
Paper tab showing a net trained with several seeds as their mean."""

from __future__ import annotations

import numpy as np
import pytest

from resviz.core.paper.plan import PaperPlan
from resviz.core.records import Record, StatusChange
from resviz.gui.controls import TrainControls
from resviz.gui.paper import PaperDialog, PaperTab
from resviz.gui.paper.tab import GROUP
from resviz.gui.runs import Run, RunsModel
from resviz.gui.theme import theme


@pytest.fixture
def controls(app, qtbot):
    from PySide6 import QtWidgets

    from resviz.gui.actions import WindowActions

    window = QtWidgets.QMainWindow()
    qtbot.addWidget(window)
    yield TrainControls(WindowActions(window), parent=window)


def test_the_seeds_box_reaches_the_degradation_plan_and_is_remembered(controls, app, qtbot):
    assert controls.seeds.value() == 1 and controls.seeds.maximum() == 20  # MAX_SEEDS
    controls.depths.setText("8, 14")
    assert len(controls.degradation_configs()) == 4  # one seed: plain and residual at each depth
    controls.seeds.setValue(3)
    configs = controls.degradation_configs()
    # 2 depths x plain/residual x 3 seeds; the twins of a depth share each seed, 0, 1 and 2
    assert len(configs) == 12
    assert sorted((c.spec.name, c.seed) for c in configs if c.depth == 8) == [
        (a, s) for a in ("plain8", "resnet8") for s in (0, 1, 2)
    ]
    controls.save()
    from PySide6 import QtWidgets

    from resviz.gui.actions import WindowActions

    window = QtWidgets.QMainWindow()
    qtbot.addWidget(window)
    again = TrainControls(WindowActions(window), parent=window)
    assert again.seeds.value() == 3


def test_the_paper_dialogs_seeds_box_reaches_the_plan(app, qtbot):
    dialog = PaperDialog()
    qtbot.addWidget(dialog)
    dialog.set_choice(data="digits", depths="8", plain_depths="8", iters=12, device="cpu", seeds=2)
    plan = dialog.plan()
    assert plan.seeds == 2 and dialog.seeds.maximum() == 5
    assert plan.names() == ["plain8-seed0", "resnet8-seed0", "plain8-seed1", "resnet8-seed1"]
    dialog._debounce.stop()  # no estimate needed here


def _run(name: str, seed: int, *, train: float, test: float, status: str = "finished") -> Run:
    run = Run(f"{name}-seed{seed}", config={"arch": name, "iters": 100, "seed": seed}, status="running")
    run.group, run.experiment = GROUP, "one"
    recs = [Record(step=s, scalars={"train_error": train, "loss": 0.1}) for s in range(10, 101, 10)]
    recs[-1].scalars["test_error"] = test
    recs[-1].vectors["test_response_std"] = np.array([1.0, 0.5])
    run.apply(recs)
    if status != "running":
        run.apply([StatusChange(status)])
    return run


def test_the_paper_tab_shows_a_seeded_net_as_best_mean_and_std(app, qtbot):
    runs = RunsModel()
    tab = PaperTab(runs=runs)
    qtbot.addWidget(tab)
    try:
        tab.show_experiment(
            PaperPlan(depths=(20,), plain_depths=(20,), iters=100, seeds=2), {"test_images": 10_000}, None
        )
        runs.add(_run("resnet20", 0, train=3.0, test=8.0))
        runs.add(_run("plain20", 0, train=20.0, test=30.0))
        runs.add(_run("plain20", 1, train=21.0, test=31.0))
        tab.update_text()
        assert "waiting for resnet20-seed1 (not started)" in tab.text.toPlainText()
        runs.add(_run("resnet20", 1, train=4.0, test=9.0))
        tab.update_text()
        text = tab.text.toPlainText()
        # resnet20: test errors 8 and 9: best 8.00, mean 8.50, sample std |8 - 9| / sqrt(2) = 0.71;
        # training errors 3 and 4: mean 3.50 ± 0.71. The difference is our best against Table 6's 8.75.
        assert "8.00 (8.50 ± 0.71)" in text and "3.50 ± 0.71" in text and "-0.75" in text
        assert "best (mean ± std) over the seeds" in text
        # 3.5 vs 20.5 % training error, 8.5 vs 30.5 % test error: far beyond the spread; 1.0 vs 1.0 responses
        assert tab.verdicts() == ["holds", "too close to call"]
        assert "over 2 seeds" in text
    finally:  # the theme is global: a closed tab must not hear the next test's window set it
        theme().changed.disconnect(tab.update_text)
