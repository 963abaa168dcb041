"""Copying a SQLite store into a PostgreSQL one (``harness store migrate``).

The source is read without writing (a read-only connection); the destination is
opened as a store, so its schema is created or upgraded first. Results and flips are
copied in batches in id order; each batch is written in one transaction together with
its row in the destination's ``copy_progress`` (source, table, last id copied, rows
copied), so an interrupted copy resumes after the last committed batch and never
copies a row twice. Targets, statuses and per-vantage statuses are few and are upserted
whole at the end. Finally the counts are compared: every source row must have been
copied, and the destination must hold at least as many rows as the source.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psycopg import sql

from harness.errors import StoreError
from harness.result import ProbeResult
from harness.store import postgres, sqlite
from harness.store.postgres import PostgresStore

BATCH = 5000
"""Rows per transaction: large enough for speed, small enough to lose little on a crash."""

COPIED_TABLES = ("results", "flips")
"""The tables copied in batches, with their progress kept."""

Progress = Callable[[str, int, int], None]
"""Called after each committed batch: (table, rows copied so far, rows in the source)."""


@dataclass(frozen=True)
class TableCount:
    """One table's rows in the source, copied from it, and in the destination."""

    table: str
    source: int
    copied: int
    destination: int

    @property
    def ok(self) -> bool:
        """Every source row was copied and the destination holds at least as many."""
        return self.copied == self.source and self.destination >= self.source


@dataclass(frozen=True)
class CopyReport:
    """The verified counts of a finished copy."""

    counts: list[TableCount]

    @property
    def ok(self) -> bool:
        """True when every table's counts agree."""
        return all(c.ok for c in self.counts)


def sqlite_source(location: str) -> Path:
    """The SQLite file a ``--from`` location names (a path or ``sqlite:///...``)."""
    path = Path(location.removeprefix("sqlite:///"))
    if "://" in location and not location.startswith("sqlite:///"):
        raise StoreError("--from must be a SQLite store: a file path or sqlite:///path.db")
    if not path.is_file():
        raise StoreError(f"no SQLite store at {path}")
    return path


def _read_only(path: Path) -> sqlite3.Connection:
    # Used from worker threads one call at a time, never concurrently.
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    (version,) = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()
    if version > len(sqlite.MIGRATIONS):
        conn.close()
        raise StoreError(f"{path} has schema version {version}, newer than this harness knows")
    return conn


def _has_table(conn: sqlite3.Connection, table: str) -> bool:
    found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))
    return found.fetchone() is not None


def _count(conn: sqlite3.Connection, table: str) -> int:
    if not _has_table(conn, table):
        return 0
    (n,) = conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()
    return int(n)


def _flip_row(row: sqlite3.Row) -> tuple[Any, ...]:
    return postgres._flip_row(sqlite._flip_from_row(row))


def _result_row(row: sqlite3.Row) -> tuple[Any, ...]:
    result: ProbeResult = sqlite._result_from_row(tuple(row)[:-1])  # the id comes last
    return postgres.result_row(result)


_COPY_SQL: dict[
    str, tuple[str, sql.SQL | sql.Composed, Callable[[sqlite3.Row], tuple[Any, ...]]]
] = {
    "results": (
        "SELECT {}, id FROM results WHERE id > ? ORDER BY id LIMIT ?".format(
            ", ".join(f'"{c}"' for c in sqlite.RESULT_COLUMNS)
        ),
        postgres._COPY_RESULTS,
        _result_row,
    ),
    "flips": (
        "SELECT * FROM flips WHERE id > ? ORDER BY id LIMIT ?",
        sql.SQL("COPY flips (provider, model, at, old, new, reason) FROM STDIN"),
        _flip_row,
    ),
}


async def copy_store(
    source: Path,
    destination: PostgresStore,
    *,
    batch: int = BATCH,
    progress: Progress | None = None,
) -> CopyReport:
    """Copy everything from the SQLite store at ``source`` into the open ``destination``,
    resuming where an earlier copy of the same source stopped; the verified counts."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    conn = await asyncio.to_thread(_read_only, source)
    key = str(await asyncio.to_thread(source.resolve))
    try:
        targets = await asyncio.to_thread(
            lambda: [tuple(r) for r in conn.execute("SELECT provider, model FROM targets")]
        )
        async with destination.connection() as pg:
            await pg.cursor().executemany(
                postgres._INSERT_TARGET, [tuple(map(postgres._dump, t)) for t in targets]
            )
        for table in COPIED_TABLES:
            await _copy_table(conn, destination, key, table, batch, progress)
        await _copy_statuses(conn, destination)
        return await _verify(conn, destination, key)
    finally:
        conn.close()


async def _progress_of(destination: PostgresStore, key: str, table: str) -> tuple[int, int]:
    async with destination.connection() as pg:
        cursor = await pg.execute(
            'SELECT last_id, copied FROM copy_progress WHERE source = %s AND "table" = %s',
            (key, table),
        )
        row = await cursor.fetchone()
    return (int(row["last_id"]), int(row["copied"])) if row else (0, 0)


async def _copy_table(
    conn: sqlite3.Connection,
    destination: PostgresStore,
    key: str,
    table: str,
    batch: int,
    progress: Progress | None,
) -> None:
    select, copy_sql, convert = _COPY_SQL[table]
    total = await asyncio.to_thread(_count, conn, table)
    last_id, copied = await _progress_of(destination, key, table)
    if progress is not None:
        progress(table, copied, total)
    while True:
        rows = await asyncio.to_thread(_fetch, conn, select, (last_id, batch))
        if not rows:
            return
        converted = [convert(row) for row in rows]
        last_id = int(rows[-1]["id"])
        copied += len(rows)
        async with destination.connection() as pg:
            async with pg.cursor().copy(copy_sql) as copy:
                for row in converted:
                    await copy.write_row(row)
            await pg.execute(
                """INSERT INTO copy_progress (source, "table", last_id, copied)
                   VALUES (%s, %s, %s, %s) ON CONFLICT (source, "table")
                   DO UPDATE SET last_id = excluded.last_id, copied = excluded.copied""",
                (key, table, last_id, copied),
            )
        if progress is not None:
            progress(table, copied, total)


def _fetch(conn: sqlite3.Connection, query: str, params: tuple[Any, ...]) -> list[sqlite3.Row]:
    return conn.execute(query, params).fetchall()


async def _copy_statuses(conn: sqlite3.Connection, destination: PostgresStore) -> None:
    statuses = await asyncio.to_thread(
        lambda: [sqlite._status_from_row(r) for r in conn.execute("SELECT * FROM status")]
    )
    views = []
    if _has_table(conn, "vantage_status"):
        views = await asyncio.to_thread(
            lambda: [
                sqlite._vantage_from_row(r) for r in conn.execute("SELECT * FROM vantage_status")
            ]
        )
    async with destination.connection() as pg:
        await postgres._write(pg, (), statuses, (), views)


async def _verify(conn: sqlite3.Connection, destination: PostgresStore, key: str) -> CopyReport:
    counts: list[TableCount] = []
    for table in (*COPIED_TABLES, "status", "vantage_status", "targets"):
        source = await asyncio.to_thread(_count, conn, table)
        async with destination.connection() as pg:
            cursor = await pg.execute(
                sql.SQL("SELECT COUNT(*) AS n FROM {}").format(sql.Identifier(table))
            )
            row = await cursor.fetchone()
        held = int(row["n"]) if row else 0
        copied = (
            (await _progress_of(destination, key, table))[1] if table in COPIED_TABLES else source
        )
        counts.append(TableCount(table, source, copied, held))
    return CopyReport(counts)
