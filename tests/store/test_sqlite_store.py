"""What only the SQLite backend promises: its file, schema, checks and locations."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from contextlib import closing
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from unclean import crashed_with_it_open

from harness.errors import StoreError
from harness.policy.consensus import RunDecision
from harness.result import ProbeResult
from harness.store import SQLiteStore, make_store, open_store
from harness.store.postgres import PostgresStore
from harness.store.rows import RESULT_COLUMNS, Rows
from harness.store.sql import insert
from harness.store.sqlite import MIGRATIONS, VALUES

T0 = datetime(2024, 5, 1, tzinfo=UTC)
PASS = ProbeResult("P", "m", "ping", T0, ok=True, ttfc_ms=100.0, total_ms=300.0)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def markers(directory: Path) -> list[str]:
    return [name for name in names(directory) if ".open-" in name]


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def write_wide(path: Path, results: list[ProbeResult]) -> None:
    """Store ``results`` as a store before compact rows did: one column per field."""
    wide = Rows(VALUES).wide_result
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.executemany(
            "INSERT OR IGNORE INTO targets (provider, model) VALUES (?, ?)",
            [r.target for r in results],
        )
        conn.executemany(insert("results", wide.columns), map(wide.row, results))


async def filled_store(path: Path, count: int = 500) -> None:
    async with open_store(path) as store:
        await store.add_results(
            [
                ProbeResult("P", "m", "ping", T0 + timedelta(seconds=i), ok=True, sample="x" * 200)
                for i in range(count)
            ]
        )


async def test_the_results_table_has_a_compact_column_per_result_field(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    async with open_store(path):
        pass
    columns = [row[1] for row in rows(path, "PRAGMA table_info(results)")]
    assert columns == ["id", *RESULT_COLUMNS]
    # provider and model as its target; run id, vantage, version and source as its origin
    assert len(RESULT_COLUMNS) == len(fields(ProbeResult)) - 1 - 3


async def test_migrations_are_applied_once(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    async with open_store(path):
        pass
    applied = rows(path, "SELECT version, name, applied_at FROM schema_migrations")
    async with open_store(path):
        pass
    assert rows(path, "SELECT version, name, applied_at FROM schema_migrations") == applied
    assert [(v, n) for v, n, _ in applied] == [
        (i, m.__name__.lstrip("_")) for i, m in enumerate(MIGRATIONS, start=1)
    ]


async def test_statuses_from_the_first_schema_gain_the_policy_columns(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    with closing(sqlite3.connect(path)) as conn, conn:
        MIGRATIONS[0](conn)
        conn.execute("CREATE TABLE schema_migrations (version, name, applied_at)")
        conn.execute("INSERT INTO schema_migrations VALUES (1, 'create_tables', '2024')")
        conn.execute("INSERT INTO targets VALUES ('P', 'm')")
        conn.execute(
            "INSERT INTO status VALUES ('P', 'm', 'up', 0, 2, 0, 0, 0, NULL, NULL, '[]', 'up')"
        )
    async with open_store(path) as store:
        (status,) = (await store.statuses()).values()
        await store.add_results([PASS])
        assert (await store.results())[0].completion_tokens is None
    assert (status.pass_streak, status.limit_streak, status.slow_streak) == (2, 0, 0)
    assert (status.fast_streak, status.missed, status.reason) == (0, (), "")


async def test_rollups_are_backfilled_from_the_results_of_an_older_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "h.db"
    monkeypatch.setattr("harness.store.sqlite.MIGRATIONS", MIGRATIONS[:1])  # the first schema
    async with open_store(path):
        pass
    old = [
        (T0 + timedelta(minutes=m), ok, kind)
        for m, ok, kind in [(0, 1, None), (10, 0, "http_server"), (70, 0, "rate_limited")]
    ]
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.executemany(
            """INSERT INTO results (provider, model, prompt, started_at, ok, kind, ttfc_ms,
                   total_ms, chunks, chars, "end", sample, source, vantage, version,
                   concurrency, attempts, run_id)
               VALUES ('P', 'm', 'ping', ?, ?, ?, 120.0, 300.0, 1, 4, 'eof', 'pong',
                   'live', '', '', 1, 1, '')""",
            [(int(at.timestamp() * 1_000_000), ok, kind) for at, ok, kind in old],
        )
    monkeypatch.undo()
    async with open_store(path) as store:
        first, second = await store.rollups(T0)
        assert (first.ok, first.failed, first.ttfc.n) == (1, 1, 1)
        assert (second.hour, second.throttled) == (T0 + timedelta(hours=1), 1)
        (result,) = await store.results(limit=1)
        assert result.loop_lag_ms is None


async def test_runs_stored_before_run_ids_were_kept_are_known_after_the_upgrade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "h.db"
    before = [m.__name__ for m in MIGRATIONS].index("_stored_runs")
    monkeypatch.setattr("harness.store.sqlite.MIGRATIONS", MIGRATIONS[:before])
    run = [replace(PASS, run_id="old-run")]
    async with open_store(path):
        pass
    write_wide(path, run)
    monkeypatch.undo()
    async with open_store(path) as store:
        again = await store.record_vantage_run(run, lambda shown, views: _unused(shown))
        assert again.stored_before
        assert await store.results() == run


def _unused(shown: object) -> RunDecision:
    raise AssertionError("a run stored before is not decided again")


async def test_a_database_from_a_newer_harness_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    async with open_store(path):
        pass
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', '2099-01-01')")
    with pytest.raises(StoreError, match="schema version 999, newer"):
        await SQLiteStore(path).open()


async def test_the_file_is_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    async with open_store(path):
        pass
    assert rows(path, "PRAGMA journal_mode") == [("wal",)]


async def test_foreign_keys_are_enforced(tmp_path: Path) -> None:
    async with open_store(tmp_path / "h.db") as store:
        assert isinstance(store, SQLiteStore)
        # A flip for a target the store has never seen breaks the reference to targets.
        run = store.dialect.write(
            lambda session: session.execute(
                "INSERT INTO flips (provider, model, at, old, new, reason)"
                " VALUES ('X', 'y', 0, 'up', 'down', 'why')"
            )
        )
        with pytest.raises(StoreError, match="FOREIGN KEY"):
            await run


async def test_a_file_that_is_not_a_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    path.write_bytes(b"this is a text file, not SQLite\n" * 200)
    before = digest(path)
    with pytest.raises(StoreError, match="not a usable SQLite database") as caught:
        await SQLiteStore(path).open()
    assert str(path) in str(caught.value)
    assert digest(path) == before
    assert names(tmp_path) == ["h.db"]


def trash_page_5(path: Path) -> None:
    page_size = 4096
    data = bytearray(path.read_bytes())
    data[4 * page_size : 5 * page_size] = b"\xa5" * page_size
    path.write_bytes(bytes(data))


async def test_after_an_unclean_shutdown_a_corrupt_database_is_refused_and_left_alone(
    tmp_path: Path,
) -> None:
    path = tmp_path / "h.db"
    await filled_store(path)
    trash_page_5(path)
    crashed_with_it_open(path)
    before = digest(path)
    with pytest.raises(StoreError, match="corrupt") as caught:
        await SQLiteStore(path).open()
    assert str(path) in str(caught.value)
    assert digest(path) == before


async def test_a_cleanly_closed_store_opens_without_the_full_check(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    await filled_store(path)
    trash_page_5(path)  # damage no open notices without reading every page
    async with open_store(path) as store:
        assert not await store.integrity_ok()  # what `harness store check` runs


async def test_after_an_unclean_shutdown_a_sound_store_is_checked_and_opened(
    tmp_path: Path,
) -> None:
    path = tmp_path / "h.db"
    await filled_store(path)
    marker = crashed_with_it_open(path)
    async with open_store(path) as store:
        assert len(await store.results()) == 500
        assert not marker.exists()  # checked once: the next open needs no check
        assert len(markers(tmp_path)) == 1  # this store's own
    assert markers(tmp_path) == []


async def test_a_store_opened_read_only_leaves_its_file_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    await filled_store(path, count=50)
    before = digest(path)
    store = SQLiteStore(path, read_only=True)
    await store.open()
    try:
        assert len(await store.results()) == 50
        assert markers(tmp_path) == []
        with pytest.raises(StoreError, match="readonly"):
            await store.add_results([PASS])
    finally:
        await store.close()
    assert digest(path) == before


async def test_a_store_of_an_older_schema_is_not_opened_read_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "h.db"
    with monkeypatch.context() as patch:
        patch.setattr("harness.store.sqlite.MIGRATIONS", MIGRATIONS[:1])
        async with open_store(path):
            pass
    with pytest.raises(StoreError, match="schema version 1, older"):
        await SQLiteStore(path, read_only=True).open()


async def test_the_data_directory_is_created(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "h.db"
    async with open_store(path) as store:
        await store.add_results([PASS])
    assert path.is_file()


async def test_a_data_directory_that_cannot_be_created_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the directory should be")
    with pytest.raises(StoreError, match="cannot create the data directory") as caught:
        await SQLiteStore(blocker / "h.db").open()
    assert str(blocker) in str(caught.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through directory permissions")
async def test_an_unwritable_data_directory_is_reported(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(StoreError, match="not writable"):
            await SQLiteStore(locked / "h.db").open()
    finally:
        locked.chmod(0o700)


async def test_integrity_check_finds_index_damage_the_open_check_skips(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    await filled_store(path)
    with closing(sqlite3.connect(path)) as conn, conn:
        # The index now claims a definition its stored entries do not match.
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute(
            "UPDATE sqlite_master SET sql = 'CREATE INDEX results_time ON results (ok)'"
            " WHERE name = 'results_time'"
        )
    async with open_store(path) as store:
        assert not await store.integrity_ok()


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("sqlite:///relative/h.db", Path("relative/h.db")),
        ("sqlite:////absolute/h.db", Path("/absolute/h.db")),
        ("plain/h.db", Path("plain/h.db")),
        (Path("a/path.db"), Path("a/path.db")),
    ],
)
def test_locations_name_sqlite_files(location: str | Path, expected: Path) -> None:
    store = make_store(location)
    assert isinstance(store, SQLiteStore)
    assert store.path == expected


@pytest.mark.parametrize("url", ["postgresql://db/harness", "postgres://u:secret@db/harness"])
def test_postgresql_urls_name_a_postgresql_store(url: str) -> None:
    store = make_store(url)
    assert isinstance(store, PostgresStore)
    assert "secret" not in repr(store)


@pytest.mark.parametrize("url", ["mysql://db/harness", "postgresql+asyncpg://u:secret@db/h"])
def test_other_url_schemes_are_refused_without_their_secrets(url: str) -> None:
    with pytest.raises(StoreError, match="unsupported store URL") as caught:
        make_store(url)
    assert "secret" not in str(caught.value)


async def test_a_targets_latency_is_read_along_its_index_without_a_sort(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    async with open_store(path):
        pass
    latency_plan = rows(
        path,
        "EXPLAIN QUERY PLAN SELECT r.ttfc_100us, r.total_100us"
        " FROM results r JOIN target_ids t ON t.id = r.target"
        " WHERE t.provider = 'P' AND t.model = 'm' AND r.started_at >= 0 AND r.ok"
        " ORDER BY r.started_at DESC LIMIT 1000",
    )
    assert "USING INDEX results_target_time" in str(latency_plan)
    assert "TEMP B-TREE" not in str(latency_plan)


async def test_the_results_have_two_indexes_each_walked_by_a_query(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    async with open_store(path):
        pass
    indexes = rows(
        path, "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'results'"
    )
    assert sorted(name for (name,) in indexes) == ["results_target_time", "results_time"]
    # The newest result of all (offline_since), and pruning, walk the time index.
    newest_plan = rows(
        path,
        "EXPLAIN QUERY PLAN SELECT kind FROM results ORDER BY started_at DESC, id DESC LIMIT 1",
    )
    assert "USING INDEX results_time" in str(newest_plan)
    assert "TEMP B-TREE" not in str(newest_plan)


async def test_a_store_of_an_older_harness_is_upgraded_on_open(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
            " applied_at TEXT NOT NULL)"
        )
        MIGRATIONS[0](conn)
        conn.execute("INSERT INTO schema_migrations VALUES (1, 'create_tables', '2024-01-01')")
    async with open_store(path) as store:
        await store.add_results([PASS])
    assert [v for (v,) in rows(path, "SELECT version FROM schema_migrations")] == list(
        range(1, len(MIGRATIONS) + 1)
    )
    async with open_store(path) as store:
        assert await store.results() == [PASS]
        assert await store.vantage_statuses() == {}


async def test_closing_while_another_process_holds_the_write_lock_succeeds(tmp_path: Path) -> None:
    path = tmp_path / "harness.db"
    store = SQLiteStore(path, busy_timeout_s=0.05)
    await store.open()
    await store.add_results([ProbeResult("P", "m", "ping", datetime.now(UTC), ok=True)])
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # as a prober writing beside this server would
    try:
        await store.close()  # the planner's statistics wait for the next close
    finally:
        writer.execute("ROLLBACK")
        writer.close()
