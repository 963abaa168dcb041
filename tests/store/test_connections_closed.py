"""Every SQLite connection the store opens is closed by whoever opened it, never left to
the garbage collector: opening and closing the store, the migration's copy and the
page's reads, many times over.

Python 3.13 warns when a collected connection was never closed; on every Python the
connections are also counted as they are opened, and each must be closed when its
store is.
"""

from __future__ import annotations

import asyncio
import gc
import sqlite3
import threading
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from status_samples import fill_store

from harness.report.snapshot import read_page
from harness.settings.config import Settings
from harness.store import SQLiteStore, open_store, store_intact
from harness.store import sqlite as sqlite_dialect
from harness.store.copy import copy_store

ROUNDS = 20
NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)


class _Counted(sqlite3.Connection):
    """A connection that remembers being closed."""

    closed = False

    def close(self) -> None:
        super().close()
        self.closed = True


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[_Counted]:
    """Every SQLite connection opened while the test runs, in order."""
    seen: list[_Counted] = []
    connect = sqlite3.connect

    def counted(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = connect(*args, **kwargs, factory=_Counted)
        seen.append(conn)
        return conn

    monkeypatch.setattr(sqlite3, "connect", counted)
    return seen


def _store_threads_finish(before: set[threading.Thread]) -> None:
    """Wait until every store thread started since ``before``, shut down by now, has run
    what it was given."""
    for thread in set(threading.enumerate()) - before:
        if thread.name.startswith("harness-store"):
            thread.join()


def _markers(directory: Path) -> list[Path]:
    return list(directory.glob("*.open-*"))


def _held(release: threading.Event, started: threading.Event) -> Callable[..., None]:
    """A stand-in for the store's migration that waits on the store's thread until
    ``release`` is set (saying so through ``started``), then migrates."""
    migrate = sqlite_dialect._migrate

    def held(conn: sqlite3.Connection, path: Path) -> None:
        started.set()
        release.wait()
        migrate(conn, path)

    return held


async def test_no_connection_outlives_the_store_the_copy_or_the_page(
    tmp_path: Path, opened: list[_Counted]
) -> None:
    source = tmp_path / "source.db"
    async with open_store(source) as store:
        await fill_store(store, NOW)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        for round_ in range(ROUNDS):
            async with open_store(source) as store:
                await read_page(store, Settings(), now=NOW)
            reader = SQLiteStore(source, read_only=True)
            await reader.open()
            try:
                await read_page(reader, Settings(), now=NOW)
            finally:
                await reader.close()
            copy = SQLiteStore(tmp_path / f"copy-{round_}.db")
            await copy.open()
            try:
                assert (await copy_store(source, copy)).ok
            finally:
                await copy.close()
            assert await store_intact(str(source))
            assert opened, "the store opens its files some other way: count those"
            assert [c for c in opened if not c.closed] == []
            opened.clear()
            gc.collect()  # an unclosed connection would warn here (Python 3.13+)


async def test_a_connection_made_while_its_opening_is_cancelled_is_closed(
    tmp_path: Path, opened: list[_Counted], monkeypatch: pytest.MonkeyPatch
) -> None:
    started, release = threading.Event(), threading.Event()
    monkeypatch.setattr(sqlite_dialect, "_migrate", _held(release, started))
    threads = set(threading.enumerate())
    opening = asyncio.create_task(SQLiteStore(tmp_path / "h.db").open())
    await asyncio.to_thread(started.wait)
    opening.cancel()
    with pytest.raises(asyncio.CancelledError):
        await opening
    release.set()
    await asyncio.to_thread(_store_threads_finish, threads)
    assert [c.closed for c in opened] == [True]
    assert _markers(tmp_path) == []


async def test_a_cancelled_close_still_closes_the_connection(
    tmp_path: Path, opened: list[_Counted]
) -> None:
    threads = set(threading.enumerate())
    store = SQLiteStore(tmp_path / "h.db")
    await store.open()
    started, release = threading.Event(), threading.Event()

    def hold(_: object) -> None:
        started.set()
        release.wait()

    busy = asyncio.create_task(store.dialect.read(hold))
    await asyncio.to_thread(started.wait)
    closing = asyncio.create_task(store.close())
    await asyncio.sleep(0)  # close() has queued the closing behind the busy unit
    closing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await closing
    release.set()
    await busy
    await asyncio.to_thread(_store_threads_finish, threads)
    assert [c.closed for c in opened] == [True]
    assert _markers(tmp_path) == []
