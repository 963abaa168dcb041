"""Tiered retention in the store: pruning in batches, daily rollups kept past the hours,
and the page's figures unchanged when raw results and hours are pruned (both backends)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from conftest import NewStore

from harness.pipeline.prune import prune_expired
from harness.policy.retention import Cutoffs, Retention
from harness.policy.rollup import HourRollup, fold
from harness.report.document import status_document
from harness.report.history import history_document, read_history
from harness.report.snapshot import read_page
from harness.result import FailureKind, ProbeResult
from harness.settings.config import Settings
from harness.store import Store
from harness.store import postgres as postgres_store
from harness.store import sqlite as sqlite_store
from harness.store.dialect import Session
from harness.store.sql import SQLStore

T0 = datetime(2026, 3, 1, tzinfo=UTC)
PASS = ProbeResult("P", "m", "ping", T0, ok=True, ttfc_ms=100.0, total_ms=300.0)
FAIL = replace(PASS, ok=False, kind=FailureKind.OVERLOADED, ttfc_ms=None, total_ms=None)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def history(days: int, every_hours: int = 2) -> list[ProbeResult]:
    """``days`` of results of two targets, one every ``every_hours`` hours each: latencies
    that vary, and a failure now and then."""
    results = []
    for n in range(days * 24 // every_hours):
        for model in ("m", "n"):
            base = FAIL if n % 7 == 3 else PASS
            ttfc = None if not base.ok else 80.0 + (n * 37) % 400
            results.append(replace(base, model=model, started_at=at(n * every_hours), ttfc_ms=ttfc))
    return results


async def test_a_prune_step_deletes_about_its_limit_of_the_oldest_rows(store: Store) -> None:
    await store.add_results([replace(PASS, started_at=at(m / 60)) for m in range(10)])
    cut = Cutoffs(raw=at(5 / 60), hourly=None, daily=None)
    assert await store.prune(cut, limit=2) == 2
    assert [r.started_at for r in await store.results()][-1] == at(2 / 60)
    assert await store.prune(cut, limit=2) == 2
    assert await store.prune(cut, limit=2) == 1
    assert await store.prune(cut, limit=2) == 0


async def texts_and_origins(store: Store) -> tuple[set[str], int]:
    def read(s: Session) -> tuple[set[str], int]:
        texts = {value for (value,) in s.execute("SELECT value FROM texts")}
        (origins,) = s.execute("SELECT COUNT(*) FROM origins").fetchone()
        return texts, int(origins)

    return await cast(SQLStore, store).dialect.read(read)


async def test_a_run_whose_results_are_pruned_leaves_no_origin_or_run_id_behind(
    store: Store,
) -> None:
    await store.add_results([replace(PASS, started_at=at(m), run_id=f"run-{m}") for m in range(4)])
    cut = Cutoffs(raw=at(2), hourly=None, daily=None)
    while await store.prune(cut, limit=1):
        pass
    texts, origins = await texts_and_origins(store)
    assert origins == 2
    assert {"run-2", "run-3"} <= texts
    assert not {"run-0", "run-1"} & texts
    assert [r.run_id for r in await store.results()] == ["run-3", "run-2"]


async def test_pruning_raw_results_keeps_their_rollups(store: Store) -> None:
    await store.add_results(history(3))
    before = await store.rollup_uptime(T0)
    await prune_expired(store, Retention(raw=timedelta(days=1)), now=at(72), batch=7)
    assert (await store.results())[-1].started_at >= at(48)
    assert await store.rollup_uptime(T0) == before


async def test_days_whose_hours_are_pruned_are_read_from_their_daily_rollups(
    store: Store,
) -> None:
    await store.add_results(history(3))
    before = await store.rollup_uptime(T0)
    retention = Retention(raw=timedelta(hours=12), hourly=timedelta(days=1))
    await prune_expired(store, retention, now=at(60), batch=5)
    rollups = await store.rollups(T0, provider="P", model="m")
    # The first day as one daily rollup, then the hours kept (one every two hours).
    assert [r.hour for r in rollups][:3] == [at(0), at(24), at(26)]
    assert rollups[0].ok + rollups[0].failed + rollups[0].throttled == 12
    assert await store.rollup_uptime(T0) == before


async def test_a_day_pruned_part_way_is_still_read_whole(store: Store) -> None:
    await store.add_results(history(2))
    before = await store.rollup_uptime(T0)
    # Hours 0 to 5 of the first day go (a pruning pass interrupted within the day).
    await store.prune(Cutoffs(raw=None, hourly=at(5.5), daily=None), limit=1000)
    assert await store.rollup_uptime(T0) == before
    first, second = (await store.rollups(T0, provider="P", model="m"))[:2]
    assert (first.hour, second.hour) == (at(0), at(24))


async def test_the_daily_cutoff_deletes_daily_rollups(store: Store) -> None:
    await store.add_results(history(3))
    retention = Retention(raw=timedelta(days=1), hourly=timedelta(days=1), daily=timedelta(days=2))
    await prune_expired(store, retention, now=at(72))
    assert {r.hour for r in await store.rollups(T0)} >= {at(24), at(48)}
    assert at(0) not in {r.hour for r in await store.rollups(T0)}


@pytest.mark.parametrize(
    "retention",
    [Retention(), Retention(raw=timedelta(days=14), hourly=timedelta(days=20))],
    ids=["default tiers", "hours kept 20 days"],
)
async def test_the_page_and_history_read_the_same_figures_after_the_prune(
    store: Store, retention: Retention
) -> None:
    await store.add_results(history(40))
    # Half an hour into a day: the 30-day window starts on a whole day, in either tier.
    now = at(40 * 24 + 0.5)
    settings = Settings()
    before = status_document(await read_page(store, settings, now=now))
    days_before = history_document("P", "m", await read_history(store, "P", "m", 40, now=now))
    assert await prune_expired(store, retention, now=now) > 0
    assert (await store.results())[-1].started_at >= now - timedelta(days=14)
    after = status_document(await read_page(store, settings, now=now))
    days_after = history_document("P", "m", await read_history(store, "P", "m", 40, now=now))
    assert after["providers"]["P"]["models"]["m"]["uptime"]["30d"]["total"] > 0
    assert after == before
    assert days_after == days_before


async def test_the_migration_backfills_daily_rollups_from_the_hourly_ones(
    new_store: NewStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    hours = list(fold(history(2), lag_budget_ms=5.0).values())
    with monkeypatch.context() as patch:
        for module in (sqlite_store, postgres_store):
            before = module.MIGRATIONS[: module.MIGRATIONS.index(module._daily_rollups)]
            patch.setattr(module, "MIGRATIONS", before)
        old = cast(SQLStore, new_store("old"))
        await old.open()
        await old.put_rollups(hours)
        await old.close()
    reopened = cast(SQLStore, new_store("old"))
    await reopened.open()
    try:
        days = await reopened.rollups_after(None, 100, daily=True)
    finally:
        await reopened.close()
    assert [(d.model, d.hour) for d in days] == [
        ("m", at(0)),
        ("m", at(24)),
        ("n", at(0)),
        ("n", at(24)),
    ]
    assert sum(d.ok + d.failed for d in days) == sum(h.ok + h.failed for h in hours)
    assert _ttfc_counts(days) == _ttfc_counts(hours)


def _ttfc_counts(rollups: list[HourRollup]) -> int:
    return sum(r.ttfc.n for r in rollups)
