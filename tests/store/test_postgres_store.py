"""What only the PostgreSQL store has to show: many writers, outages, migrations."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from harness.errors import StoreError, StoreUnavailable
from harness.pipeline.run import record, spool_of, store_results
from harness.policy.aggregate import Uptime
from harness.policy.consensus import RunDecision
from harness.policy.deliveries import AlertDraft, AlertKind, AlertTarget, NotifyType
from harness.policy.status import State, TargetStatus
from harness.result import FailureKind, ProbeResult
from harness.settings.config import Settings
from harness.store import make_store, sqlite
from harness.store.postgres import MIGRATIONS, VALUES, PostgresStore
from harness.store.rows import RowMap
from tests.postgres_cluster import PostgresCluster
from tests.store_shortcuts import record_run

T0 = datetime(2024, 5, 1, tzinfo=UTC)
PASS = ProbeResult("P", "m", "ping", T0, ok=True, ttfc_ms=100.0, total_ms=300.0)
FAIL = replace(PASS, ok=False, kind=FailureKind.HTTP_SERVER, ttfc_ms=None, total_ms=None)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _nothing(shown: Mapping[tuple[str, str], TargetStatus]) -> RunDecision:
    return RunDecision([], [], [], dict(shown))


def pg(url: str) -> PostgresStore:
    store = make_store(url)
    assert isinstance(store, PostgresStore)
    return store


async def test_two_processes_writing_at_once_flip_a_change_exactly_once(
    postgres: PostgresCluster,
) -> None:
    url = postgres.new_schema()
    settings = Settings(thresholds={"down_after": 1, "up_after": 1})  # type: ignore[arg-type]
    a, b = pg(url), pg(url)
    await a.open()
    await b.open()
    try:
        await store_results(settings, a, [replace(PASS, vantage="a")])
        await store_results(settings, b, [replace(PASS, vantage="b", started_at=at(0.1))])
        for minute in range(1, 11):
            await asyncio.gather(
                store_results(settings, a, [replace(FAIL, vantage="a", started_at=at(minute))]),
                store_results(settings, b, [replace(FAIL, vantage="b", started_at=at(minute))]),
            )
        flips = await a.flips()
        assert [f.new for f in flips if f.new is State.DOWN] == [State.DOWN]
        assert (await b.statuses())[("P", "m")].state is State.DOWN
        assert len(await a.results()) == 22
    finally:
        await a.close()
        await b.close()


async def test_concurrent_writers_on_separate_pools_all_land(postgres: PostgresCluster) -> None:
    url = postgres.new_schema()
    stores = [pg(url) for _ in range(3)]
    for store in stores:
        await store.open()
    try:
        await asyncio.gather(
            *(
                store.add_results([replace(PASS, run_id=f"{i}-{j}") for j in range(50)])
                for i, store in enumerate(stores)
                for _ in range(5)
            )
        )
        assert len(await stores[0].results()) == 750
    finally:
        for store in stores:
            await store.close()


async def test_the_store_reconnects_after_the_server_restarts(postgres: PostgresCluster) -> None:
    store = pg(postgres.new_schema())
    await store.open()
    try:
        await store.add_results([PASS])
        postgres.halt()
        try:
            with pytest.raises(StoreUnavailable):
                await store.add_results([replace(PASS, started_at=at(1))])
        finally:
            postgres.start()
        await store.add_results([replace(PASS, started_at=at(2))])
        assert [r.started_at for r in await store.results()] == [at(2), T0]
    finally:
        await store.close()


async def test_an_outage_during_runs_loses_no_result(
    postgres: PostgresCluster, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    store = pg(postgres.new_schema())
    now = datetime.now(UTC)  # within the retention that every run prunes to

    def probed(minute: int) -> ProbeResult:
        return replace(PASS, vantage="v", started_at=now + timedelta(minutes=minute))

    await store.open()
    try:
        first = await record(settings, store, [probed(0)])
        assert first.spooled == 0
        postgres.halt()
        try:
            during = [probed(1), probed(2)]
            summary = await record(settings, store, during[:1])
            assert summary.spooled == 1
            assert summary.store_error is not None
            assert (await record(settings, store, during[1:])).spooled == 1
            assert spool_of(settings).count() == 2
        finally:
            postgres.start()
        after = await record(settings, store, [probed(3)])
        assert after.spooled == 0
        # The spooled ones carry the run id the spool gave them.
        assert [replace(r, run_id="") for r in await store.results()] == [
            probed(m) for m in (3, 2, 1, 0)
        ]
        assert spool_of(settings).count() == 0
    finally:
        await store.close()


async def test_an_unreachable_server_is_reported_as_unavailable() -> None:
    store = pg("postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(StoreUnavailable, match=r"cannot reach the store postgresql://127\.0\.0\.1"):
        await store.open()


LATER_RESULT_COLUMNS = (
    "prompt_tokens",
    "completion_tokens",
    "loop_lag_ms",
    "ttft_ms",
    "reasoning_tokens",
)
"""The results columns that later migrations add."""


def _apply_first_migration_only(url: str) -> None:
    """A store at schema version 1, with a result, a status and a flip."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
            " applied_at TIMESTAMPTZ NOT NULL)"
        )
        MIGRATIONS[0](conn)
        conn.execute("INSERT INTO schema_migrations VALUES (1, 'create_tables', now())")
        conn.execute("INSERT INTO targets VALUES ('P', 'm')")
        rows = RowMap(ProbeResult, VALUES)
        first = [c for c in rows.columns if c not in LATER_RESULT_COLUMNS]
        values = dict(zip(rows.columns, rows.row(PASS), strict=True))
        conn.execute(
            sql.SQL("INSERT INTO results ({}) VALUES ({})").format(
                sql.SQL(", ").join(map(sql.Identifier, first)),
                sql.SQL(", ").join(sql.Placeholder() * len(first)),
            ),
            [values[c] for c in first],
        )
        conn.execute(
            """INSERT INTO status VALUES ('P', 'm', 'up', %s, 1, 0, %s, %s, NULL, NULL,
               '{}', 'up')""",
            (T0, T0, T0),
        )


