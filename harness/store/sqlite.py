"""The SQLite dialect: one file in WAL mode, every unit of work on one dedicated thread.

The connection lives on a single-thread executor, so database work never blocks the
event loop and never races: units run one after another in the order they were made,
and there is one writer (``BEGIN IMMEDIATE`` also keeps out other processes' writers).
Times are stored as integer microseconds since the Unix epoch (UTC), which keeps them
exact and makes range scans plain integer comparisons; lists as JSON text.

The file is checked on open only after an unclean shutdown (a process that died with
it open, seen by the open-markers it leaves beside the file), since the full check
reads every page; ``harness store check`` runs it on demand (:meth:`integrity_ok`).

The schema is a list of migrations (:data:`MIGRATIONS`), each applied once, in its
own transaction together with its row in ``schema_migrations``.
"""

from __future__ import annotations

import asyncio
import glob
import json
import math
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from harness.errors import StoreDamagedError, StoreError
from harness.policy.rollup import HourRollup, fold
from harness.result import FailureKind, ProbeResult
from harness.store.dialect import Session
from harness.store.rows import ROLLUP_COLUMNS, Rows
from harness.store.sql import (
    SQLStore,
    backfill_daily,
    backfill_incidents,
    insert,
    insert_results,
    names,
)

T = TypeVar("T")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_DAY_US = 86_400_000_000
"""Microseconds in a UTC day (times are microseconds since the epoch, which starts one)."""


def _to_us(at: datetime) -> int:
    """Microseconds since the epoch; a naive time is taken as UTC."""
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return (aware - _EPOCH) // _MICROSECOND


def _from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


class SQLiteValues:
    """Times as integer microseconds since the epoch, lists as JSON, text as it is."""

    def time(self, at: datetime) -> int:
        return _to_us(at)

    def time_of(self, stored: int) -> datetime:
        return _from_us(stored)

    def text(self, value: str) -> str:
        return value

    def text_of(self, stored: str) -> str:
        return stored

    def array(self, items: Sequence[Any]) -> str:
        return json.dumps(list(items))

    def array_of(self, stored: str) -> list[Any]:
        items: list[Any] = json.loads(stored)
        return items


VALUES = SQLiteValues()


# --- schema: frozen history, only ever appended to ---------------------------------


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


def _add_policy_columns(conn: sqlite3.Connection) -> None:
    """The streaks, missed objectives and reason of the status policy."""
    statements = [
        "ALTER TABLE status ADD COLUMN limit_streak INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE status ADD COLUMN slow_streak INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE status ADD COLUMN fast_streak INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE status ADD COLUMN missed TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE status ADD COLUMN reason TEXT NOT NULL DEFAULT ''",
    ]
    for statement in statements:
        conn.execute(statement)


def _create_alert_tables(conn: sqlite3.Connection) -> None:
    """Alert deliveries (one row per message and destination) and the targets each
    speaks of. A destination is a digest and a masked label, never its URL."""
    statements = [
        """CREATE TABLE alerts (
            id INTEGER PRIMARY KEY,
            created_at INTEGER NOT NULL,
            kind TEXT NOT NULL,
            destination TEXT NOT NULL,
            label TEXT NOT NULL,
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            notify_type TEXT NOT NULL,
            flip_ids TEXT NOT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            next_attempt_at INTEGER,
            last_error TEXT,
            sent_at INTEGER
        )""",
        "CREATE INDEX alerts_due ON alerts (state, next_attempt_at)",
        "CREATE INDEX alerts_time ON alerts (created_at)",
        """CREATE TABLE alert_targets (
            alert_id INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            state TEXT NOT NULL,
            PRIMARY KEY (alert_id, provider, model)
        ) WITHOUT ROWID""",
        "CREATE INDEX alert_targets_target ON alert_targets (provider, model, alert_id)",
    ]
    for statement in statements:
        conn.execute(statement)


def _add_token_counts(conn: sqlite3.Connection) -> None:
    """The tokens an upstream reported (OpenAI-compatible ``usage``); NULL where none."""
    conn.execute("ALTER TABLE results ADD COLUMN prompt_tokens INTEGER")
    conn.execute("ALTER TABLE results ADD COLUMN completion_tokens INTEGER")


