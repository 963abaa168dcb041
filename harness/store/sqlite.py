"""The SQLite store: one file, WAL mode, every call on one dedicated thread.

The connection lives on a single-thread executor, so database work never blocks the
event loop and never races: calls run one after another in the order they were made.
Times are stored as integer microseconds since the Unix epoch (UTC), which keeps
them exact and makes range scans plain integer comparisons.

The schema is a list of migrations (:data:`MIGRATIONS`), each applied once, in its
own transaction together with its row in ``schema_migrations``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from harness.aggregate import LatencySummary, Uptime
from harness.consensus import RunDecision, VantageKey, VantageStatus
from harness.errors import StoreError
from harness.result import FailureKind, ProbeResult, Source, StreamEnd
from harness.status import Flip, State, TargetStatus
from harness.store.base import Decide

_T = TypeVar("_T")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _to_us(at: datetime) -> int:
    """Microseconds since the epoch; a naive time is taken as UTC."""
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return (aware - _EPOCH) // _MICROSECOND


def _from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def _opt_from_us(us: int | None) -> datetime | None:
    return None if us is None else _from_us(us)


def _create_tables(conn: sqlite3.Connection) -> None:
    """Targets, results (one column per ProbeResult field), current status, and flips."""
    statements = [
        """CREATE TABLE targets (
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            PRIMARY KEY (provider, model)
        ) WITHOUT ROWID""",
        """CREATE TABLE results (
            id INTEGER PRIMARY KEY,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            prompt TEXT NOT NULL,
            started_at INTEGER NOT NULL,
            ok INTEGER NOT NULL,
            kind TEXT,
            http_status INTEGER,
            error TEXT,
            ttfb_ms REAL,
            ttfc_ms REAL,
            total_ms REAL,
            dns_ms REAL,
            connect_ms REAL,
            chunks INTEGER NOT NULL,
            chars INTEGER NOT NULL,
            max_gap_ms REAL,
            "end" TEXT NOT NULL,
            finish_reason TEXT,
            sample TEXT NOT NULL,
            source TEXT NOT NULL,
            vantage TEXT NOT NULL,
            version TEXT NOT NULL,
            concurrency INTEGER NOT NULL,
            attempts INTEGER NOT NULL,
            run_id TEXT NOT NULL,
            FOREIGN KEY (provider, model) REFERENCES targets (provider, model)
        )""",
        # Covers uptime (ok, kind) and orders per-target history without a sort.
        """CREATE INDEX results_target_time
            ON results (provider, model, started_at, ok, kind)""",
        # Pruning and time filters across all targets.
        "CREATE INDEX results_time ON results (started_at)",
        """CREATE TABLE status (
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            state TEXT NOT NULL,
            since INTEGER NOT NULL,
            pass_streak INTEGER NOT NULL,
            fail_streak INTEGER NOT NULL,
            last_result_at INTEGER,
            last_ok_at INTEGER,
            last_kind TEXT,
            last_error TEXT,
            changes TEXT NOT NULL,
            underlying TEXT NOT NULL,
            PRIMARY KEY (provider, model),
            FOREIGN KEY (provider, model) REFERENCES targets (provider, model)
        ) WITHOUT ROWID""",
        """CREATE TABLE flips (
            id INTEGER PRIMARY KEY,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            at INTEGER NOT NULL,
            old TEXT NOT NULL,
            new TEXT NOT NULL,
            reason TEXT NOT NULL,
            FOREIGN KEY (provider, model) REFERENCES targets (provider, model)
        )""",
        "CREATE INDEX flips_time ON flips (at)",
        "CREATE INDEX flips_provider_time ON flips (provider, at)",
    ]
    for statement in statements:
        conn.execute(statement)


def _vantage_status(conn: sqlite3.Connection) -> None:
    """Each vantage's own status of each target (the status table holds the consensus)."""
    conn.execute(
        """CREATE TABLE vantage_status (
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            vantage TEXT NOT NULL,
            state TEXT NOT NULL,
            since INTEGER NOT NULL,
            pass_streak INTEGER NOT NULL,
            fail_streak INTEGER NOT NULL,
            last_result_at INTEGER,
            last_ok_at INTEGER,
            last_kind TEXT,
            last_error TEXT,
            changes TEXT NOT NULL,
            underlying TEXT NOT NULL,
            reported_at INTEGER NOT NULL,
            offline INTEGER NOT NULL,
            PRIMARY KEY (provider, model, vantage),
            FOREIGN KEY (provider, model) REFERENCES targets (provider, model)
        ) WITHOUT ROWID"""
    )


