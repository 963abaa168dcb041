"""Hourly rollups and their latency sketches (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.policy.aggregate import percentile
from harness.policy.rollup import (
    RELATIVE_ERROR,
    HourRollup,
    Sketch,
    fold,
    hour_of,
    rollup_latency,
    timing_suspect,
)
from harness.result import FailureKind, ProbeResult

NOW = datetime(2024, 5, 8, 12, 30, tzinfo=UTC)
PASS = ProbeResult("P", "m", "ping", NOW, ok=True, ttfc_ms=100.0, total_ms=300.0)
FAIL = replace(PASS, ok=False, kind=FailureKind.HTTP_SERVER, ttfc_ms=None, total_ms=None)

latencies = st.lists(st.floats(min_value=0.05, max_value=600_000), min_size=1, max_size=300)


def sketch_of(values: list[float]) -> Sketch:
    sketch = Sketch()
    for value in values:
        sketch.add(value)
    return sketch


@given(values=latencies, q=st.sampled_from([0, 50, 95, 99, 100]))
def test_a_quantile_is_within_the_relative_error_of_a_value_near_its_rank(
    values: list[float], q: float
) -> None:
    # Nearest rank: the sketch's answer stands for one of the values next to the exact
    # (interpolated) percentile.
    ordered = sorted(values)
    rank = round((len(values) - 1) * q / 100)
    estimate = sketch_of(values).quantile(q)
    assert estimate is not None
    assert estimate == pytest.approx(ordered[rank], rel=RELATIVE_ERROR * 1.001)
    low, high = min(ordered[rank], percentile(values, q)), max(ordered[rank], percentile(values, q))
    assert low * (1 - RELATIVE_ERROR) <= estimate * 1.000001
    assert estimate <= high * (1 + RELATIVE_ERROR) * 1.000001


@given(first=latencies, second=latencies)
def test_merging_sketches_is_adding_their_values(first: list[float], second: list[float]) -> None:
    merged = sketch_of(first)
    merged.merge(sketch_of(second))
    whole = sketch_of(first + second)
    assert merged.n == whole.n
    assert [merged.quantile(q) for q in (5, 50, 95)] == [whole.quantile(q) for q in (5, 50, 95)]


@given(values=latencies)
def test_a_sketch_survives_its_blob(values: list[float]) -> None:
    sketch = sketch_of(values)
    again = Sketch.from_blob(sketch.offset, sketch.to_blob())
    assert (again.offset, list(again.counts)) == (sketch.offset, list(sketch.counts))


def test_an_empty_sketch_has_no_quantile() -> None:
    assert Sketch().quantile(50) is None
    assert Sketch.from_blob(0, b"").n == 0


def test_results_fold_into_their_targets_hours() -> None:
    results = [
        PASS,
        replace(PASS, started_at=NOW + timedelta(minutes=40)),
        replace(FAIL, model="n"),
        replace(FAIL, kind=FailureKind.RATE_LIMITED),
        replace(FAIL, kind=FailureKind.HARNESS_OFFLINE),
    ]
    rollups = fold(results, lag_budget_ms=5.0)
    this_hour = rollups[("P", "m", hour_of(NOW))]
    assert (this_hour.ok, this_hour.failed, this_hour.throttled, this_hour.inconclusive) == (
        1,
        0,
        1,
        1,
    )
    assert rollups[("P", "m", hour_of(NOW) + timedelta(hours=1))].ok == 1
    assert rollups[("P", "n", hour_of(NOW))].failed == 1


def test_a_pass_over_the_lag_budget_is_counted_but_not_timed() -> None:
    assert timing_suspect(replace(PASS, loop_lag_ms=5.1), 5.0)
    assert not timing_suspect(replace(PASS, loop_lag_ms=5.0), 5.0)
    assert not timing_suspect(PASS, 5.0)  # no measurement: nothing to suspect
    (rollup,) = fold([PASS, replace(PASS, loop_lag_ms=40.0)], lag_budget_ms=5.0).values()
    assert (rollup.ok, rollup.suspect, rollup.ttfc.n, rollup.total.n) == (2, 1, 1, 1)


def hour(ago: int, **counts: int) -> HourRollup:
    rollup = HourRollup("P", "m", hour_of(NOW) - timedelta(hours=ago), **counts)
    for _ in range(counts.get("ok", 0) - counts.get("suspect", 0)):
        rollup.ttfc.add(100.0)
        rollup.total.add(300.0)
    return rollup


def test_latency_leaves_out_and_counts_the_timing_suspect_passes() -> None:
    latency = rollup_latency([hour(0, ok=3, suspect=1, inconclusive=4), hour(2, ok=2, suspect=2)])
    assert (latency.n, latency.left_out) == (2, 3)
    assert latency.ttfc_p50 == pytest.approx(100.0, rel=RELATIVE_ERROR)
    assert latency.total_p95 == pytest.approx(300.0, rel=RELATIVE_ERROR)


def test_no_rollups_mean_no_latency() -> None:
    latency = rollup_latency([])
    assert (latency.n, latency.ttfc_p50, latency.left_out) == (0, None, 0)
