"""Run > Reproduce the paper: the dialog says the cost first; the Paper tab fills in as nets finish."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import curve_len, trained_experiment

from resviz.core.paper.plan import PaperPlan
from resviz.core.records import Record, StatusChange
from resviz.gui.paper import PaperDialog, PaperTab
from resviz.gui.paper.tab import GROUP
from resviz.gui.runs import Run, RunsModel
from resviz.gui.theme import theme


def _wait_estimate(dialog, qtbot):
    qtbot.waitUntil(lambda: dialog.estimated is not None, timeout=120_000)
    return dialog.estimate.text()


def test_the_dialog_shows_the_estimate_and_holds_back_a_long_job(qtbot):
    dialog = PaperDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.data.currentData() == "cifar10" and not dialog.download.isChecked()  # the default, no download
    assert dialog.depths.text() == "20, 32, 44, 56, 110" and dialog.iters.value() == 64_000
    dialog.set_choice(data="digits", depths="8, 14", plain_depths="8", iters=30, device="cpu")
    assert not dialog.start.isEnabled()  # nothing starts before the estimate is in
    text = _wait_estimate(dialog, qtbot)
    assert "estimated time on cpu" in text and "for 3 net(s)" in text
    assert "the paper's full schedule (64,000 iterations per net) would take about" in text
    assert dialog.start.isEnabled() and not dialog.confirm.isVisible()
    # an hours-long budget: said, and held back until the user ticks that they know
    dialog.iters.setValue(2_000_000)
    text = _wait_estimate(dialog, qtbot)  # the speeds are kept: no new measurement
    assert dialog.estimated.estimate.long and "a smaller budget: --iters" in text
    assert dialog.confirm.isVisible() and "I know this takes about" in dialog.confirm.text()
    assert not dialog.start.isEnabled()
    dialog.confirm.setChecked(True)
    assert dialog.start.isEnabled()
    # a bad depth: said at once, nothing measured, no start
    dialog.depths.setText("8, 50")
    assert "ImageNet ResNet" in dialog.estimate.text() and not dialog.start.isEnabled()


def test_cifar10_is_never_downloaded_unless_allowed(qtbot):
    dialog = PaperDialog()
    qtbot.addWidget(dialog)
    dialog.set_choice(data="cifar10", depths="8", plain_depths="", iters=10, device="cpu")
    text = _wait_estimate(dialog, qtbot)
    assert "CIFAR-10 is not in" in text and "Allow download" in text and not dialog.start.isEnabled()
    dialog.download.setChecked(True)
    _wait_estimate(dialog, qtbot)
    assert dialog.estimated.problem is None and dialog.start.isEnabled()
    assert dialog.plan().download


def test_the_estimate_measures_with_the_threads_the_app_trains_with(qtbot):
    """Preferences › Training threads, not the rule alone: the estimate before Start is timed
    with the threads the runs will get (issue 19)."""
    from resviz.gui import settings
    from resviz.gui.preferences import THREADS_KEY, training_threads

    settings.settings().setValue(THREADS_KEY, 2)
    dialog = PaperDialog()
    qtbot.addWidget(dialog)
    dialog.set_choice(data="digits", depths="8", plain_depths="", iters=10, device="cpu")
    assert dialog.plan().threads == training_threads() == 2
    _wait_estimate(dialog, qtbot)


def _run(name: str, *, train: float, test: float, status: str, steps: int = 100, responses=(1.0, 0.5)) -> Run:
    run = Run(name, config={"arch": name, "iters": 100}, status="running")
    run.group, run.experiment = GROUP, "one"
    recs = [Record(step=s, scalars={"train_error": train, "loss": 0.1}) for s in range(10, steps + 1, 10)]
    recs[-1].scalars["test_error"] = test
    recs[-1].vectors["test_response_std"] = np.array(responses)
    run.apply(recs)
    if status != "running":
        run.apply([StatusChange(status)])
    return run


def test_the_tab_shows_the_papers_numbers_and_fills_in_claim_by_claim(qtbot):
    runs = RunsModel()
    tab = PaperTab(runs=runs)
    qtbot.addWidget(tab)
    try:
        _fill_in(tab, runs)
    finally:  # the theme is global: a closed tab must not hear the next test's window set it
        theme().changed.disconnect(tab.update_text)


def _fill_in(tab, runs):
    assert "Reproduce the paper" in tab.text.toPlainText() and "ResNet-110" in tab.text.toPlainText()
    tab.show_experiment(PaperPlan(depths=(20, 56), plain_depths=(20,), iters=100), {"test_images": 10_000}, None)
    runs.add(_run("resnet20", train=3.0, test=8.0, status="finished", responses=(1.0, 0.8)))
    runs.add(_run("plain20", train=5.0, test=10.0, status="running", steps=50, responses=(1.5, 1.0)))
    tab.update_text()
    text = tab.text.toPlainText()
    assert "resnet20" in text and "8.75" in text and "-0.75" in text  # ours beside Table 6's, and the difference
    assert "8.00 ± 0.27" in text  # ± one binomial SE on the 10,000 test images: 100·sqrt(.08·.92/10000)
    assert "waiting for plain20 (50 of 100 iterations)" in text and "resnet56 (not started)" in text
    assert tab.verdicts() == ["not judged yet"] * 4
    # 6.5 vs 8.0 % on 10,000 test images: SE 0.247 and 0.271, 2σ of the difference 0.73 < 1.5
    runs.add(_run("resnet56", train=1.0, test=6.5, status="finished", responses=(0.5, 0.4)))
    runs.runs[1].apply(
        [Record(step=s, scalars={"train_error": 5.0}) for s in range(60, 101, 10)] + [StatusChange("finished")]
    )
    tab.update_text()
    assert tab.verdicts() == ["holds"] * 4
    text = tab.text.toPlainText()
    assert "✓ holds" in text and "waiting" not in text
    assert "exceeds 2 standard errors of the difference" in text


@pytest.mark.slow
def test_reproduce_the_paper_queues_the_nets_and_the_tab_fills_in(window, qtbot):
    window.actions.paper.trigger()
    dialog = window.paper_dialog
    assert dialog.isVisible()
    dialog.set_choice(data="digits", depths="8, 14", plain_depths="8", iters=12, device="cpu")
    _wait_estimate(dialog, qtbot)
    dialog.start.click()
    runs = [r for r in window.runs if r.group == GROUP]
    assert sorted(r.name for r in runs) == ["plain8", "resnet14", "resnet8"]
    by_name = {r.name: r for r in runs}
    # lockstep groups on the CPU: a depth each, the plain net with its residual twin
    assert {r.name for r in by_name["plain8"].peers} == {"plain8", "resnet8"}
    assert [r.name for r in by_name["resnet14"].peers] == ["resnet14"]
    tab = window.paper_tab
    assert "waiting for" in tab.text.toPlainText()
    qtbot.waitUntil(lambda: all(r.status == "finished" for r in runs), timeout=240_000)
    qtbot.waitUntil(lambda: "not judged yet" not in tab.verdicts(), timeout=30_000)
    assert len(tab.verdicts()) == 4  # resnet14 vs 8, resnet8 vs plain8 twice, responses 14 vs 8
    folder = runs[0].run_dir.parent
    assert {r.run_dir.parent for r in runs} == {folder}  # one experiment folder for every group
    assert tab.folder == folder and (folder / "paper.json").is_file()
    qtbot.waitUntil(lambda: (folder / "claims.md").is_file() and (folder / "table6.md").is_file(), timeout=60_000)
    qtbot.waitUntil(lambda: "wrote" in tab.status.text(), timeout=60_000)
    curves = window.train_tab.curves._items
    assert all(curve_len(curves[r].train) >= 3 for r in runs)  # the Train tab's panels overlay them


def test_a_paper_experiment_folder_reopened_after_a_restart_fills_the_tab_again(window, qtbot, tmp_path):
    """File > Open on the experiment's folder (not a run folder): its nets come back as one
    group, the Paper tab takes its plan from paper.json and judges the claims again, and the
    files it already has are kept (only the button writes them again)."""
    from resviz.core.paper.run import PaperExperiment

    plan = PaperPlan(data="digits", depths=(8,), plain_depths=(8,), iters=12, batch_size=16, device="cpu")
    folder = tmp_path / "exp"
    PaperExperiment(folder, plan).run()
    table = (folder / "table6.md").read_bytes()
    (folder / "table6.md").write_bytes(b"kept\n" + table)  # so a rewrite would show
    run = window.open_run_folder(folder)
    runs = [r for r in window.runs if r.group == GROUP]
    assert run is not None and sorted(r.name for r in runs) == ["plain8", "resnet8"]
    assert {r.experiment for r in runs} == {"exp"} and all(r.origin == "folder" for r in runs)
    assert {r.name for r in runs[0].peers} == {"plain8", "resnet8"}  # "Continue group" takes both
    tab = window.paper_tab
    assert tab.plan == plan and tab.folder == folder and window.tabs.currentWidget() is tab
    qtbot.waitUntil(lambda: tab.verdicts() and "not judged yet" not in tab.verdicts(), timeout=30_000)
    assert len(tab.verdicts()) == 2  # resnet8 vs plain8: test error and training error
    assert "resnet8" in tab.text.toPlainText() and "finished" in tab.text.toPlainText()
    qtbot.wait(1500)  # three refreshes: none writes the files
    assert (folder / "table6.md").read_bytes().startswith(b"kept\n")
    # opening it again shows the same runs, not twins
    assert window.open_run_folder(folder) in runs and len(window.runs) == 2


def test_an_app_degradation_folder_reopened_goes_back_to_its_panel(window, tmp_path):
    """The app's experiments are ``<time>-degradation/<net>``: reopened, the panel follows them."""
    folder = tmp_path / "20261201-120000-degradation"
    trained_experiment(folder, "plain8", "resnet8")
    (folder / "notes.txt").write_text("not a run")
    window.open_run_folder(folder)
    assert sorted((r.name, r.group) for r in window.runs) == [("plain8", "degradation"), ("resnet8", "degradation")]
    assert [r.name for r in window.degradation.latest.runs] == ["plain8", "resnet8"]
    assert window.degradation_dock.isVisible()