def _add_loop_lag(conn: sqlite3.Connection) -> None:
    """results.loop_lag_ms: how late the event loop ran around the first chunk."""
    conn.execute("ALTER TABLE results ADD COLUMN loop_lag_ms REAL")


_ROLLUP_BACKFILL_BATCH = 50_000


def _add_rollups(conn: sqlite3.Connection) -> None:
    """Hourly rollups per target (see harness.policy.rollup), backfilled from the results."""
    conn.execute(
        """CREATE TABLE rollups (
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            hour INTEGER NOT NULL,
            ok INTEGER NOT NULL,
            failed INTEGER NOT NULL,
            throttled INTEGER NOT NULL,
            inconclusive INTEGER NOT NULL,
            suspect INTEGER NOT NULL,
            ttfc_offset INTEGER NOT NULL,
            ttfc_counts BLOB NOT NULL,
            total_offset INTEGER NOT NULL,
            total_counts BLOB NOT NULL,
            PRIMARY KEY (provider, model, hour),
            FOREIGN KEY (provider, model) REFERENCES targets (provider, model)
        ) WITHOUT ROWID"""
    )
    conn.execute("CREATE INDEX rollups_hour ON rollups (hour)")
    # Only the columns every schema version has: older results carry no loop lag, so
    # none of them is timing-suspect.
    cursor = conn.execute(
        "SELECT provider, model, started_at, ok, kind, ttfc_ms, total_ms FROM results"
    )
    rollups: dict[tuple[str, str, datetime], HourRollup] = {}
    while rows := cursor.fetchmany(_ROLLUP_BACKFILL_BATCH):
        batch = [
            ProbeResult(
                provider=provider,
                model=model,
                prompt="",
                started_at=_from_us(started),
                ok=bool(ok),
                kind=FailureKind(kind) if kind is not None else None,
                ttfc_ms=ttfc,
                total_ms=total,
            )
            for provider, model, started, ok, kind, ttfc, total in rows
        ]
        for key, rollup in fold(batch, math.inf).items():
            if key in rollups:
                rollups[key].merge(rollup)
            else:
                rollups[key] = rollup
    conn.executemany(
        "INSERT OR IGNORE INTO targets (provider, model) VALUES (?, ?)",
        sorted({(provider, model) for provider, model, _ in rollups}),
    )
    conn.executemany(
        "INSERT OR REPLACE INTO rollups ({}) VALUES ({})".format(
            names(ROLLUP_COLUMNS), ", ".join("?" * len(ROLLUP_COLUMNS))
        ),
        map(Rows(VALUES).rollup, rollups.values()),
    )


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
            limit_streak INTEGER NOT NULL,
            slow_streak INTEGER NOT NULL,
            fast_streak INTEGER NOT NULL,
            missed TEXT NOT NULL,
            reason TEXT NOT NULL,
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


def _add_reasoning_timing(conn: sqlite3.Connection) -> None:
    """results.ttft_ms (the first token of any kind, thinking included) and
    results.reasoning_tokens (of the completion, those spent thinking); NULL in older rows."""
    conn.execute("ALTER TABLE results ADD COLUMN ttft_ms REAL")
    conn.execute("ALTER TABLE results ADD COLUMN reasoning_tokens INTEGER")


def _incidents(conn: sqlite3.Connection) -> None:
    """Incidents (see harness.policy.incidents), built for the history from its flips."""
    conn.execute(
        """CREATE TABLE incidents (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            provider TEXT NOT NULL,
            models TEXT NOT NULL,
            reasons TEXT NOT NULL,
            open_models TEXT NOT NULL,
            state TEXT NOT NULL,
            started_at INTEGER NOT NULL,
            resolved_at INTEGER,
            vantages TEXT NOT NULL
        )"""
    )
    conn.execute("CREATE INDEX incidents_time ON incidents (started_at)")
    conn.execute("CREATE INDEX incidents_provider_time ON incidents (provider, started_at)")
    conn.execute("CREATE INDEX incidents_resolved ON incidents (resolved_at)")
    backfill_incidents(_Session(conn), Rows(VALUES), wide=True)


