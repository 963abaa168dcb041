"""The migration adding token counts: a store written before it opens, keeps its rows,
and stores the counts from then on."""

from __future__ import annotations

import dataclasses
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness.result import ProbeResult
from harness.store import open_store
from harness.store import sqlite as sqlite_store

T0 = datetime(2024, 5, 1, tzinfo=UTC)
OLD = ProbeResult("P", "m", "ping", T0, ok=True, ttfc_ms=100.0, total_ms=300.0, chars=40)


async def test_an_older_store_gains_the_token_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "h.db"
    first = sqlite_store.MIGRATIONS[0]
    with monkeypatch.context() as patch:
        patch.setattr(sqlite_store, "MIGRATIONS", (first,))
        async with open_store(path):
            pass
    names = [f.name for f in dataclasses.fields(ProbeResult)]
    old_columns = names[: names.index("run_id") + 1]  # the first schema's columns
    values = [getattr(OLD, c) for c in old_columns]
    values[old_columns.index("started_at")] = sqlite_store.VALUES.time(T0)
    values[old_columns.index("end")] = OLD.end.value
    values[old_columns.index("source")] = OLD.source.value
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("INSERT INTO targets VALUES ('P', 'm')")
        conn.execute(
            "INSERT INTO results ({}) VALUES ({})".format(
                ", ".join(f'"{c}"' for c in old_columns), ", ".join("?" for _ in old_columns)
            ),
            values,
        )

    counted = dataclasses.replace(
        OLD, started_at=T0.replace(hour=1), prompt_tokens=12, completion_tokens=30
    )
    async with open_store(path) as store:
        await store.add_results([counted])
        newest, oldest = await store.results()
    assert oldest == OLD
    assert oldest.prompt_tokens is None
    assert newest == counted
    assert newest.tokens_per_s == pytest.approx(30 / 0.2)
