"""The PostgreSQL store's faults, each against the real server, each ending with every
result stored once: the server restarting mid-run, the connection killed
mid-transaction, a query that hangs, and no room on the spool's disk while the server
is away. While the store is away the page answers 503; each fault leaves a clear line
in the log.

Runs are recorded as ``harness serve`` records them, on one store kept open throughout;
the page is a second app on the same database, as a read-only replica would be.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from harness.emulator import Emulator, FaultSpec
from harness.pipeline.run import RunSummary, plan_targets, probe_and_record, record, spool_of
from harness.result import ProbeResult, Source
from harness.settings.config import Settings
from harness.store import make_store
from harness.store.base import Store
from harness.store.rows import as_stored
from harness.store.spool import Spool
from harness.web.app import build_app
from providers import upstream
from tests.postgres_cluster import PostgresCluster

AiohttpClient = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]
PROVIDER = "CodeLinkAva"
HUNG_MS = 500
"""The statement timeout of the hanging-query test, set in the store's URL."""


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def schema(postgres: PostgresCluster) -> str:
    name = f"faults_{uuid.uuid4().hex[:12]}"
    postgres.new_schema(name)
    return name


@pytest.fixture
def url(postgres: PostgresCluster, schema: str) -> str:
    """The store's URL, its statement timeout set there as an operator would set it."""
    options = f"-csearch_path={schema} -cstatement_timeout={HUNG_MS}"
    return f"{postgres.url}?options={quote(options)}"


@pytest.fixture
async def store(url: str) -> AsyncIterator[Store]:
    opened = make_store(url)
    await opened.open()
    yield opened
    await opened.close()


@pytest.fixture
async def page(aiohttp_client: AiohttpClient, settings: Settings, url: str) -> TestClient[Any, Any]:
    app = build_app(settings, url, interval=300, sandbox=False, admin_token=None, schedule=False)
    return await aiohttp_client(app)


