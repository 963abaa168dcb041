"""``harness store migrate``: a SQLite store of 100,000 results moved into PostgreSQL,
with its alert deliveries and hourly rollups."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from harness.bench.synthetic import batches, synthetic_results
from harness.cli.main import main
from harness.policy.deliveries import AlertDelivery, AlertDraft, AlertKind, AlertTarget, NotifyType
from harness.policy.rollup import HourRollup
from harness.policy.status import Flip, State, Thresholds, replay
from harness.store import open_store
from harness.store.copy import copy_store
from harness.store.postgres import PostgresStore
from tests.postgres_cluster import PostgresCluster
from tests.store_shortcuts import record_run

ROWS = 100_000
NOW = datetime(2024, 6, 1, tzinfo=UTC)


class Interrupted(Exception):
    """Stands in for a crash or Ctrl-C in the middle of a copy."""


async def _fill(path: Path, rows: int = ROWS) -> None:
    async with open_store(path) as store:
        newest = []
        for chunk in batches(synthetic_results(rows, now=NOW), 10_000):
            await store.add_results(chunk)
            newest = chunk
        changed, flips = replay(newest, Thresholds(down_after=1))
        await store.save_statuses(list(changed.values()), flips)
        # Deliveries pointing at flips of their own run, one of them already sent.
        for run in range(ALERT_RUNS):
            when = NOW + timedelta(minutes=run)
            run_flips = [
                Flip("alerted", f"m{i}", when, State.UP, State.DOWN, f"run {run}") for i in range(3)
            ]
            drafts = [
                AlertDraft(
                    kind=AlertKind.FLIPS,
                    destination=destination,
                    label=f"json://{destination}",
                    title=f"run {run}",
                    body="body",
                    notify_type=NotifyType.FAILURE,
                    created_at=when,
                    targets=tuple(AlertTarget("alerted", f"m{i}", State.DOWN) for i in (0, 2)),
                    flips=(0, 2),
                )
                for destination in ("d1", "d2")
            ]
            await record_run(store, [], [], run_flips, alerts=drafts)
        (sent, *_) = await store.claim_alerts(["d1"], now=NOW, lease=timedelta(seconds=30))
        await store.finish_alert(sent.id, at=NOW, error=None, retry_at=None)


ALERT_RUNS = 20


def _flips_by_id(location: str, ids: set[int]) -> dict[int, tuple[Any, ...]]:
    """(provider, model, at, old, new, reason) of the flips with ``ids``, straight from
    the database (the Store interface does not give flip ids)."""
    select = "SELECT id, provider, model, at, old, new, reason FROM flips"
    if location.startswith("postgresql://"):
        with psycopg.connect(location) as conn:
            rows = conn.execute(f"{select} WHERE id = ANY(%s)", (sorted(ids),)).fetchall()
        return {r[0]: (r[1], r[2], r[3], *r[4:]) for r in rows}
    # A sqlite3 connection's own ``with`` ends a transaction, not the connection.
    with closing(sqlite3.connect(location)) as conn:
        rows = conn.execute(select).fetchall()
    return {
        r[0]: (r[1], r[2], datetime.fromtimestamp(r[3] / 1e6, UTC), *r[4:])
        for r in rows
        if r[0] in ids
    }


async def _alerts_and_rollups(location: str) -> tuple[list[Any], list[HourRollup]]:
    """Every delivery (with the flips it points at instead of their ids) and rollup."""
    async with open_store(location) as store:
        deliveries = await store.alert_deliveries(limit=1000)
        rollups = await store.rollups(datetime(1970, 1, 1, tzinfo=UTC))
    flips = _flips_by_id(location, {i for d in deliveries for i in d.flip_ids})

    def comparable(d: AlertDelivery) -> tuple[Any, ...]:
        return (replace(d, id=0, flip_ids=()), [flips[i] for i in d.flip_ids])

    return [comparable(d) for d in deliveries], rollups


async def _copy_two_batches(source: Path, url: str) -> None:
    def stop_after_two(table: str, copied: int, total: int) -> None:
        if copied >= 2 * 7000:
            raise Interrupted

    destination = PostgresStore(url)
    await destination.open()
    try:
        with pytest.raises(Interrupted):
            await copy_store(source, destination, batch=7000, progress=stop_after_two)
        assert len(await destination.results(limit=ROWS)) == 14_000
    finally:
        await destination.close()


async def _summary(location: str) -> tuple[int, int, int]:
    async with open_store(location) as store:
        results = await store.results(limit=ROWS + 1)
        return len(results), len(await store.statuses()), len(await store.flips(limit=1000))


@pytest.mark.timeout(600)
def test_a_large_store_is_moved_resumably_with_its_counts_verified(
    postgres: PostgresCluster, tmp_path: Path
) -> None:
    source = tmp_path / "harness.db"
    asyncio.run(_fill(source))
    url = postgres.new_schema()
    asyncio.run(_copy_two_batches(source, url))

    outcome = CliRunner().invoke(
        main, ["store", "migrate", "--from", f"sqlite:///{source}", "--to", url]
    )
    assert outcome.exit_code == 0, outcome.output
    assert "NO" not in outcome.output
    assert "100,000" in outcome.output
    assert "alert_targets" in outcome.output
    assert "rollups" in outcome.output
    copied = asyncio.run(_summary(url))
    assert copied[0] == ROWS  # resumed after the two committed batches: nothing twice
    assert copied == asyncio.run(_summary(str(source)))

    alerts, rollups = asyncio.run(_alerts_and_rollups(url))
    assert len(alerts) == 2 * ALERT_RUNS
    assert all(len(flips) == 2 for _, flips in alerts)
    assert rollups
    assert (alerts, rollups) == asyncio.run(_alerts_and_rollups(str(source)))

    again = CliRunner().invoke(main, ["store", "migrate", "--from", str(source), "--to", url])
    assert again.exit_code == 0, again.output
    assert asyncio.run(_summary(url))[0] == ROWS
    assert asyncio.run(_alerts_and_rollups(url)) == (alerts, rollups)  # nothing twice


async def _copy_interrupted_in_the_alerts(source: Path, url: str) -> None:
    def stop_in_the_alerts(table: str, copied: int, total: int) -> None:
        if table == "alerts" and copied >= 10:
            raise Interrupted

    destination = PostgresStore(url)
    await destination.open()
    try:
        with pytest.raises(Interrupted):
            await copy_store(source, destination, batch=5, progress=stop_in_the_alerts)
        assert len(await destination.alert_deliveries(limit=1000)) == 10
        report = await copy_store(source, destination, batch=5)
    finally:
        await destination.close()
    assert report.ok, report.counts
    copied = {c.table: c.copied for c in report.counts}
    assert (copied["alerts"], copied["alert_targets"]) == (2 * ALERT_RUNS, 4 * ALERT_RUNS)


def test_an_interrupted_copy_of_the_alerts_resumes_after_the_last_batch(
    postgres: PostgresCluster, tmp_path: Path
) -> None:
    source = tmp_path / "harness.db"
    asyncio.run(_fill(source, rows=50))
    url = postgres.new_schema()
    asyncio.run(_copy_interrupted_in_the_alerts(source, url))
    alerts, rollups = asyncio.run(_alerts_and_rollups(url))
    assert len(alerts) == 2 * ALERT_RUNS
    assert (alerts, rollups) == asyncio.run(_alerts_and_rollups(str(source)))


@pytest.mark.parametrize(
    ("source", "destination", "message"),
    [
        ("missing.db", "postgresql://u@127.0.0.1:1/db", "no SQLite store at missing.db"),
        ("postgresql://h/db", "postgresql://u@127.0.0.1:1/db", "--from must be a SQLite"),
        ("a.db", "sqlite:///b.db", "--to must be a PostgreSQL URL"),
    ],
)
def test_bad_locations_exit_2_with_a_message(source: str, destination: str, message: str) -> None:
    outcome = CliRunner().invoke(main, ["store", "migrate", "--from", source, "--to", destination])
    assert outcome.exit_code == 2
    assert message in outcome.output