def _copy_progress(conn: sqlite3.Connection) -> None:
    """How far ``harness store migrate`` has copied each table of each source into this store."""
    conn.execute(
        """CREATE TABLE copy_progress (
            source TEXT NOT NULL,
            "table" TEXT NOT NULL,
            last_id INTEGER NOT NULL,
            copied INTEGER NOT NULL,
            PRIMARY KEY (source, "table")
        ) WITHOUT ROWID"""
    )


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    _create_tables,
    _vantage_status,
    _copy_progress,
)
"""Schema migrations in order; version N is ``MIGRATIONS[N - 1]``. Only ever append."""

RESULT_COLUMNS = tuple(f.name for f in fields(ProbeResult))
_INSERT_RESULT = "INSERT INTO results ({}) VALUES ({})".format(
    ", ".join(f'"{c}"' for c in RESULT_COLUMNS), ", ".join("?" for _ in RESULT_COLUMNS)
)
_SELECT_RESULT = "SELECT {} FROM results".format(", ".join(f'"{c}"' for c in RESULT_COLUMNS))
_STATUS_COLUMNS = tuple(f.name for f in fields(TargetStatus))
_UPSERT_STATUS = (
    "INSERT INTO status ({}) VALUES ({}) ON CONFLICT (provider, model) DO UPDATE SET {}".format(
        ", ".join(_STATUS_COLUMNS),
        ", ".join("?" for _ in _STATUS_COLUMNS),
        ", ".join(f"{c} = excluded.{c}" for c in _STATUS_COLUMNS[2:]),
    )
)


def _result_row(result: ProbeResult) -> tuple[Any, ...]:
    row: list[Any] = []
    for name in RESULT_COLUMNS:
        value = getattr(result, name)
        if isinstance(value, datetime):
            value = _to_us(value)
        elif isinstance(value, StrEnum):
            value = value.value
        row.append(value)
    return tuple(row)


def _result_from_row(row: Sequence[Any]) -> ProbeResult:
    values = dict(zip(RESULT_COLUMNS, row, strict=True))
    values["started_at"] = _from_us(values["started_at"])
    values["ok"] = bool(values["ok"])
    values["kind"] = FailureKind(values["kind"]) if values["kind"] is not None else None
    values["end"] = StreamEnd(values["end"])
    values["source"] = Source(values["source"])
    return ProbeResult(**values)


def _status_row(s: TargetStatus) -> tuple[Any, ...]:
    return (
        s.provider,
        s.model,
        s.state.value,
        _to_us(s.since),
        s.pass_streak,
        s.fail_streak,
        None if s.last_result_at is None else _to_us(s.last_result_at),
        None if s.last_ok_at is None else _to_us(s.last_ok_at),
        None if s.last_kind is None else s.last_kind.value,
        s.last_error,
        json.dumps([_to_us(t) for t in s.changes]),
        s.underlying.value,
    )


def _status_from_row(row: sqlite3.Row) -> TargetStatus:
    return TargetStatus(
        provider=row["provider"],
        model=row["model"],
        state=State(row["state"]),
        since=_from_us(row["since"]),
        pass_streak=row["pass_streak"],
        fail_streak=row["fail_streak"],
        last_result_at=_opt_from_us(row["last_result_at"]),
        last_ok_at=_opt_from_us(row["last_ok_at"]),
        last_kind=FailureKind(row["last_kind"]) if row["last_kind"] is not None else None,
        last_error=row["last_error"],
        changes=tuple(_from_us(t) for t in json.loads(row["changes"])),
        underlying=State(row["underlying"]),
    )