def no_space(self: Spool, run: object) -> None:
    """What writing to a full disk does."""
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.fixture
def full_spool(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The spool's directory with no room left: a 64 KiB tmpfs mounted there and filled,
    where this process may mount one (as root). Elsewhere the one place the spool writes,
    ``Spool._write``, fails as a full disk does (ENOSPC), which is all the spool sees."""
    directory = spool_of(settings).directory
    directory.mkdir(parents=True)
    mount = ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(directory)]
    if os.geteuid() != 0 or subprocess.run(mount, capture_output=True).returncode != 0:
        monkeypatch.setattr(Spool, "_write", no_space)
        yield directory
        return
    try:
        fill(directory)
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], check=True)


def fill(directory: Path) -> None:
    """Write into ``directory`` until its disk is full."""
    with (directory / "filler").open("wb", buffering=0) as filler:
        try:
            while True:
                filler.write(bytes(4096))
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise


def a_run(size: int = 3) -> list[ProbeResult]:
    """Results of one run of this vantage, made up, now."""
    run_id, now = uuid.uuid4().hex, datetime.now(UTC)
    return [
        ProbeResult("P", f"m{i}", "ping", now + timedelta(milliseconds=i), ok=True, run_id=run_id)
        for i in range(size)
    ]


async def probed(settings: Settings, store: Store, emulator: Emulator) -> RunSummary:
    targets = plan_targets(settings, [PROVIDER])
    with upstream.redirect(emulator.url):
        return await probe_and_record(settings, store, targets, source=Source.SANDBOX)


def waiting_for_a_lock(postgres: PostgresCluster) -> int:
    """The server process of the session waiting for a lock, once there is one."""
    with psycopg.connect(postgres.url, autocommit=True) as conn:
        while True:
            row = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' LIMIT 1"
            ).fetchone()
            if row is not None:
                return int(row[0])
            time.sleep(0.05)


async def assert_stored_once(store: Store, runs: list[list[ProbeResult]]) -> None:
    stored = await store.results(limit=None)
    ran = (as_stored(r) for run in runs for r in run)
    assert sorted(stored, key=repr) == sorted(ran, key=repr)


async def test_a_restart_mid_run_loses_and_doubles_nothing(
    postgres: PostgresCluster,
    settings: Settings,
    store: Store,
    page: TestClient[Any, Any],
    emulator: Emulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    first = await probed(settings, store, emulator)
    emulator.set_fault(PROVIDER, FaultSpec(first_chunk_delay=2.0))
    running = asyncio.create_task(probed(settings, store, emulator))
    await asyncio.to_thread(postgres.halt)
    try:
        assert (await page.get("/")).status == 503
    finally:
        await asyncio.to_thread(postgres.start)
    second = await running  # stored when it ended, or spooled if the server was still away
    emulator.clear_fault(PROVIDER)
    third = await probed(settings, store, emulator)

    await assert_stored_once(store, [first.results, second.results, third.results])
    assert spool_of(settings, Source.SANDBOX).count() == 0
    assert "GET /: cannot reach the store" in caplog.text
    assert (await page.get("/")).status == 200


async def test_a_connection_killed_mid_transaction_loses_and_doubles_nothing(
    postgres: PostgresCluster,
    schema: str,
    settings: Settings,
    store: Store,
    page: TestClient[Any, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    first = a_run()
    await record(settings, store, first)
    second = a_run()
    with psycopg.connect(postgres.url) as admin:
        # Writes to the results wait, so the run's transaction is caught midway.
        admin.execute(f'LOCK TABLE "{schema}".results IN SHARE MODE')
        writing = asyncio.create_task(record(settings, store, second))
        pid = await asyncio.to_thread(waiting_for_a_lock, postgres)
        with psycopg.connect(postgres.url, autocommit=True) as killer:
            killer.execute("SELECT pg_terminate_backend(%s)", (pid,))
        summary = await writing
        admin.rollback()
    assert summary.spooled == len(second)
    assert "terminating connection due to administrator command; 3 results spooled" in caplog.text
    assert (await page.get("/")).status == 200  # only that connection went away
    third = a_run()
    await record(settings, store, third)

    await assert_stored_once(store, [first, second, third])
    assert spool_of(settings).count() == 0


async def test_a_query_that_hangs_is_cut_by_the_statement_timeout(
    postgres: PostgresCluster,
    schema: str,
    settings: Settings,
    store: Store,
    page: TestClient[Any, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    first = a_run()
    await record(settings, store, first)
    second = a_run()
    with psycopg.connect(postgres.url) as admin:
        # Nothing may touch the results until this lock goes: every query on them hangs.
        admin.execute(f'LOCK TABLE "{schema}".results IN ACCESS EXCLUSIVE MODE')
        summary = await record(settings, store, second)
        assert (await page.get("/")).status == 503
        admin.rollback()
    assert summary.spooled == len(second)
    assert "did not answer in time: canceling statement due to statement timeout" in caplog.text
    third = a_run()
    await record(settings, store, third)

    await assert_stored_once(store, [first, second, third])
    assert spool_of(settings).count() == 0


async def test_the_store_sets_a_statement_timeout_unless_its_url_does(
    postgres: PostgresCluster, store: Store
) -> None:
    default = make_store(postgres.new_schema())
    await default.open()
    try:
        shown = [
            await each.dialect.read(  # type: ignore[attr-defined]
                lambda s: s.execute("SHOW statement_timeout").fetchone()[0]
            )
            for each in (default, store)
        ]
    finally:
        await default.close()
    assert shown == ["1min", f"{HUNG_MS}ms"]


async def test_a_full_spool_disk_while_the_database_is_away_loses_nothing(
    postgres: PostgresCluster,
    settings: Settings,
    store: Store,
    page: TestClient[Any, Any],
    full_spool: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    first = a_run()
    await record(settings, store, first)
    away = [a_run(), a_run()]
    postgres.halt()
    try:
        for run in away:
            assert (await record(settings, store, run)).spooled == len(run)
        assert (await page.get("/")).status == 503
    finally:
        postgres.start()
    written = await asyncio.to_thread(lambda: list(full_spool.glob("*.jsonl")))
    assert written == []  # nothing could be written there
    assert "No space left on device): 6 results held in memory" in caplog.text
    last = a_run()
    await record(settings, store, last)

    await assert_stored_once(store, [first, *away, last])
    assert spool_of(settings).count() == 0


def test_a_run_held_in_memory_is_written_first_once_the_disk_has_room(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = Spool(tmp_path / "spool")
    held, later = a_run(), a_run()
    with monkeypatch.context() as full:
        full.setattr(Spool, "_write", no_space)
        spool.put(held)
    assert (spool.pending(), spool.count()) == ([], len(held))
    spool.put(later)
    assert [Spool.read(path) for path in spool.pending()] == [held, later]