def test_a_damaged_net_of_an_experiment_is_named_and_the_others_open(window, tmp_path):
    folder = tmp_path / "exp"
    trained_experiment(folder, "plain8", "resnet8")
    (folder / "plain8" / "config.json").write_text("[1, 2, 3]")
    run = window.open_run_folder(folder)
    assert run is not None and [r.name for r in window.runs] == ["resnet8"] and run.peers == [run]
    assert "1 of the runs of exp could not be opened" in window.last_error
    assert "plain8" in window.last_error and "not a JSON object" in window.last_error


def test_a_folder_without_runs_is_refused_as_before(window, tmp_path):
    (tmp_path / "other" / "sub").mkdir(parents=True)
    assert window.open_run_folder(tmp_path / "other") is None
    assert "not a run folder" in window.last_error and len(window.runs) == 0


def test_a_folder_of_experiments_says_to_open_one_of_them(window, tmp_path):
    trained_experiment(tmp_path / "root" / "exp-a", "resnet8")
    (tmp_path / "root" / "exp-b").mkdir()  # not an experiment: not named
    assert window.open_run_folder(tmp_path / "root") is None
    assert window.last_error == f"{tmp_path / 'root'} holds experiment folders (exp-a), not runs: open one of them"
    assert len(window.runs) == 0