def _stored_runs(conn: sqlite3.Connection) -> None:
    """The id of every run stored, so that a run stored again (a spooled run whose file
    outlived its commit) is recognised and stored once; the runs already stored are named
    from their results."""
    conn.execute(
        """CREATE TABLE stored_runs (
            run_id TEXT PRIMARY KEY,
            started_at INTEGER NOT NULL
        ) WITHOUT ROWID"""
    )
    conn.execute("CREATE INDEX stored_runs_time ON stored_runs (started_at)")
    conn.execute(
        """INSERT INTO stored_runs (run_id, started_at)
           SELECT run_id, MAX(started_at) FROM results WHERE run_id <> '' GROUP BY run_id"""
    )


def _usage_hours(conn: sqlite3.Connection) -> None:
    """Probes and reported tokens per target, prompt and hour (see harness.policy.usage),
    so that a day's tokens are read without the day's results; backfilled from them."""
    conn.execute(
        """CREATE TABLE usage_hours (
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            prompt TEXT NOT NULL,
            hour INTEGER NOT NULL,
            probes INTEGER NOT NULL,
            reported INTEGER NOT NULL,
            prompt_tokens INTEGER NOT NULL,
            completion_tokens INTEGER NOT NULL,
            PRIMARY KEY (provider, model, prompt, hour)
        ) WITHOUT ROWID"""
    )
    conn.execute("CREATE INDEX usage_hours_hour ON usage_hours (hour)")
    _usage_hours_backfill(conn)


def _usage_hours_backfill(conn: sqlite3.Connection) -> None:
    """The hourly usage of every stored result."""
    hour_us = 3600 * 1_000_000
    conn.execute(
        f"""INSERT INTO usage_hours
            SELECT provider, model, prompt, started_at - started_at % {hour_us}, COUNT(*),
                   COUNT(CASE WHEN prompt_tokens IS NOT NULL
                                OR completion_tokens IS NOT NULL THEN 1 END),
                   COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0)
            FROM results GROUP BY 1, 2, 3, 4"""
    )


def _daily_rollups(conn: sqlite3.Connection) -> None:
    """Daily rollups per target (the hourly ones pooled by UTC day), kept after the hours
    are pruned; backfilled from the hourly rollups."""
    conn.execute(
        """CREATE TABLE daily_rollups (
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            day INTEGER NOT NULL,
            ok INTEGER NOT NULL,
            failed INTEGER NOT NULL,
            throttled INTEGER NOT NULL,
            inconclusive INTEGER NOT NULL,
            suspect INTEGER NOT NULL,
            ttfc_offset INTEGER NOT NULL,
            ttfc_counts BLOB NOT NULL,
            total_offset INTEGER NOT NULL,
            total_counts BLOB NOT NULL,
            PRIMARY KEY (provider, model, day),
            FOREIGN KEY (provider, model) REFERENCES targets (provider, model)
        ) WITHOUT ROWID"""
    )
    conn.execute("CREATE INDEX daily_rollups_day ON daily_rollups (day)")
    backfill_daily(_Session(conn), Rows(VALUES))


COMPACT_BATCH = 20_000
"""Results rewritten at a time by the migration to compact rows."""


