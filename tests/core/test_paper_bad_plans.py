"""A paper.json damaged or edited by hand: one clear error naming the file, never a
traceback and never the default plan in its place (found by attack, issue #9's rule)."""

from __future__ import annotations

import json

import pytest

from resviz.core.errors import RunError
from resviz.core.paper.agreement import disagreement
from resviz.core.paper.plan import PaperPlan
from resviz.core.paper.report import read_plan

_GOOD = PaperPlan(data="digits", depths=(8,), plain_depths=(8,), iters=20, threads=1).to_dict()


def _folder(tmp_path, plan=_GOOD, data=None):
    doc = {"data": {"classes": 10, "test_images": 359, "describe": "digits"} if data is None else data}
    if plan is not None:
        doc["plan"] = plan
    (tmp_path / "paper.json").write_text(json.dumps(doc))
    return tmp_path


def test_a_good_plan_reads_back_with_its_facts(tmp_path):
    plan, facts, notes = read_plan(_folder(tmp_path))
    assert plan.iters == 20 and plan.depths == (8,) and plan.plain_depths == (8,)
    assert facts == {"classes": 10, "test_images": 359, "describe": "digits"} and notes == []


@pytest.mark.parametrize(
    "edit, message",
    [
        ({"iters": "20"}, "iters must be a whole number from 1 to 1,000,000,000, not '20'"),
        ({"iters": None}, "iters must be a whole number from 1 to 1,000,000,000, not None"),
        ({"overrides": [1]}, "the plan's overrides are a JSON object of training settings, not [1]"),
        ({"overrides": {"bogus": 1}}, "the plan's overrides cannot set bogus"),
        ({"overrides": {"arch": "resnet50"}}, "the plan's overrides cannot set arch"),
        ({"overrides": {"iters": 5}}, "the plan's overrides cannot set iters"),
    ],
)
def test_a_damaged_plan_is_one_error_naming_the_file(tmp_path, edit, message):
    folder = _folder(tmp_path, {**_GOOD, **edit})
    with pytest.raises(RunError) as info:
        read_plan(folder)
    assert str(info.value).startswith(f"{folder / 'paper.json'} is damaged: ")
    assert message in str(info.value)


@pytest.mark.parametrize("plan", [None, [1], "x"])
def test_a_missing_plan_is_refused_not_replaced_by_the_papers_default(tmp_path, plan):
    folder = _folder(tmp_path, plan)
    if plan is None:
        doc = json.loads((folder / "paper.json").read_text())
        assert "plan" not in doc
    with pytest.raises(RunError, match='is damaged: its "plan" is'):
        read_plan(folder)


def test_a_plan_may_override_the_settings_it_leaves_open(tmp_path):
    plan, _, _ = read_plan(_folder(tmp_path, {**_GOOD, "overrides": {"bf16": False, "compile": "off"}}))
    assert plan.base_config().bf16 is False and plan.base_config().compile == "off"


@pytest.mark.parametrize(
    "data, kept, noted",
    [
        ([1, 2], {}, ['"data" is not a JSON object']),
        ("abc", {}, ['"data" is not a JSON object']),
        ({"classes": "x", "test_images": 359}, {"test_images": 359}, ["data classes 'x' is not a count"]),
        ({"classes": 10, "test_images": -3}, {"classes": 10}, ["data test_images -3 is not a count"]),
        ({"classes": True, "describe": [1]}, {}, ["data classes True", "data describe [1] is not a text"]),
    ],
)
def test_damaged_facts_are_left_out_with_a_note(tmp_path, data, kept, noted):
    _, facts, notes = read_plan(_folder(tmp_path, data=data))
    assert facts == kept
    assert len(notes) == len(noted) and all(n in note for n, note in zip(noted, notes, strict=True))


# -- a run folder that holds another net than the plan's --------------------------------

_PLANNED = dict(PaperPlan(data="digits", depths=(8,), plain_depths=(8,), iters=300, threads=1).nets())


def test_the_planned_net_agrees_even_on_another_device_or_thread_count():
    cfg = _PLANNED["resnet8"]
    ran = {**cfg.to_dict(), "device": "cpu", "threads": 2, "compile": "off", "bf16": False}
    assert disagreement(ran, cfg) is None


@pytest.mark.parametrize(
    "edit, words",
    [
        ({"arch": "resnet14"}, "it trains resnet14, the plan resnet8"),
        ({"plain": True}, "it trains plain8, the plan resnet8"),
        ({"iters": 71}, "it was trained with iters 71 (the plan: 300)"),
        ({"seed": 3, "lr": 0.5}, "seed 3 (the plan: 0), lr 0.5 (the plan: 0.1)"),
        ({"arch": 5}, "its config.json names no net"),
        ({"iters": "x"}, "its config.json is damaged: iters must be a whole number"),
    ],
)
def test_a_run_that_is_not_the_planned_net_says_what_differs(edit, words):
    cfg = _PLANNED["resnet8"]
    assert words in disagreement({**cfg.to_dict(), **edit}, cfg)
