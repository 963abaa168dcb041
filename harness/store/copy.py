"""Copying a SQLite store into a PostgreSQL one (``harness store migrate``).

The source is read without writing (a read-only connection); the destination is
opened as a store, so its schema is created or upgraded first. Results, flips and alert
deliveries are copied in batches in id order; each batch is written in one transaction
together with its row in the destination's ``copy_progress`` (source, table, last id
copied, rows copied), so an interrupted copy resumes after the last committed batch and
never copies a row twice. A delivery's targets travel in its batch (with a progress row
of their own), and the flips it points at are found again in the destination by their
content, since copied flips get new ids (a flip the source no longer holds is dropped
from the list). The hourly rollups are upserted in batches in key order, each one
replacing the destination's row of that target and hour, so a resumed copy writes the
same values again. Targets, statuses and per-vantage statuses are few and are upserted
whole at the end. Finally the counts are compared: every source row must have been
copied, and the destination must hold at least as many rows as the source.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from psycopg import sql

from harness.errors import StoreError
from harness.result import ProbeResult
from harness.store import postgres, sqlite
from harness.store.postgres import Conn, PostgresStore

BATCH = 5000
"""Rows per transaction: large enough for speed, small enough to lose little on a crash."""

COPIED_TABLES = ("results", "flips", "alerts")
"""The tables copied in batches, with their progress kept (in this order: alerts point
at flips)."""

_ALERT_TARGETS = "alert_targets"
"""Copied with the deliveries they belong to; their progress is kept too."""

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
        for table in COPIED_TABLES[:2]:
            await _copy_table(conn, destination, key, table, batch, progress)
        await _copy_alerts(conn, destination, key, batch, progress)
        await _copy_rollups(conn, destination, batch, progress)
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
            await _save_progress(pg, key, table, last_id, copied)
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
        await postgres._write(pg, (), (), statuses, (), views, ())


async def _save_progress(pg: Conn, key: str, table: str, last_id: int, copied: int) -> None:
    await pg.execute(
        """INSERT INTO copy_progress (source, "table", last_id, copied)
           VALUES (%s, %s, %s, %s) ON CONFLICT (source, "table")
           DO UPDATE SET last_id = excluded.last_id, copied = excluded.copied""",
        (key, table, last_id, copied),
    )


def _alert_batch(
    conn: sqlite3.Connection, last_id: int, batch: int
) -> tuple[list[sqlite3.Row], list[sqlite3.Row], dict[int, sqlite3.Row]]:
    """The next deliveries after ``last_id``, their targets, and the flips they name."""
    alerts = conn.execute(
        "SELECT * FROM alerts WHERE id > ? ORDER BY id LIMIT ?", (last_id, batch)
    ).fetchall()
    if not alerts:
        return [], [], {}
    low, high = alerts[0]["id"], alerts[-1]["id"]
    targets = conn.execute(
        "SELECT * FROM alert_targets WHERE alert_id BETWEEN ? AND ?", (low, high)
    ).fetchall()
    named = sorted({i for row in alerts for i in json.loads(row["flip_ids"]) if i is not None})
    flips: dict[int, sqlite3.Row] = {}
    for start in range(0, len(named), 500):  # within SQLite's limit on parameters
        chunk = named[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        for row in conn.execute(f"SELECT * FROM flips WHERE id IN ({marks})", chunk):
            flips[row["id"]] = row
    return alerts, targets, flips


_FIND_FLIPS = """SELECT s.n, (
        SELECT f.id FROM flips f
        WHERE f.provider = s.provider AND f.model = s.model AND f.at = s.at
          AND f.old = s.old AND f.new = s.new AND f.reason = s.reason
        ORDER BY f.id LIMIT 1
    ) AS id
    FROM unnest(%s::text[], %s::text[], %s::timestamptz[], %s::text[], %s::text[], %s::text[])
         WITH ORDINALITY AS s(provider, model, at, old, new, reason, n)"""

_INSERT_ALERT = """INSERT INTO alerts (created_at, kind, destination, label, title, body,
        notify_type, flip_ids, state, attempts, next_attempt_at, last_error, sent_at)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id"""


async def _destination_flip_ids(pg: Conn, flips: dict[int, sqlite3.Row]) -> dict[int, int]:
    """The destination's id of each source flip (source id -> destination id)."""
    if not flips:
        return {}
    source_ids = list(flips)
    rows = [_flip_row(flips[i]) for i in source_ids]
    cursor = await pg.execute(_FIND_FLIPS, [list(column) for column in zip(*rows, strict=True)])
    return {
        source_ids[row["n"] - 1]: int(row["id"])
        for row in await cursor.fetchall()
        if row["id"] is not None
    }