def _compact_results(conn: sqlite3.Connection) -> None:
    """Results as compact rows (see harness.store.rows): the target, the origin (run,
    vantage, version, source) and the texts that repeat by integer ids (tables
    target_ids, origins and texts), kinds as small integers, times in whole tenths of a
    millisecond; one index per way the results are read. Every stored result is
    rewritten, in batches in id order, keeping its id."""
    conn.execute("ALTER TABLE results RENAME TO wide_results")
    conn.execute("DROP INDEX results_target_time")
    conn.execute("DROP INDEX results_time")
    for statement in (
        """CREATE TABLE target_ids (
            id INTEGER PRIMARY KEY,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            UNIQUE (provider, model),
            FOREIGN KEY (provider, model) REFERENCES targets (provider, model)
        )""",
        "CREATE TABLE texts (id INTEGER PRIMARY KEY, value TEXT NOT NULL UNIQUE)",
        """CREATE TABLE origins (
            id INTEGER PRIMARY KEY,
            run INTEGER NOT NULL,
            vantage INTEGER NOT NULL,
            version INTEGER NOT NULL,
            source INTEGER NOT NULL,
            last_at INTEGER NOT NULL DEFAULT 0,
            UNIQUE (run, vantage, version, source)
        )""",
        """CREATE TABLE results (
            id INTEGER PRIMARY KEY,
            target INTEGER NOT NULL REFERENCES target_ids (id),
            prompt INTEGER NOT NULL,
            started_at INTEGER NOT NULL,
            ok INTEGER NOT NULL,
            kind INTEGER,
            http_status INTEGER,
            error INTEGER,
            ttfb_100us INTEGER,
            ttfc_100us INTEGER,
            total_100us INTEGER,
            dns_100us INTEGER,
            connect_100us INTEGER,
            chunks INTEGER NOT NULL,
            chars INTEGER NOT NULL,
            max_gap_100us INTEGER,
            "end" INTEGER NOT NULL,
            finish_reason INTEGER,
            sample TEXT NOT NULL,
            origin INTEGER NOT NULL,
            concurrency INTEGER NOT NULL,
            attempts INTEGER NOT NULL,
            prompt_tokens INTEGER,
            completion_tokens INTEGER,
            loop_lag_100us INTEGER,
            ttft_100us INTEGER,
            reasoning_tokens INTEGER
        )""",
    ):
        conn.execute(statement)
    conn.execute(
        """INSERT INTO target_ids (provider, model)
           SELECT DISTINCT provider, model FROM wide_results ORDER BY provider, model"""
    )
    rows, session = Rows(VALUES), _Session(conn)
    wide = rows.wide_result
    select = f"SELECT id, {names(wide.columns)} FROM wide_results WHERE id > ? ORDER BY id LIMIT ?"
    last = 0
    while batch := conn.execute(select, (last, COMPACT_BATCH)).fetchall():
        ids = [row[0] for row in batch]
        insert_results(session, rows, [wide.load(row[1:]) for row in batch], ids=ids)
        last = ids[-1]
    conn.execute("DROP TABLE wide_results")
    # Per-target history (and each target's newest results) in time order.
    conn.execute("CREATE INDEX results_target_time ON results (target, started_at)")
    # Pruning, time filters across all targets, and the newest result of all.
    conn.execute("CREATE INDEX results_time ON results (started_at)")
    # Pruning the origins whose results are all gone (results have no index by origin).
    conn.execute("CREATE INDEX origins_last ON origins (last_at)")


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    _create_tables,
    _add_policy_columns,
    _create_alert_tables,
    _add_token_counts,
    _add_loop_lag,
    _add_rollups,
    _vantage_status,
    _copy_progress,
    _add_reasoning_timing,
    _incidents,
    _stored_runs,
    _usage_hours,
    _daily_rollups,
    _compact_results,
)
"""Schema migrations in order; version N is ``MIGRATIONS[N - 1]``. Only ever append."""


@contextmanager
def _transaction(conn: sqlite3.Connection, begin: str = "BEGIN IMMEDIATE") -> Iterator[None]:
    """``begin`` ... COMMIT, or ROLLBACK on any error (the connection autocommits)."""
    conn.execute(begin)
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
    newest = _schema_version(conn)
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


def _schema_version(conn: sqlite3.Connection) -> int:
    (newest,) = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()
    return int(newest)


