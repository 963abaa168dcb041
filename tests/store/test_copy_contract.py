"""Copying a SQLite store into a store of each backend (see conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from harness.policy.consensus import RunDecision
from harness.policy.deliveries import AlertDraft, AlertKind, AlertTarget, NotifyType
from harness.policy.status import State, Thresholds, replay
from harness.result import FailureKind, ProbeResult
from harness.store import Store, open_store
from harness.store.copy import copy_store
from harness.store.sql import SQLStore
from tests.store_shortcuts import record_run

NewStore = Callable[..., Store]  # the new_store fixture (conftest.py)

T0 = datetime(2024, 5, 1, tzinfo=UTC)
PASS = ProbeResult("P", "m", "ping", T0, ok=True, ttfc_ms=100.0, total_ms=300.0)
FAIL = replace(PASS, ok=False, kind=FailureKind.HTTP_SERVER, ttfc_ms=None, total_ms=None)


async def _fill(path: Path) -> None:
    results = [
        *(replace(PASS, started_at=T0 + timedelta(minutes=m)) for m in range(0, 150, 10)),
        replace(FAIL, model="n", started_at=T0),
    ]
    statuses, flips = replay(results, Thresholds(down_after=1))
    down = next(i for i, f in enumerate(flips) if f.new is State.DOWN)
    alert = AlertDraft(
        kind=AlertKind.FLIPS,
        destination="d",
        label="json://d",
        title="P/n down",
        body="body",
        notify_type=NotifyType.FAILURE,
        created_at=T0,
        targets=(AlertTarget("P", "n", State.DOWN),),
        flips=(down,),
    )
    async with open_store(path) as store:
        await record_run(store, results, list(statuses.values()), flips, alerts=[alert])


async def _everything(store: Store) -> tuple[Any, ...]:
    deliveries = await store.alert_deliveries()
    return (
        await store.results(),
        await store.statuses(),
        await store.flips(),
        await store.rollups(T0),
        # Copied deliveries get ids of their own, and so do the flips they point at.
        [(replace(d, id=0, flip_ids=()), len(d.flip_ids)) for d in deliveries],
        # Incidents are built again from the copied flips, under ids of their own.
        [replace(i, id=0) for i in await store.incidents()],
    )


async def _copied(new_store: NewStore, source: Path, copies: int) -> tuple[Any, ...]:
    destination = new_store()
    assert isinstance(destination, SQLStore)
    await destination.open()
    try:
        for _ in range(copies):
            report = await copy_store(source, destination, batch=4)
            assert report.ok, report.counts
        return await _everything(destination)
    finally:
        await destination.close()


async def test_a_sqlite_store_is_copied_whole(new_store: NewStore, tmp_path: Path) -> None:
    source = tmp_path / "source.db"
    await _fill(source)
    copied = await _copied(new_store, source, copies=1)
    async with open_store(source) as origin:
        assert copied == await _everything(origin)


async def test_copying_the_same_store_again_adds_nothing(
    new_store: NewStore, tmp_path: Path
) -> None:
    source = tmp_path / "source.db"
    await _fill(source)
    assert await _copied(new_store, source, copies=2) == await _copied(new_store, source, copies=1)


async def test_a_copied_run_is_not_stored_again(new_store: NewStore, tmp_path: Path) -> None:
    source = tmp_path / "source.db"
    run = [replace(PASS, run_id="r1")]
    async with open_store(source) as store:
        await store.add_results(run)
    destination = new_store()
    assert isinstance(destination, SQLStore)
    await destination.open()
    try:
        assert (await copy_store(source, destination, batch=4)).ok
        again = await destination.record_vantage_run(
            run, lambda shown, views: RunDecision([], [], [], dict(shown))
        )
        assert again.stored_before
        assert await destination.results() == run
    finally:
        await destination.close()