async def test_an_older_schema_is_upgraded_on_open(postgres: PostgresCluster) -> None:
    url = postgres.new_schema()
    _apply_first_migration_only(url)
    store = pg(url)
    await store.open()
    try:
        assert await store.results() == [PASS]
        (status,) = (await store.statuses()).values()
        assert (status.state, status.limit_streak, status.missed, status.reason) == (
            State.UP,
            0,
            (),
            "",
        )
        (rollup,) = await store.rollups(T0)  # backfilled from the stored result
        assert (rollup.hour, rollup.ok, rollup.ttfc.n) == (T0, 1, 1)
        await store.record_vantage_run([], lambda shown, views: _nothing(shown))
    finally:
        await store.close()
    with psycopg.connect(url) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_migrations")]
        tables = {row[0] for row in conn.execute("SELECT tablename FROM pg_tables")}
    assert versions == list(range(1, len(MIGRATIONS) + 1))
    assert {"vantage_status", "copy_progress", "alerts", "alert_targets", "rollups"} <= tables


def test_the_migrations_match_sqlites_one_for_one() -> None:
    assert [m.__name__ for m in MIGRATIONS] == [m.__name__ for m in sqlite.MIGRATIONS]


async def test_a_newer_schema_is_refused(postgres: PostgresCluster) -> None:
    url = postgres.new_schema()
    store = pg(url)
    await store.open()
    await store.close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', now())")
    with pytest.raises(StoreError, match="schema version 999, newer"):
        await pg(url).open()


async def test_strings_with_nul_characters_round_trip(postgres: PostgresCluster) -> None:
    store = pg(postgres.new_schema())
    await store.open()
    try:
        odd = replace(PASS, provider="P\x00", sample="a\x00b", error="\ufdd0x")
        await store.add_results([odd])
        assert await store.results(provider="P\x00") == [odd]
    finally:
        await store.close()


def _draft(title: str, destination: str = "d") -> AlertDraft:
    return AlertDraft(
        kind=AlertKind.FLIPS,
        destination=destination,
        label="json://d",
        title=title,
        body="b\x00ody",
        notify_type=NotifyType.FAILURE,
        created_at=T0,
        targets=(AlertTarget("P\x00", "m", State.DOWN),),
    )


async def test_two_processes_claiming_at_once_never_share_a_delivery(
    postgres: PostgresCluster,
) -> None:
    url = postgres.new_schema()
    a, b = pg(url), pg(url)
    await a.open()
    await b.open()
    try:
        await record_run(a, [], [], [], alerts=[_draft(f"t{i}") for i in range(40)])
        lease = timedelta(minutes=1)
        claims = await asyncio.gather(
            *(store.claim_alerts(["d"], now=at(1), lease=lease, limit=3) for store in (a, b) * 10)
        )
        ids = [d.id for claim in claims for d in claim]
        assert len(ids) == len(set(ids)) == 40
    finally:
        await a.close()
        await b.close()


async def test_nul_characters_round_trip_in_alerts_and_rollups(postgres: PostgresCluster) -> None:
    store = pg(postgres.new_schema())
    await store.open()
    try:
        await record_run(store, [replace(PASS, provider="P\x00")], [], [], alerts=[_draft("t\x00")])
        (delivery,) = await store.alert_deliveries()
        assert (delivery.title, delivery.body) == ("t\x00", "b\x00ody")
        assert delivery.targets == (AlertTarget("P\x00", "m", State.DOWN),)
        assert set(await store.last_alerts()) == {("P\x00", "m")}
        (rollup,) = await store.rollups(T0)
        assert (rollup.provider, rollup.ok) == ("P\x00", 1)
        assert await store.rollup_uptime(T0) == {("P\x00", "m"): Uptime(ok=1, total=1)}
    finally:
        await store.close()