class _Session:
    """A session on the store's connection, which autocommits outside ``BEGIN``."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self._conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._conn.executemany(sql, rows)

    def insert(self, sql: str, params: Sequence[Any]) -> int:
        row_id = self._conn.execute(sql, params).lastrowid
        assert row_id is not None  # an INSERT sets it
        return row_id

    def bulk_insert(
        self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> None:
        self._conn.executemany(insert(table, columns), rows)


def _unit(conn: sqlite3.Connection, begin: str, work: Callable[[Session], T]) -> T:
    with _transaction(conn, begin):
        return work(_Session(conn))


class SQLite:
    """The :class:`harness.store.dialect.Dialect` of one SQLite file.

    ``read_only`` opens an existing file without writing to it (no migration, no
    open-marker, no check; SQLite keeps its WAL index beside it as for any reader): its
    schema must be this harness's.
    """

    values = VALUES
    skip_locked = ""  # one writer at a time: a claim never meets another

    def __init__(self, path: Path, *, busy_timeout_s: float = 5.0, read_only: bool = False) -> None:
        self.path = path
        self.where = str(path)
        self.busy_timeout_s = busy_timeout_s
        self.read_only = read_only
        self._executor: ThreadPoolExecutor | None = None
        # Created, used and closed only on the executor's thread.
        self._conn: sqlite3.Connection | None = None
        self._marker: Path | None = None  # this store's open-marker, when it could leave one

    # The pages in use and free, as the connection sees them: the write-ahead log's too.
    size_query = "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"

    def any_of(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        return f"{column} IN ({', '.join('?' * len(values))})", list(values)

    def holds(self, array: str, value: str) -> str:
        # Lists are stored as JSON (SQLiteValues.array).
        return f"EXISTS (SELECT 1 FROM json_each({array}) AS e WHERE e.value = {value})"

    def day_of(self, column: str) -> str:
        return f"({column} / {_DAY_US}) * {_DAY_US}"

    def join_newest(self, table: str, alias: str, query: str) -> str:
        # No LATERAL in SQLite: each row's ids come from a correlated subquery, which
        # walks the same index as the query alone would.
        return f"JOIN {table} AS {alias} ON {alias}.id IN (SELECT id FROM {table} {query})"

    async def open(self) -> None:
        """Create the data directory and the file if missing, check it, migrate it."""
        if self._executor is not None:
            return
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="harness-store")
        made = executor.submit(self._connect_read_only if self.read_only else self._connect)
        try:
            conn, marker = await asyncio.wrap_future(made)
        except BaseException:
            # Cancelled while connecting: the connection still being made is closed after
            # it, on its own thread (the only one a sqlite3 connection may be used on).
            executor.submit(self._discard, made)
            executor.shutdown(wait=False)
            raise
        self._executor, self._conn, self._marker = executor, conn, marker

    def _connect(self) -> tuple[sqlite3.Connection, Path | None]:
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
            stale = _stale_markers(self.path)
            if stale:
                # The last process using the file died without closing it: check the
                # file before anything is written to it (read-only so far).
                problems = [row[0] for row in conn.execute("PRAGMA quick_check(3)")]
                if problems != ["ok"]:
                    detail = "; ".join(" ".join(p.split()) for p in problems)
                    raise StoreDamagedError(
                        f"{self.path} is a corrupt SQLite database ({detail}); "
                        "it was left untouched: move it aside or restore a backup"
                    )
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            _migrate(conn, self.path)
            for gone in stale:
                gone.unlink(missing_ok=True)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise self._unusable(exc) from exc
        except BaseException:
            conn.close()
            raise
        marker = open_marker(self.path, os.getpid())
        try:
            marker.touch()
        except OSError:  # without one, a crash goes unchecked: no worse
            return conn, None
        return conn, marker

    def _connect_read_only(self) -> tuple[sqlite3.Connection, Path | None]:
        try:
            conn = sqlite3.connect(
                f"file:{self.path}?mode=ro",
                uri=True,
                timeout=self.busy_timeout_s,
                isolation_level=None,
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the store {self.path}: {exc}") from exc
        try:
            version = _schema_version(conn)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise self._unusable(exc) from exc
        if version != len(MIGRATIONS):
            conn.close()
            if version > len(MIGRATIONS):
                raise StoreError(
                    f"{self.path} has schema version {version}, newer than this harness knows"
                )
            raise StoreError(
                f"{self.path} has schema version {version}, older than this harness's "
                f"({len(MIGRATIONS)}): upgrade it first (harness store check opens it)"
            )
        return conn, None

    def _discard(self, made: Future[tuple[sqlite3.Connection, Path | None]]) -> None:
        if not made.cancelled() and made.exception() is None:
            _close(*made.result(), self.read_only)

    def _unusable(self, exc: sqlite3.DatabaseError) -> StoreDamagedError:
        return StoreDamagedError(
            f"{self.path} is not a usable SQLite database ({exc}); "
            "it was left untouched: move it aside or restore a backup"
        )

    async def close(self) -> None:
        """Finish queued units, close the connection and stop the thread."""
        executor, conn, marker = self._executor, self._conn, self._marker
        if executor is None:
            return
        self._executor = self._conn = self._marker = None
        try:
            if conn is not None:
                # Shielded: cancelling close() must not cancel the closing itself while
                # it waits behind a queued unit, or nothing would ever close the connection.
                await asyncio.shield(
                    asyncio.get_running_loop().run_in_executor(
                        executor, _close, conn, marker, self.read_only
                    )
                )
        except sqlite3.Error as exc:
            raise StoreError(f"closing the store {self.path}: {exc}") from exc
        finally:
            executor.shutdown(wait=False)

    async def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        executor, conn = self._executor, self._conn
        if executor is None or conn is None:
            raise StoreError(f"the store {self.path} is not open")
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, fn, conn)
        except (sqlite3.Error, OverflowError) as exc:
            raise StoreError(f"store {self.path}: {exc}") from exc

    async def read(self, work: Callable[[Session], T]) -> T:
        """``work`` on the store's thread, in a read transaction (one snapshot of the file)."""
        return await self._call(lambda conn: _unit(conn, "BEGIN", work))

    async def write(self, work: Callable[[Session], T], *, serialised: bool = False) -> T:
        """``work`` on the store's thread, in a transaction holding SQLite's write lock
        from its start (``BEGIN IMMEDIATE``): every writer is serialised already."""
        return await self._call(lambda conn: _unit(conn, "BEGIN IMMEDIATE", work))

    async def integrity_ok(self) -> bool:
        """True when SQLite's full ``integrity_check`` finds nothing wrong."""

        def check(conn: sqlite3.Connection) -> bool:
            try:
                return [row[0] for row in conn.execute("PRAGMA integrity_check")] == ["ok"]
            except sqlite3.DatabaseError:
                return False

        return await self._call(check)


