"""A store written before alerts existed gains the alert tables when opened."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from harness.store import sqlite
from harness.store.sqlite import SQLiteStore


async def test_an_older_store_is_migrated_and_keeps_its_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.db"
    with monkeypatch.context() as patch:
        patch.setattr(sqlite, "MIGRATIONS", sqlite.MIGRATIONS[:1])
        old = SQLiteStore(path)
        await old.open()
        await old.close()
    store = SQLiteStore(path)
    await store.open()
    try:
        now = datetime(2024, 5, 1, tzinfo=UTC)
        assert await store.claim_alerts(["d"], now=now, lease=timedelta(seconds=1)) == []
    finally:
        await store.close()
    with closing(sqlite3.connect(path)) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM schema_migrations ORDER BY version")]
    assert names == [m.__name__.lstrip("_") for m in sqlite.MIGRATIONS]