async def _copy_alerts(
    conn: sqlite3.Connection,
    destination: PostgresStore,
    key: str,
    batch: int,
    progress: Progress | None,
) -> None:
    """Copy the deliveries and their targets in batches, resumably (see the module)."""
    total = await asyncio.to_thread(_count, conn, "alerts")
    last_id, copied = await _progress_of(destination, key, "alerts")
    targets_copied = (await _progress_of(destination, key, _ALERT_TARGETS))[1]
    if progress is not None:
        progress("alerts", copied, total)
    if not total:
        return
    while True:
        alerts, targets, flips = await asyncio.to_thread(_alert_batch, conn, last_id, batch)
        if not alerts:
            return
        by_alert: dict[int, list[sqlite3.Row]] = {}
        for target in targets:
            by_alert.setdefault(target["alert_id"], []).append(target)
        async with destination.connection() as pg:
            flip_ids = await _destination_flip_ids(pg, flips)
            for row in alerts:
                named = [flip_ids[i] for i in json.loads(row["flip_ids"]) if i in flip_ids]
                cursor = await pg.execute(_INSERT_ALERT, _alert_row(row, named))
                inserted = await cursor.fetchone()
                assert inserted is not None  # INSERT ... RETURNING gives its row
                its_targets = by_alert.get(row["id"], [])
                await pg.cursor().executemany(
                    postgres._INSERT_ALERT_TARGET,
                    [
                        (
                            inserted["id"],
                            *map(postgres._dump, (t["provider"], t["model"])),
                            t["state"],
                        )
                        for t in its_targets
                    ],
                )
                targets_copied += len(its_targets)
            last_id = int(alerts[-1]["id"])
            copied += len(alerts)
            await _save_progress(pg, key, "alerts", last_id, copied)
            await _save_progress(pg, key, _ALERT_TARGETS, last_id, targets_copied)
        if progress is not None:
            progress("alerts", copied, total)


def _alert_row(row: sqlite3.Row, flip_ids: list[int]) -> tuple[Any, ...]:
    def at(us: int | None) -> datetime | None:
        return None if us is None else sqlite._from_us(us)

    dump = postgres._dump
    return (
        sqlite._from_us(row["created_at"]),
        row["kind"],
        dump(row["destination"]),
        dump(row["label"]),
        dump(row["title"]),
        dump(row["body"]),
        row["notify_type"],
        flip_ids,
        row["state"],
        row["attempts"],
        at(row["next_attempt_at"]),
        None if row["last_error"] is None else dump(row["last_error"]),
        at(row["sent_at"]),
    )


async def _copy_rollups(
    conn: sqlite3.Connection, destination: PostgresStore, batch: int, progress: Progress | None
) -> None:
    """Upsert the hourly rollups in batches in key order (see the module)."""
    total = await asyncio.to_thread(_count, conn, "rollups")
    if not total:
        return
    after: tuple[Any, ...] = ("", "", -(2**63))
    copied = 0
    while True:
        rows = await asyncio.to_thread(
            _fetch,
            conn,
            f"""{sqlite._SELECT_ROLLUP} WHERE (provider, model, hour) > (?, ?, ?)
                ORDER BY provider, model, hour LIMIT ?""",
            (*after, batch),
        )
        if not rows:
            return
        converted = [postgres.rollup_row(sqlite._rollup_from_row(row)) for row in rows]
        async with destination.connection() as pg:
            await pg.execute("SELECT pg_advisory_xact_lock(%s)", (postgres.WRITE_LOCK,))
            await pg.cursor().executemany(postgres.UPSERT_ROLLUP, converted)
        after = tuple(rows[-1])[:3]
        copied += len(rows)
        if progress is not None:
            progress("rollups", copied, total)


async def _verify(conn: sqlite3.Connection, destination: PostgresStore, key: str) -> CopyReport:
    counts: list[TableCount] = []
    progressed = (*COPIED_TABLES, _ALERT_TARGETS)
    for table in (*progressed, "rollups", "status", "vantage_status", "targets"):
        source = await asyncio.to_thread(_count, conn, table)
        async with destination.connection() as pg:
            cursor = await pg.execute(
                sql.SQL("SELECT COUNT(*) AS n FROM {}").format(sql.Identifier(table))
            )
            row = await cursor.fetchone()
        held = int(row["n"]) if row else 0
        copied = (await _progress_of(destination, key, table))[1] if table in progressed else source
        counts.append(TableCount(table, source, copied, held))
    return CopyReport(counts)