class SQLiteStore(SQLStore):
    """The :class:`harness.store.base.Store` on one SQLite file (see :class:`SQLite`)."""

    def __init__(
        self, path: str | os.PathLike[str], *, busy_timeout_s: float = 5.0, read_only: bool = False
    ) -> None:
        self.path = Path(path)
        super().__init__(SQLite(self.path, busy_timeout_s=busy_timeout_s, read_only=read_only))


def _close(conn: sqlite3.Connection, marker: Path | None, read_only: bool) -> None:
    try:
        if not read_only:
            # Keeps the planner's statistics fresh for the next process; cheap when
            # nothing changed. Only an aid: when another process holds the write lock
            # (a prober writing beside this server), the next close does it.
            with suppress(sqlite3.OperationalError):
                conn.execute("PRAGMA optimize")
    finally:
        conn.close()
        if marker is not None:
            marker.unlink(missing_ok=True)  # closed cleanly: no check needed next time


_MARKER = ".open-"


def open_marker(path: Path, pid: int) -> Path:
    """A file saying that process ``pid`` has the store at ``path`` open (one per open
    store: a process may open the same file more than once)."""
    return path.with_name(f"{path.name}{_MARKER}{pid}-{uuid.uuid4().hex[:8]}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def _stale_markers(path: Path) -> list[Path]:
    """The open-markers of processes that are gone without closing the store.

    Every process that opens the store leaves a marker beside it until it closes the
    store; a marker whose process has died means an unclean shutdown, after which
    (and only then, or on ``harness store check``) the file is checked on open: the
    check reads the whole file, which takes long on a big history.
    """
    stale = []
    for marker in path.parent.glob(f"{glob.escape(path.name)}{_MARKER}*"):
        pid = marker.name.rpartition(_MARKER)[2].partition("-")[0]
        if not pid.isdigit() or not _alive(int(pid)):
            stale.append(marker)
    return stale
