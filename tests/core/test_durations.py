"""Durations for people: the app's ETA (a clock) and the CLI's progress and summary."""

from __future__ import annotations

import pytest

from resviz.core.durations import format_duration


def test_eta_on_a_clock():
    assert format_duration(32, clock=True) == "0:32" and format_duration(725, clock=True) == "12:05"
    assert format_duration(7380, clock=True) == "2:03:00" and format_duration(59.6, clock=True) == "1:00"


def test_short_durations():
    assert format_duration(12) == "12s" and format_duration(187) == "3m07s" and format_duration(3720) == "1h02m"
    assert format_duration(0) == "0s" and format_duration(-3) == "0s"


@pytest.mark.parametrize("clock", [True, False])
def test_unknown_times_are_a_question_mark(clock):
    for unknown in (None, float("nan"), float("inf")):
        assert format_duration(unknown, clock=clock) == "?"
    assert format_duration(-1, clock=True) == "?"


def test_long_estimates_in_days_beyond_two():
    from resviz.core.durations import format_long_duration

    assert format_long_duration(444 * 3600 + 20 * 60) == "18.5 days"
    assert format_long_duration(47 * 3600) == "47h00m" and format_long_duration(None) == "?"