_VANTAGE_COLUMNS = ("vantage", *_STATUS_COLUMNS, "reported_at", "offline")
_UPSERT_VANTAGE = (
    "INSERT INTO vantage_status ({}) VALUES ({})"
    " ON CONFLICT (provider, model, vantage) DO UPDATE SET {}".format(
        ", ".join(_VANTAGE_COLUMNS),
        ", ".join("?" for _ in _VANTAGE_COLUMNS),
        ", ".join(f"{c} = excluded.{c}" for c in _VANTAGE_COLUMNS[3:]),
    )
)


def _vantage_row(v: VantageStatus) -> tuple[Any, ...]:
    return (v.vantage, *_status_row(v.status), _to_us(v.reported_at), int(v.offline))


def _vantage_from_row(row: sqlite3.Row) -> VantageStatus:
    return VantageStatus(
        vantage=row["vantage"],
        status=_status_from_row(row),
        reported_at=_from_us(row["reported_at"]),
        offline=bool(row["offline"]),
    )


def _flip_from_row(row: sqlite3.Row) -> Flip:
    return Flip(
        provider=row["provider"],
        model=row["model"],
        at=_from_us(row["at"]),
        old=State(row["old"]),
        new=State(row["new"]),
        reason=row["reason"],
    )


_ALL_STATUS = "SELECT * FROM status"


def _flip_row(f: Flip) -> tuple[Any, ...]:
    return (f.provider, f.model, _to_us(f.at), f.old.value, f.new.value, f.reason)


def _write(
    conn: sqlite3.Connection,
    targets: Sequence[tuple[str, str]],
    results: Sequence[ProbeResult],
    status_rows: Sequence[tuple[Any, ...]],
    flip_rows: Sequence[tuple[Any, ...]],
    vantage_rows: Sequence[tuple[Any, ...]],
) -> None:
    """The writes of one run, inside the caller's transaction."""
    conn.executemany("INSERT OR IGNORE INTO targets (provider, model) VALUES (?, ?)", targets)
    conn.executemany(_INSERT_RESULT, map(_result_row, results))
    conn.executemany(_UPSERT_STATUS, status_rows)
    conn.executemany(
        "INSERT INTO flips (provider, model, at, old, new, reason) VALUES (?, ?, ?, ?, ?, ?)",
        flip_rows,
    )
    conn.executemany(_UPSERT_VANTAGE, vantage_rows)


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error (the connection autocommits)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    conn.execute(
        """CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at TEXT NOT NULL
        )"""
    )
    (newest,) = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()
    if newest > len(MIGRATIONS):
        raise StoreError(
            f"{path} has schema version {newest}, newer than this harness knows "
            f"({len(MIGRATIONS)}); upgrade the harness"
        )
    for version, migration in enumerate(MIGRATIONS, start=1):
        if version <= newest:
            continue
        with _transaction(conn):
            # Another process may have applied it while we waited for the lock.
            done = conn.execute("SELECT 1 FROM schema_migrations WHERE version = ?", (version,))
            if done.fetchone() is not None:
                continue
            migration(conn)
            conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (version, migration.__name__.lstrip("_"), datetime.now(UTC).isoformat()),
            )


