"""A run costs what it holds: its record reads, decides and writes its providers' rows only
(run once per backend, see conftest.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from harness.policy.consensus import RunDecision, VantageKey, VantageStatus, decide
from harness.policy.status import Flip, State, TargetStatus, Thresholds
from harness.result import FailureKind, ProbeResult
from harness.store import Store
from harness.store.base import Decide
from tests.store_shortcuts import record_run

T0 = datetime(2024, 5, 1, tzinfo=UTC)
PASS = ProbeResult("P", "m", "ping", T0, ok=True, ttfc_ms=100.0, total_ms=300.0)
FAIL = replace(PASS, ok=False, kind=FailureKind.HTTP_SERVER, ttfc_ms=None, total_ms=None)
WINDOW = timedelta(hours=1)
PROVIDERS = [f"p{i:03}" for i in range(100)]
MODELS = [f"m{i}" for i in range(10)]


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def of(provider: str, base: ProbeResult, minutes: float) -> list[ProbeResult]:
    """One result of ``base`` for each model of ``provider``, ``minutes`` after T0."""
    return [replace(base, provider=provider, model=m, started_at=at(minutes)) for m in MODELS]


def deciding(results: list[ProbeResult], seen: list[set[tuple[str, str]]] | None = None) -> Decide:
    """The consensus decision of ``results``; what it was given goes into ``seen``."""

    def decision(
        shown: Mapping[tuple[str, str], TargetStatus], views: Mapping[VantageKey, VantageStatus]
    ) -> RunDecision:
        if seen is not None:
            seen.append({*shown, *(key[:2] for key in views)})
        return decide(shown, views, results, thresholds=Thresholds(down_after=1), window=WINDOW)

    return decision


async def fleet(store: Store) -> None:
    """A thousand targets, each with its shown and vantage status."""
    everyone = [r for p in PROVIDERS for r in of(p, PASS, 0)]
    await store.record_vantage_run(everyone, deciding(everyone))


async def test_a_run_is_decided_on_its_providers_statuses_alone(store: Store) -> None:
    await fleet(store)
    run = of("p007", FAIL, 1)
    given: list[set[tuple[str, str]]] = []
    decision = await store.record_vantage_run(run, deciding(run, given))
    assert given == [{("p007", m) for m in MODELS}]
    assert set(decision.shown) == {("p007", m) for m in MODELS}
    assert {s.state for s in decision.shown.values()} == {State.DOWN}


async def test_a_run_of_one_provider_leaves_every_other_status_as_it_was(store: Store) -> None:
    await fleet(store)
    statuses, views = await store.statuses(), await store.vantage_statuses()
    run = of("p007", FAIL, 1)
    await store.record_vantage_run(run, deciding(run))
    after, views_after = await store.statuses(), await store.vantage_statuses()
    assert {t: s for t, s in after.items() if t[0] != "p007"} == {
        t: s for t, s in statuses.items() if t[0] != "p007"
    }
    assert {k: v for k, v in views_after.items() if k[0] != "p007"} == {
        k: v for k, v in views.items() if k[0] != "p007"
    }
    assert {after[("p007", m)].state for m in MODELS} == {State.DOWN}


async def test_a_run_stored_before_reports_its_providers_statuses(store: Store) -> None:
    await fleet(store)
    run = [replace(r, run_id="again") for r in of("p007", FAIL, 1)]
    first = await store.record_vantage_run(run, deciding(run))
    again = await store.record_vantage_run(run, deciding(run))
    assert again.stored_before
    assert again.shown == first.shown


async def test_runs_of_providers_in_one_hour_each_add_to_their_own_rollups(store: Store) -> None:
    for minutes, provider in enumerate(["p001", "p002", "p001"]):
        run = of(provider, PASS, minutes)
        await store.record_vantage_run(run, deciding(run))
    counts = {(r.provider, r.model): r.ok for r in await store.rollups(T0)}
    assert counts == {**{("p001", m): 2 for m in MODELS}, **{("p002", m): 1 for m in MODELS}}


async def test_an_open_incident_hears_of_a_vantage_when_another_provider_runs(
    store: Store,
) -> None:
    both = [replace(PASS, vantage=v) for v in ("a", "eu")]
    await store.record_vantage_run(both, deciding(both))
    failing = [replace(FAIL, vantage="eu", started_at=at(1))]
    await store.record_vantage_run(failing, deciding(failing))  # one of two: degraded
    # An incident opened without the vantages' views (as save_statuses does) names none.
    (shown,) = (await store.statuses()).values()
    down = replace(shown, state=State.DOWN, since=at(2))
    await store.save_statuses([down], [Flip("P", "m", at(2), State.DEGRADED, State.DOWN, "x")])
    assert [i.vantages for i in await store.incidents(provider="P")] == [()]
    other = [replace(PASS, provider="Q", started_at=at(3))]
    await store.record_vantage_run(other, deciding(other))
    assert [i.vantages for i in await store.incidents(provider="P")] == [("eu",)]


async def test_two_vantages_failing_at_once_beside_a_fleet_flip_each_change_once(
    store: Store,
) -> None:
    await fleet(store)
    both = [replace(r, vantage=v, started_at=at(1)) for r in of("p007", PASS, 1) for v in "ab"]
    await store.record_vantage_run(both, deciding(both))
    runs = [[replace(r, vantage=v) for r in of("p007", FAIL, 2)] for v in "ab"]
    await asyncio.gather(*(store.record_vantage_run(run, deciding(run)) for run in runs))
    flips = [f for f in await store.flips(provider="p007", limit=1000) if f.model == "m0"]
    assert [(f.old, f.new) for f in reversed(flips)] == [
        (State.UNKNOWN, State.UP),
        (State.UP, State.DEGRADED),
        (State.DEGRADED, State.DOWN),
    ]


async def test_a_flip_given_for_another_provider_opens_an_incident_with_its_vantages(
    store: Store,
) -> None:
    both = [replace(PASS, vantage=v) for v in ("a", "eu")]
    await store.record_vantage_run(both, deciding(both))
    failing = [replace(FAIL, vantage="eu", started_at=at(1))]
    await store.record_vantage_run(failing, deciding(failing))  # one of two: degraded
    (shown,) = (await store.statuses()).values()
    down = replace(shown, state=State.DOWN, since=at(2))
    flip = Flip("P", "m", at(2), State.DEGRADED, State.DOWN, "x")
    await record_run(store, [replace(PASS, provider="Q", started_at=at(2))], [down], [flip])
    assert [i.vantages for i in await store.incidents(provider="P")] == [("eu",)]
