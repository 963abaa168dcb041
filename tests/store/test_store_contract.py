"""The contract every store backend keeps (run once per backend, see conftest.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.errors import StoreError
from harness.policy.aggregate import LatencySummary, Uptime
from harness.policy.consensus import RunDecision, VantageKey, VantageStatus, decide
from harness.policy.objectives import Objectives, ObjectiveSet
from harness.policy.status import Flip, State, TargetStatus, Thresholds, replay
from harness.result import FailureKind, ProbeResult, Source, StreamEnd
from harness.store import Store
from harness.store.base import Decide
from harness.store.rows import as_stored
from tests.store_shortcuts import prune_before, record_run, uptime

NewStore = Callable[..., Store]  # the new_store fixture (conftest.py)

T0 = datetime(2024, 5, 1, tzinfo=UTC)
PASS = ProbeResult("P", "m", "ping", T0, ok=True, ttfc_ms=100.0, total_ms=300.0)
FAIL = replace(PASS, ok=False, kind=FailureKind.HTTP_SERVER, ttfc_ms=None, total_ms=None)
OFFLINE = replace(FAIL, kind=FailureKind.HARNESS_OFFLINE)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def series(base: ProbeResult, minutes: range) -> list[ProbeResult]:
    return [replace(base, started_at=at(m)) for m in minutes]


# Up to a day and more: a probe's timeouts end it long before.
timings = st.none() | st.floats(min_value=0, max_value=1e8, allow_nan=False)
texts = st.text(max_size=40)
probe_results = st.builds(
    ProbeResult,
    provider=st.text(min_size=1, max_size=20),
    model=st.text(min_size=1, max_size=20),
    prompt=texts,
    started_at=st.datetimes(
        min_value=datetime(1990, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
        ),
    ),
    ok=st.booleans(),
    kind=st.none() | st.sampled_from(FailureKind),
    http_status=st.none() | st.integers(100, 599),
    error=st.none() | texts,
    ttfb_ms=timings,
    ttfc_ms=timings,
    total_ms=timings,
    dns_ms=timings,
    connect_ms=timings,
    chunks=st.integers(0, 2**31 - 1),
    chars=st.integers(0, 2**31 - 1),
    max_gap_ms=timings,
    end=st.sampled_from(StreamEnd),
    finish_reason=st.none() | texts,
    sample=st.text(max_size=300),
    source=st.sampled_from(Source),
    vantage=texts,
    version=texts,
    concurrency=st.integers(1, 10_000),
    attempts=st.integers(1, 100),
    run_id=texts,
    prompt_tokens=st.none() | st.integers(0, 2**31 - 1),
    completion_tokens=st.none() | st.integers(0, 2**31 - 1),
    loop_lag_ms=timings,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=st.lists(probe_results, max_size=15))
async def test_every_result_field_round_trips_with_times_in_tenths_of_a_millisecond(
    new_store: NewStore, batch: list[ProbeResult]
) -> None:
    store = new_store()
    await store.open()
    try:
        await store.add_results(batch)
        stored = await store.results()
    finally:
        await store.close()
    # Newest first; equal times come back newest-inserted first.
    newest_first = sorted(reversed(batch), key=lambda r: r.started_at, reverse=True)
    assert stored == [as_stored(r) for r in newest_first]


async def test_results_come_back_in_utc(store: Store) -> None:
    await store.add_results([replace(PASS, started_at=datetime(2024, 5, 1, 14, 0))])
    (stored,) = await store.results()
    assert stored.started_at == datetime(2024, 5, 1, 14, 0, tzinfo=UTC)
    assert stored.started_at.tzinfo == UTC


async def test_results_come_newest_first(store: Store) -> None:
    await store.add_results(series(PASS, range(0, 10, 2)))
    await store.add_results(series(PASS, range(1, 10, 2)))
    assert [r.started_at for r in await store.results()] == [at(m) for m in range(9, -1, -1)]


async def test_results_filter_by_target(store: Store) -> None:
    others = [replace(PASS, model="n"), replace(PASS, provider="Q")]
    await store.add_results([PASS, *others])
    assert await store.results(provider="P", model="m") == [PASS]
    assert {r.model for r in await store.results(provider="P")} == {"m", "n"}
    assert [r.provider for r in await store.results(model="m")].count("Q") == 1


async def test_results_since_is_inclusive_and_until_exclusive(store: Store) -> None:
    await store.add_results(series(PASS, range(10)))
    window = await store.results(since=at(3), until=at(6))
    assert [r.started_at for r in window] == [at(5), at(4), at(3)]


async def test_results_limit_keeps_the_newest(store: Store) -> None:
    await store.add_results(series(PASS, range(10)))
    assert [r.started_at for r in await store.results(limit=3)] == [at(9), at(8), at(7)]


async def test_one_targets_results_with_a_limit_are_its_newest(store: Store) -> None:
    await store.add_results([*series(PASS, range(5)), replace(PASS, model="n", started_at=at(9))])
    recent = await store.results(provider="P", model="m", limit=2)
    assert [(r.model, r.started_at) for r in recent] == [("m", at(4)), ("m", at(3))]


async def test_recent_by_target_gives_the_newest_of_each(store: Store) -> None:
    await store.add_results([*series(PASS, range(5)), replace(PASS, model="n", started_at=at(9))])
    recent = await store.recent_by_target([("P", "n"), ("P", "m"), ("Q", "m")], 2)
    assert {t: [r.started_at for r in rs] for t, rs in recent.items()} == {
        ("P", "n"): [at(9)],
        ("P", "m"): [at(4), at(3)],
        ("Q", "m"): [],
    }


async def test_recent_by_provider_pools_its_models_newest_first(store: Store) -> None:
    await store.add_results([*series(PASS, range(5)), replace(PASS, model="n", started_at=at(9))])
    recent = await store.recent_by_provider(["P", "Q"], 3)
    assert {p: [(r.model, r.started_at) for r in rs] for p, rs in recent.items()} == {
        "P": [("n", at(9)), ("m", at(4)), ("m", at(3))],
        "Q": [],
    }


async def test_providers_since_names_those_with_results_after_the_marker(store: Store) -> None:
    assert await store.results_marker() == 0
    await store.add_results([PASS, replace(PASS, provider="Q")])
    marker = await store.results_marker()
    await store.add_results([replace(PASS, provider="R", started_at=at(1))])
    assert await store.providers_since(marker) == {"R"}
    assert await store.providers_since(await store.results_marker()) == set()
    assert await store.providers_since(0) == {"P", "Q", "R"}


async def test_provider_rollups_are_those_of_the_providers_given(store: Store) -> None:
    await store.add_results([PASS, replace(PASS, provider="Q"), replace(PASS, provider="R")])
    everyone = await store.rollups(T0)
    mine = await store.provider_rollups(["R", "P"], T0)
    assert mine == [r for r in everyone if r.provider in ("P", "R")]
    assert await store.provider_rollups([], T0) == []


async def test_targets_lists_each_pair_once_sorted(store: Store) -> None:
    await store.add_results([replace(PASS, provider="Q"), PASS, PASS, replace(PASS, model="a")])
    assert await store.targets() == [("P", "a"), ("P", "m"), ("Q", "m")]


async def test_uptime_leaves_out_inconclusive_results(store: Store) -> None:
    await store.add_results(
        [*series(PASS, range(3)), *series(FAIL, range(3, 4)), *series(OFFLINE, range(4, 9))]
    )
    assert await uptime(store, "P", "m", T0) == Uptime(ok=3, total=4)


async def test_uptime_counts_only_results_since(store: Store) -> None:
    await store.add_results([*series(FAIL, range(5)), *series(PASS, range(5, 8))])
    assert await uptime(store, "P", "m", at(5)) == Uptime(ok=3, total=3)
    assert await uptime(store, "P", "x", T0) == Uptime(ok=0, total=0)


async def test_latency_uses_only_passing_results(store: Store) -> None:
    slow = replace(PASS, ttfc_ms=900.0, total_ms=1900.0)
    timed_fail = replace(FAIL, ttfc_ms=5000.0, total_ms=9000.0)
    await store.add_results([PASS, replace(slow, started_at=at(1)), timed_fail])
    assert await store.latency("P", "m", T0) == LatencySummary(
        n=2, ttfc_p50=500.0, ttfc_p95=860.0, total_p50=1100.0, total_p95=1820.0
    )


async def test_latency_covers_the_newest_passing_rows_since(store: Store) -> None:
    old = [replace(PASS, started_at=at(m), ttfc_ms=1.0) for m in range(5)]
    new = [replace(PASS, started_at=at(m), ttfc_ms=2.0) for m in range(5, 8)]
    await store.add_results([*old, *new])
    assert (await store.latency("P", "m", T0, max_rows=3)).ttfc_p95 == 2.0
    assert (await store.latency("P", "m", at(6))).n == 2


async def test_statuses_and_flips_round_trip(store: Store) -> None:
    results = [
        *series(FAIL, range(3)),
        *series(PASS, range(3, 5)),
        replace(OFFLINE, model="offline-only"),
        replace(FAIL, model="n", kind=FailureKind.RATE_LIMITED, error="slow down"),
    ]
    statuses, flips = replay(results, Thresholds())
    await store.save_statuses(list(statuses.values()), flips)
    assert await store.statuses() == statuses
    assert await store.flips() == sorted(reversed(flips), key=lambda f: f.at, reverse=True)


async def test_every_status_field_round_trips(store: Store) -> None:
    limited = replace(FAIL, kind=FailureKind.RATE_LIMITED, http_status=429)
    slow = replace(PASS, ttfc_ms=2500.0, total_ms=2600.0)
    results = [
        *series(PASS, range(2)),
        *series(limited, range(2, 4)),
        *series(FAIL, range(4, 5)),
        *series(slow, range(5, 8)),
        *series(limited, range(8, 9)),
    ]
    objectives = ObjectiveSet(Objectives(max_ttfc_ms=1500.0))
    statuses, flips = replay(results, Thresholds(), objectives=objectives)
    (status,) = statuses.values()
    assert (status.fail_streak, status.limit_streak) == (1, 1)
    assert status.missed == ("max_ttfc",)
    assert status.reason == "2 passes in a row, slow: ttfc 2.5 s > 1.5 s"
    before = replay(results[:-1], Thresholds(), objectives=objectives)[0][("P", "m")]
    assert (before.slow_streak, before.fast_streak) == (3, 0)
    await store.save_statuses([status, replace(before, model="n")], flips)
    assert await store.statuses() == {("P", "m"): status, ("P", "n"): replace(before, model="n")}


async def test_saving_a_status_replaces_the_previous_one(store: Store) -> None:
    first, _ = replay([FAIL], Thresholds())
    later, _ = replay(series(PASS, range(1, 3)), Thresholds(), first)
    await store.save_statuses(list(first.values()), [])
    await store.save_statuses(list(later.values()), [])
    assert (await store.statuses())[("P", "m")].state is State.UP


async def test_flips_filter_by_provider_and_limit(store: Store) -> None:
    flips = [
        Flip(provider, "m", at(i), State.UP, State.DOWN, "3 failures in a row")
        for i, provider in enumerate(["P", "Q", "P", "Q", "P"])
    ]
    await store.save_statuses([], flips)
    assert [f.at for f in await store.flips(provider="P")] == [at(4), at(2), at(0)]
    assert [f.at for f in await store.flips(limit=2)] == [at(4), at(3)]


async def test_prune_deletes_old_results_and_flips_and_counts_them(store: Store) -> None:
    await store.add_results(series(PASS, range(10)))
    await store.save_statuses(
        [], [Flip("P", "m", at(m), State.UP, State.DOWN, "why") for m in (1, 8)]
    )
    # Five results, one flip, and the rollup and usage of the hour before the cutoff.
    assert await prune_before(store, at(5)) == 8
    assert [r.started_at for r in await store.results()][-1] == at(5)
    assert [f.at for f in await store.flips()] == [at(8)]


async def test_a_batch_that_fails_midway_leaves_nothing(store: Store) -> None:
    unstorable = replace(PASS, chunks=2**64)
    with pytest.raises(StoreError):
        await store.add_results([PASS, replace(PASS, started_at=at(1)), unstorable])
    assert await store.results() == []
    assert await store.targets() == []


async def test_statuses_that_fail_midway_leave_nothing(store: Store) -> None:
    statuses, flips = replay([FAIL, replace(FAIL, model="n")], Thresholds())
    good, other = statuses.values()
    with pytest.raises(StoreError):
        await store.save_statuses([good, replace(other, pass_streak=2**64)], flips)
    assert await store.statuses() == {}
    assert await store.flips() == []


async def test_a_run_is_recorded_with_its_statuses_and_flips(store: Store) -> None:
    results = series(FAIL, range(3))
    statuses, flips = replay(results, Thresholds())
    await record_run(store, results, list(statuses.values()), flips)
    assert len(await store.results()) == 3
    assert await store.statuses() == statuses
    assert len(await store.flips()) == len(flips)


async def test_a_run_whose_statuses_fail_keeps_none_of_its_results(store: Store) -> None:
    statuses, flips = replay([FAIL], Thresholds())
    (status,) = statuses.values()
    with pytest.raises(StoreError):
        await record_run(store, [FAIL], [replace(status, pass_streak=2**64)], flips)
    assert await store.results() == []
    assert await store.statuses() == {}


async def test_concurrent_batches_all_land(store: Store) -> None:
    batches = [
        [replace(PASS, run_id=f"run-{b}", started_at=at(b + i / 100)) for i in range(20)]
        for b in range(40)
    ]
    await asyncio.gather(*(store.add_results(batch) for batch in batches))
    stored = await store.results()
    assert len(stored) == 800
    assert {r.run_id for r in stored} == {f"run-{b}" for b in range(40)}


async def test_data_survives_reopening(new_store: NewStore) -> None:
    first = new_store("kept")
    await first.open()
    await first.add_results([PASS])
    await first.close()
    again = new_store("kept")
    await again.open()
    try:
        assert await again.results() == [PASS]
    finally:
        await again.close()


async def test_a_closed_store_refuses_calls(new_store: NewStore) -> None:
    store = new_store()
    await store.open()
    await store.close()
    await store.close()
    with pytest.raises(StoreError, match="not open"):
        await store.results()


async def test_a_healthy_store_passes_its_integrity_check(store: Store) -> None:
    await store.add_results(series(PASS, range(50)))
    assert await store.integrity_ok()


async def test_rollups_count_each_hours_results_by_outcome(store: Store) -> None:
    throttled = replace(FAIL, kind=FailureKind.RATE_LIMITED)
    await store.add_results([*series(PASS, range(3)), *series(FAIL, range(3, 5)), OFFLINE])
    await store.add_results([*series(throttled, range(5, 6)), *series(PASS, range(61, 63))])
    first, second = await store.rollups(T0)
    assert (first.hour, first.ok, first.failed, first.throttled, first.inconclusive) == (
        T0,
        3,
        2,
        1,
        1,
    )
    assert (second.hour, second.ok, second.ttfc.n, second.total.n) == (at(60), 2, 2, 2)
    assert first.ttfc.quantile(50) == pytest.approx(100.0, rel=0.02)
    assert [r.hour for r in await store.rollups(at(61))] == [at(60)]


async def test_timing_suspect_passes_count_but_stay_out_of_the_sketches(store: Store) -> None:
    calm = replace(PASS, loop_lag_ms=1.0)
    busy = replace(PASS, loop_lag_ms=12.0, ttfc_ms=900.0)
    await store.add_results([calm, busy, busy], lag_budget_ms=5.0)
    (rollup,) = await store.rollups(T0)
    assert (rollup.ok, rollup.suspect, rollup.ttfc.n) == (3, 2, 1)
    await store.add_results([busy], lag_budget_ms=20.0)
    (rollup,) = await store.rollups(T0)
    assert (rollup.ok, rollup.suspect, rollup.ttfc.n) == (4, 2, 2)


async def test_a_run_that_fails_leaves_its_rollups_untouched(store: Store) -> None:
    await store.add_results([PASS])
    statuses, flips = replay([FAIL], Thresholds())
    (status,) = statuses.values()
    with pytest.raises(StoreError):
        await record_run(store, [FAIL, PASS], [replace(status, pass_streak=2**64)], flips)
    (rollup,) = await store.rollups(T0)
    assert (rollup.ok, rollup.failed) == (1, 0)


async def test_rollup_uptime_counts_whole_hours_from_the_one_holding_since(store: Store) -> None:
    throttled = replace(FAIL, kind=FailureKind.RATE_LIMITED)
    await store.add_results([*series(PASS, range(0, 120, 20)), throttled, OFFLINE])
    await store.add_results([replace(FAIL, model="n", started_at=at(150))])
    assert await store.rollup_uptime(at(30)) == {
        ("P", "m"): Uptime(ok=6, total=7),
        ("P", "n"): Uptime(ok=0, total=1),
    }
    assert await store.rollup_uptime(at(61)) == {
        ("P", "m"): Uptime(ok=3, total=3),
        ("P", "n"): Uptime(ok=0, total=1),
    }
    assert await store.rollup_uptime(at(200)) == {}


async def test_pruning_hours_leaves_their_day_whole_in_its_daily_rollup(store: Store) -> None:
    await store.add_results(series(PASS, range(0, 180, 30)))
    await prune_before(store, at(90))
    (day,) = await store.rollups(T0)
    assert (day.hour, day.ok) == (T0, 6)


def _decide_from(results: list[ProbeResult]) -> Decide:
    def decision(
        shown: Mapping[tuple[str, str], TargetStatus], views: Mapping[VantageKey, VantageStatus]
    ) -> RunDecision:
        return decide(shown, views, results, thresholds=Thresholds(down_after=1), window=WINDOW)

    return decision


WINDOW = timedelta(hours=1)


async def test_a_vantage_run_stores_both_levels_and_its_flips(store: Store) -> None:
    first = [replace(PASS, vantage=v) for v in ("a", "b")]
    await store.record_vantage_run(first, _decide_from(first))
    failing = [replace(FAIL, vantage="a", started_at=at(1))]
    decision = await store.record_vantage_run(failing, _decide_from(failing))

    assert decision.shown[("P", "m")].state is State.DEGRADED
    assert await store.statuses() == decision.shown
    views = await store.vantage_statuses()
    assert {k: v.status.state for k, v in views.items()} == {
        ("P", "m", "a"): State.DOWN,
        ("P", "m", "b"): State.UP,
    }
    assert views[("P", "m", "a")].reported_at == at(1)
    assert [(f.old, f.new) for f in await store.flips()] == [
        (State.UP, State.DEGRADED),
        (State.UNKNOWN, State.UP),
    ]
    assert len(await store.results()) == 3


async def test_a_run_stored_again_is_stored_once_and_decided_once(store: Store) -> None:
    run = [replace(PASS, vantage="a", run_id="r1"), replace(FAIL, vantage="a", run_id="r1")]
    first = await store.record_vantage_run(run, _decide_from(run))
    again = await store.record_vantage_run(run, _decide_from(run))

    assert (first.stored_before, again.stored_before) == (False, True)
    assert (again.flips, again.statuses, again.shown) == ([], [], await store.statuses())
    assert len(await store.results()) == 2
    assert len(await store.flips()) == len(first.flips)


async def test_results_without_a_run_id_are_each_stored(store: Store) -> None:
    for _ in range(2):
        await store.record_vantage_run([PASS], _decide_from([PASS]))
    assert len(await store.results()) == 2


async def test_a_vantage_run_whose_decision_fails_keeps_nothing(store: Store) -> None:
    def refuse(
        shown: Mapping[tuple[str, str], TargetStatus], views: Mapping[VantageKey, VantageStatus]
    ) -> RunDecision:
        raise StoreError("no decision")

    with pytest.raises(StoreError, match="no decision"):
        await store.record_vantage_run([PASS], refuse)
    assert await store.results() == []
    assert await store.vantage_statuses() == {}


async def test_concurrent_vantage_runs_each_see_the_one_before(store: Store) -> None:
    def count_up(
        shown: Mapping[tuple[str, str], TargetStatus], views: Mapping[VantageKey, VantageStatus]
    ) -> RunDecision:
        before = shown.get(("P", "m"))
        (status,) = replay([PASS], Thresholds())[0].values()
        status = replace(status, pass_streak=(before.pass_streak if before else 0) + 1)
        return RunDecision([status], [], [], {status.target: status})

    await asyncio.gather(*(store.record_vantage_run([PASS], count_up) for _ in range(20)))
    assert (await store.statuses())[("P", "m")].pass_streak == 20
