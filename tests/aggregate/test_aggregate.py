"""Percentiles, uptime, latency summaries and history cells."""

from __future__ import annotations

import statistics
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.policy.aggregate import (
    HistoryCell,
    LatencySummary,
    Uptime,
    history_cells,
    percentile,
)
from harness.policy.status import Outcome
from harness.result import FailureKind, ProbeResult

T0 = datetime(2024, 5, 1, tzinfo=UTC)
PASS = ProbeResult("P", "m", "ping", T0, ok=True, ttfc_ms=100.0, total_ms=300.0)
FAIL = replace(PASS, ok=False, kind=FailureKind.HTTP_SERVER, ttfc_ms=None, total_ms=None)
LIMITED = replace(FAIL, kind=FailureKind.RATE_LIMITED, http_status=429)
OFFLINE = replace(FAIL, kind=FailureKind.HARNESS_OFFLINE)

samples = st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=200)


def test_median_of_an_even_count_interpolates() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5


def test_percentile_ends_are_minimum_and_maximum() -> None:
    values = [7.0, 3.0, 9.0, 1.0]
    assert (percentile(values, 0), percentile(values, 100)) == (1.0, 9.0)


def test_p95_of_one_to_a_hundred() -> None:
    assert percentile(range(1, 101), 95) == pytest.approx(95.05)


def test_percentile_of_one_value_is_that_value() -> None:
    assert percentile([42.0], 95) == 42.0


def test_percentile_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)


@pytest.mark.parametrize("q", [-1, 100.5])
def test_percentile_outside_0_to_100_is_an_error(q: float) -> None:
    with pytest.raises(ValueError, match="within"):
        percentile([1.0], q)


@given(values=samples, q1=st.floats(0, 100), q2=st.floats(0, 100))
def test_percentile_grows_with_q(values: list[float], q1: float, q2: float) -> None:
    low, high = sorted((q1, q2))
    assert percentile(values, low) <= percentile(values, high)


@given(values=samples, q=st.floats(0, 100))
def test_percentile_lies_within_the_values(values: list[float], q: float) -> None:
    assert min(values) <= percentile(values, q) <= max(values)


@given(values=samples.filter(lambda v: len(v) >= 2))
def test_percentile_agrees_with_statistics_inclusive_quartiles(values: list[float]) -> None:
    quartiles = statistics.quantiles(values, n=4, method="inclusive")
    ours = [percentile(values, q) for q in (25, 50, 75)]
    assert ours == pytest.approx(quartiles, rel=1e-9, abs=1e-6)


def test_uptime_is_the_share_of_conclusive_probes_that_passed() -> None:
    assert Uptime(ok=2, total=4).ratio == 0.5


def test_uptime_of_nothing_conclusive_has_no_ratio() -> None:
    assert Uptime(ok=0, total=0).ratio is None


def test_p99_is_given_from_a_hundred_samples_of_that_timing() -> None:
    ninety_nine = LatencySummary.from_samples([(float(i), float(i)) for i in range(99)])
    assert (ninety_nine.ttfc_p99, ninety_nine.total_p99) == (None, None)
    assert ninety_nine.ttfc_p95 is not None
    hundred = LatencySummary.from_samples([(float(i), None) for i in range(1, 101)])
    assert hundred.ttfc_p99 == pytest.approx(99.01)
    assert hundred.total_p99 is None


def test_latency_from_samples_skips_missing_timings() -> None:
    summary = LatencySummary.from_samples([(10.0, None), (None, None), (30.0, 50.0)])
    assert (summary.n, summary.ttfc_p50, summary.total_p50) == (3, 20.0, 50.0)


def test_history_cells_run_oldest_to_newest_and_keep_the_newest() -> None:
    results = [replace(PASS, started_at=T0 + timedelta(minutes=m)) for m in (5, 1, 3, 4, 2)]
    cells = history_cells(results, limit=3)
    assert [c.at.minute for c in cells] == [3, 4, 5]


def test_history_cells_show_the_outcome_kind_and_first_chunk_time() -> None:
    results = [
        replace(r, started_at=T0 + timedelta(minutes=i))
        for i, r in enumerate([PASS, FAIL, LIMITED, OFFLINE])
    ]
    assert history_cells(results) == [
        HistoryCell(Outcome.OK, T0, None, 100.0),
        HistoryCell(Outcome.FAIL, T0 + timedelta(minutes=1), FailureKind.HTTP_SERVER, None),
        HistoryCell(Outcome.THROTTLED, T0 + timedelta(minutes=2), FailureKind.RATE_LIMITED, None),
        HistoryCell(
            Outcome.INCONCLUSIVE, T0 + timedelta(minutes=3), FailureKind.HARNESS_OFFLINE, None
        ),
    ]


def test_history_cells_default_to_the_last_fifty() -> None:
    results = [replace(PASS, started_at=T0 + timedelta(minutes=m)) for m in range(80)]
    assert len(history_cells(results)) == 50
    assert history_cells(results, limit=0) == []
