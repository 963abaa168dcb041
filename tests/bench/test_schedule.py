"""The schedule benchmark's arithmetic: gaps between a target's arrivals, a run's mean
period, and the median over runs against the interval."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.bench.goals import goals_of
from harness.bench.schedule import gaps_by_target, period_figures, summary, target_names


def test_a_target_s_gaps_are_the_differences_of_its_arrivals() -> None:
    gaps = gaps_by_target({"t000": [10.0, 15.0, 20.5], "t001": [3.0]})

    assert gaps == {"t000": [5.0, 5.5], "t001": []}


def test_a_run_s_mean_period_is_the_mean_of_its_targets_means() -> None:
    figures = period_figures({"a": [5.0, 5.0], "b": [5.0, 5.2, 5.4, 5.6], "c": []}, 5.0)

    assert figures["targets_measured"] == 2
    assert figures["gaps"] == 6
    assert figures["mean_gap_s"] == pytest.approx((5.0 + 5.3) / 2)
    assert figures["target_mean_gap_s"] == {"min": 5.0, "max": 5.3}
    assert figures["gap_s"] == {"min": 5.0, "max": 5.6}


def test_a_run_with_no_gap_has_no_period() -> None:
    assert period_figures({"a": [], "b": []}, 5.0)["mean_gap_s"] is None


def test_the_figure_is_the_median_over_runs_judged_against_two_percent() -> None:
    runs = [{"mean_gap_s": 5.05}, {"mean_gap_s": 5.2}, {"mean_gap_s": 4.99}]

    figures = summary(runs, 5.0)

    assert figures["median_mean_gap_s"] == 5.05
    assert figures["off_by"] == pytest.approx(0.01)
    assert figures["within_goal"] is True


def test_a_period_stretched_past_two_percent_misses_the_goal() -> None:
    stretched = summary([{"mean_gap_s": 7.47}], 5.0)
    goal = next(g for g in goals_of({"schedule": stretched}) if "period" in g.name)

    assert stretched["within_goal"] is False
    assert goal.value == pytest.approx(49.4)
    assert goal.met is False


@given(st.integers(1, 999))
def test_target_names_are_distinct_endpoint_names(count: int) -> None:
    names = target_names(count)

    assert len(set(names)) == count
    assert all(name.isalnum() for name in names)