class SQLiteStore:
    """The :class:`harness.store.base.Store` on one SQLite file."""

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout_s: float = 5.0) -> None:
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        self._executor: ThreadPoolExecutor | None = None
        # Created, used and closed only on the executor's thread.
        self._conn: sqlite3.Connection | None = None

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    async def open(self) -> None:
        """Create the data directory and the file if missing, check it, migrate it."""
        if self._executor is not None:
            return
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="harness-store")
        try:
            self._conn = await asyncio.get_running_loop().run_in_executor(executor, self._connect)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        self._executor = executor

    def _connect(self) -> sqlite3.Connection:
        directory = self.path.parent
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the data directory {directory}: {exc}") from exc
        if not os.access(directory, os.W_OK | os.X_OK):
            raise StoreError(f"the data directory {directory} is not writable")
        try:
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the store {self.path}: {exc}") from exc
        try:
            # Read-only checks first: nothing is written to a file that fails them.
            problems = [row[0] for row in conn.execute("PRAGMA quick_check(3)")]
            if problems != ["ok"]:
                detail = "; ".join(" ".join(p.split()) for p in problems)
                raise StoreError(
                    f"{self.path} is a corrupt SQLite database ({detail}); "
                    "it was left untouched: move it aside or restore a backup"
                )
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            _migrate(conn, self.path)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(
                f"{self.path} is not a usable SQLite database ({exc}); "
                "it was left untouched: move it aside or restore a backup"
            ) from exc
        except BaseException:
            conn.close()
            raise
        conn.row_factory = sqlite3.Row
        return conn

    async def close(self) -> None:
        """Finish queued calls, close the connection and stop the thread."""
        executor, conn = self._executor, self._conn
        if executor is None:
            return
        self._executor = self._conn = None
        try:
            if conn is not None:
                await asyncio.get_running_loop().run_in_executor(executor, _close, conn)
        except sqlite3.Error as exc:
            raise StoreError(f"closing the store {self.path}: {exc}") from exc
        finally:
            executor.shutdown(wait=False)

    async def _call(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        executor, conn = self._executor, self._conn
        if executor is None or conn is None:
            raise StoreError(f"the store {self.path} is not open")
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, fn, conn)
        except (sqlite3.Error, OverflowError) as exc:
            raise StoreError(f"store {self.path}: {exc}") from exc

    async def add_results(self, results: Sequence[ProbeResult]) -> None:
        """Store a batch of results in one transaction."""
        await self.record_run(results, (), ())

    async def results(
        self,
        *,
        provider: str | None = None,
        model: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> list[ProbeResult]:
        """Results matching every given filter, newest first."""
        where: list[str] = []
        params: list[Any] = []
        for clause, value in (
            ("provider = ?", provider),
            ("model = ?", model),
            ("started_at >= ?", None if since is None else _to_us(since)),
            ("started_at < ?", None if until is None else _to_us(until)),
        ):
            if value is not None:
                where.append(clause)
                params.append(value)
        sql = _SELECT_RESULT
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY started_at DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)

        def query(conn: sqlite3.Connection) -> list[ProbeResult]:
            return [_result_from_row(row) for row in conn.execute(sql, params)]

        return await self._call(query)

    async def recent(self, provider: str, model: str, limit: int) -> list[ProbeResult]:
        """The newest ``limit`` results of one target, newest first."""
        return await self.results(provider=provider, model=model, limit=limit)

    async def targets(self) -> list[tuple[str, str]]:
        """Every (provider, model) the store has seen, sorted."""

        def query(conn: sqlite3.Connection) -> list[tuple[str, str]]:
            rows = conn.execute("SELECT provider, model FROM targets ORDER BY provider, model")
            return [(row[0], row[1]) for row in rows]

        return await self._call(query)

    async def uptime(self, provider: str, model: str, since: datetime) -> Uptime:
        """Uptime of one target since ``since``, counted in SQL over the covering index."""

        def query(conn: sqlite3.Connection) -> Uptime:
            total, ok = conn.execute(
                """SELECT COUNT(*), COALESCE(SUM(ok), 0) FROM results
                   WHERE provider = ? AND model = ? AND started_at >= ?
                     AND kind IS NOT ?""",
                (provider, model, _to_us(since), FailureKind.HARNESS_OFFLINE.value),
            ).fetchone()
            return Uptime(ok=ok, total=total)

        return await self._call(query)

    async def latency(
        self, provider: str, model: str, since: datetime, max_rows: int = 1000
    ) -> LatencySummary:
        """Latency over the newest ``max_rows`` passing results since ``since``."""

        def query(conn: sqlite3.Connection) -> LatencySummary:
            rows = conn.execute(
                """SELECT ttfc_ms, total_ms FROM results
                   WHERE provider = ? AND model = ? AND started_at >= ? AND ok = 1
                   ORDER BY started_at DESC LIMIT ?""",
                (provider, model, _to_us(since), max_rows),
            )
            return LatencySummary.from_samples((row[0], row[1]) for row in rows)

        return await self._call(query)

    async def statuses(self) -> dict[tuple[str, str], TargetStatus]:
        """The current status of every target that has one."""

        def query(conn: sqlite3.Connection) -> dict[tuple[str, str], TargetStatus]:
            statuses = map(_status_from_row, conn.execute(_ALL_STATUS))
            return {s.target: s for s in statuses}

        return await self._call(query)

    async def save_statuses(self, statuses: Sequence[TargetStatus], flips: Sequence[Flip]) -> None:
        """Replace the given targets' statuses and append the flips, in one transaction."""
        await self.record_run((), statuses, flips)

    async def record_run(
        self,
        results: Sequence[ProbeResult],
        statuses: Sequence[TargetStatus],
        flips: Sequence[Flip],
    ) -> None:
        """Store a run's results with the statuses and flips they caused, in one
        transaction: a crash keeps both or neither, so the flags never lag the results."""
        batch = list(results)
        status_rows = [_status_row(s) for s in statuses]
        flip_rows = [_flip_row(f) for f in flips]
        targets = sorted(
            {r.target for r in batch} | {(row[0], row[1]) for row in (*status_rows, *flip_rows)}
        )
        if not targets:
            return

        def save(conn: sqlite3.Connection) -> None:
            with _transaction(conn):
                _write(conn, targets, batch, status_rows, flip_rows, [])

        await self._call(save)

    async def vantage_statuses(self) -> dict[VantageKey, VantageStatus]:
        """Every vantage's status of every target, by (provider, model, vantage)."""

        def query(conn: sqlite3.Connection) -> dict[VantageKey, VantageStatus]:
            views = map(_vantage_from_row, conn.execute("SELECT * FROM vantage_status"))
            return {v.key: v for v in views}

        return await self._call(query)

    async def record_vantage_run(
        self, results: Sequence[ProbeResult], decide: Decide
    ) -> RunDecision:
        """Store ``results`` with what ``decide`` makes of them, in one transaction under
        SQLite's write lock (``BEGIN IMMEDIATE``), so no other writer interleaves."""
        batch = list(results)

        def save(conn: sqlite3.Connection) -> RunDecision:
            with _transaction(conn):
                shown = {s.target: s for s in map(_status_from_row, conn.execute(_ALL_STATUS))}
                views = map(_vantage_from_row, conn.execute("SELECT * FROM vantage_status"))
                decision = decide(shown, {v.key: v for v in views})
                status_rows = [_status_row(s) for s in decision.statuses]
                flip_rows = [_flip_row(f) for f in decision.flips]
                targets = sorted(
                    {r.target for r in batch}
                    | {s.target for s in decision.statuses}
                    | {f[:2] for f in flip_rows}
                )
                vantage_rows = [_vantage_row(v) for v in decision.vantages]
                _write(conn, targets, batch, status_rows, flip_rows, vantage_rows)
                return decision

        return await self._call(save)

    async def flips(self, *, provider: str | None = None, limit: int = 100) -> list[Flip]:
        """Recorded flips, newest first, optionally of one provider."""
        where = " WHERE provider = ?" if provider is not None else ""
        params: tuple[Any, ...] = (provider, limit) if provider is not None else (limit,)
        sql = f"SELECT * FROM flips{where} ORDER BY at DESC, id DESC LIMIT ?"

        def query(conn: sqlite3.Connection) -> list[Flip]:
            return [_flip_from_row(row) for row in conn.execute(sql, params)]

        return await self._call(query)

    async def prune(self, older_than: datetime) -> int:
        """Delete results and flips older than ``older_than``; the rows deleted, together."""
        cutoff = _to_us(older_than)

        def prune(conn: sqlite3.Connection) -> int:
            with _transaction(conn):
                results = conn.execute("DELETE FROM results WHERE started_at < ?", (cutoff,))
                flips = conn.execute("DELETE FROM flips WHERE at < ?", (cutoff,))
                return results.rowcount + flips.rowcount

        return await self._call(prune)

    async def integrity_ok(self) -> bool:
        """True when SQLite's full ``integrity_check`` finds nothing wrong."""

        def check(conn: sqlite3.Connection) -> bool:
            try:
                return [row[0] for row in conn.execute("PRAGMA integrity_check")] == ["ok"]
            except sqlite3.DatabaseError:
                return False

        return await self._call(check)


def _close(conn: sqlite3.Connection) -> None:
    try:
        # Keeps the planner's statistics fresh for the next process; cheap when nothing changed.
        conn.execute("PRAGMA optimize")
    finally:
        conn.close()
