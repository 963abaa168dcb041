"""The PostgreSQL dialect: one database shared by every vantage, through a connection pool.

psycopg 3's blocking connections, from a psycopg-pool pool, each used by one thread of
the dialect's own executor (as many threads as pooled connections): every unit of work
takes a pooled connection for one transaction, committed when the unit returns and
rolled back when it raises. Every statement runs under a statement timeout
(:data:`STATEMENT_TIMEOUT_S` unless the URL, role or database sets one), so a query that
hangs fails as unavailable and the run's results wait in the spool. Pooled connections
are checked before use, and after the server was found unreachable the next unit checks
it is back with one direct connection (failing fast while it is not) and starts a new
pool, so after the server restarts the store reconnects by itself.

The schema parallels the SQLite dialect's: the migration list (:data:`MIGRATIONS`) runs
parallel to :data:`harness.store.sqlite.MIGRATIONS`, version for version, each applied
once in its own transaction with its row in ``schema_migrations``, under an advisory
lock so two processes opening one database never migrate it twice.

Every write of a run takes one transaction-level advisory lock, :data:`WRITE_LOCK`,
first, so writers of a run take turns (and never deadlock on each other's rows).

PostgreSQL text cannot hold NUL characters; a string that contains one (or that starts
with :data:`_ENCODED`) is stored as that marker followed by its JSON encoding, which
keeps every string round-tripping exactly and leaves ordinary text untouched.
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from harness.errors import StoreError, StoreUnavailable
from harness.policy.rollup import HourRollup, fold
from harness.result import FailureKind, ProbeResult
from harness.store.dialect import Session
from harness.store.rows import Rows
from harness.store.sql import (
    UPSERT_ROLLUP,
    SQLStore,
    backfill_daily,
    backfill_incidents,
    insert_results,
    names,
)

T = TypeVar("T")
Conn = psycopg.Connection[tuple[Any, ...]]

_ENCODED = "\ufdd0"
MIGRATION_LOCK = 0x68617272_6D696772  # "harrmigr": one key for schema changes
WRITE_LOCK = 0x68617272_77726974  # "harrwrit": serialises every run's writes
CONNECT_TIMEOUT_S = 5
POOL_TIMEOUT_S = 5.0
STATEMENT_TIMEOUT_S = 60.0
"""How long one statement may run (or wait for a lock) before the server cancels it, unless
the URL (``options=-c statement_timeout=...``), the role or the database sets a limit."""


def _encode_text(value: str) -> str:
    if "\x00" in value or value.startswith(_ENCODED):
        return _ENCODED + json.dumps(value)
    return value


def _decode_text(value: str) -> str:
    if value.startswith(_ENCODED):
        decoded: str = json.loads(value[len(_ENCODED) :])
        return decoded
    return value


def _utc(at: datetime) -> datetime:
    """A naive time is taken as UTC; every time goes out and comes back in UTC."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


class PostgresValues:
    """Times as ``TIMESTAMPTZ`` in UTC, lists as arrays, text without NUL characters."""

    def time(self, at: datetime) -> datetime:
        return _utc(at)

    def time_of(self, stored: datetime) -> datetime:
        return _utc(stored)

    def text(self, value: str) -> str:
        return _encode_text(value)

    def text_of(self, stored: str) -> str:
        return _decode_text(stored)

    def array(self, items: Sequence[Any]) -> list[Any]:
        return list(items)

    def array_of(self, stored: list[Any]) -> list[Any]:
        return stored


VALUES = PostgresValues()


@functools.cache
def _placeholders(sql: str) -> str:
    """A statement written with ``?`` placeholders in psycopg's ``%s``."""
    return sql.replace("?", "%s")


# --- schema: frozen history, only ever appended to ---------------------------------

# Text keys compare byte-wise ("C"), as Python sorts them, whatever the database's locale.
_KEY = 'TEXT COLLATE "C" NOT NULL'


def _create_tables(conn: Conn) -> None:
    """Targets, results (one column per ProbeResult field), current status, and flips."""
    for statement in (
        f"""CREATE TABLE targets (
            provider {_KEY},
            model {_KEY},
            PRIMARY KEY (provider, model)
        )""",
        f"""CREATE TABLE results (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            provider {_KEY},
            model {_KEY},
            prompt TEXT NOT NULL,
            started_at TIMESTAMPTZ NOT NULL,
            ok BOOLEAN NOT NULL,
            kind TEXT,
            http_status INTEGER,
            error TEXT,
            ttfb_ms DOUBLE PRECISION,
            ttfc_ms DOUBLE PRECISION,
            total_ms DOUBLE PRECISION,
            dns_ms DOUBLE PRECISION,
            connect_ms DOUBLE PRECISION,
            chunks BIGINT NOT NULL,
            chars BIGINT NOT NULL,
            max_gap_ms DOUBLE PRECISION,
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
        """CREATE INDEX results_target_time
            ON results (provider, model, started_at) INCLUDE (ok, kind)""",
        "CREATE INDEX results_time ON results (started_at)",
        f"""CREATE TABLE status (
            provider {_KEY},
            model {_KEY},
            state TEXT NOT NULL,
            since TIMESTAMPTZ NOT NULL,
            pass_streak BIGINT NOT NULL,
            fail_streak BIGINT NOT NULL,
            last_result_at TIMESTAMPTZ,
            last_ok_at TIMESTAMPTZ,
            last_kind TEXT,
            last_error TEXT,
            changes TIMESTAMPTZ[] NOT NULL,
            underlying TEXT NOT NULL,
            PRIMARY KEY (provider, model),
            FOREIGN KEY (provider, model) REFERENCES targets (provider, model)
        )""",
        f"""CREATE TABLE flips (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            provider {_KEY},
            model {_KEY},
            at TIMESTAMPTZ NOT NULL,
            old TEXT NOT NULL,
            new TEXT NOT NULL,
            reason TEXT NOT NULL,
            FOREIGN KEY (provider, model) REFERENCES targets (provider, model)
        )""",
        "CREATE INDEX flips_time ON flips (at)",
        "CREATE INDEX flips_provider_time ON flips (provider, at)",
    ):
        conn.execute(statement)


def _add_policy_columns(conn: Conn) -> None:
    """The streaks, missed objectives and reason of the status policy."""
    for statement in (
        "ALTER TABLE status ADD COLUMN limit_streak BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE status ADD COLUMN slow_streak BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE status ADD COLUMN fast_streak BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE status ADD COLUMN missed TEXT[] NOT NULL DEFAULT '{}'",
        "ALTER TABLE status ADD COLUMN reason TEXT NOT NULL DEFAULT ''",
    ):
        conn.execute(statement)


def _create_alert_tables(conn: Conn) -> None:
    """Alert deliveries (one row per message and destination) and the targets each
    speaks of. A destination is a digest and a masked label, never its URL."""
    for statement in (
        """CREATE TABLE alerts (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            created_at TIMESTAMPTZ NOT NULL,
            kind TEXT NOT NULL,
            destination TEXT NOT NULL,
            label TEXT NOT NULL,
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            notify_type TEXT NOT NULL,
            flip_ids BIGINT[] NOT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            next_attempt_at TIMESTAMPTZ,
            last_error TEXT,
            sent_at TIMESTAMPTZ
        )""",
        "CREATE INDEX alerts_due ON alerts (state, next_attempt_at)",
        "CREATE INDEX alerts_time ON alerts (created_at)",
        f"""CREATE TABLE alert_targets (
            alert_id BIGINT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
            provider {_KEY},
            model {_KEY},
            state TEXT NOT NULL,
            PRIMARY KEY (alert_id, provider, model)
        )""",
        "CREATE INDEX alert_targets_target ON alert_targets (provider, model, alert_id)",
    ):
        conn.execute(statement)


def _add_token_counts(conn: Conn) -> None:
    """The tokens an upstream reported (OpenAI-compatible ``usage``); NULL where none."""
    conn.execute("ALTER TABLE results ADD COLUMN prompt_tokens BIGINT")
    conn.execute("ALTER TABLE results ADD COLUMN completion_tokens BIGINT")


def _add_loop_lag(conn: Conn) -> None:
    """results.loop_lag_ms: how late the event loop ran around the first chunk."""
    conn.execute("ALTER TABLE results ADD COLUMN loop_lag_ms DOUBLE PRECISION")


_ROLLUP_BACKFILL_BATCH = 50_000


def _add_rollups(conn: Conn) -> None:
    """Hourly rollups per target (see harness.policy.rollup), backfilled from the results."""
    conn.execute(
        f"""CREATE TABLE rollups (
            provider {_KEY},
            model {_KEY},
            hour TIMESTAMPTZ NOT NULL,
            ok BIGINT NOT NULL,
            failed BIGINT NOT NULL,
            throttled BIGINT NOT NULL,
            inconclusive BIGINT NOT NULL,
            suspect BIGINT NOT NULL,
            ttfc_offset INTEGER NOT NULL,
            ttfc_counts BYTEA NOT NULL,
            total_offset INTEGER NOT NULL,
            total_counts BYTEA NOT NULL,
            PRIMARY KEY (provider, model, hour),
            FOREIGN KEY (provider, model) REFERENCES targets (provider, model)
        )"""
    )
    conn.execute("CREATE INDEX rollups_hour ON rollups (hour)")
    # Only the columns every schema version has: older results carry no loop lag, so
    # none of them is timing-suspect.
    rollups: dict[tuple[str, str, datetime], HourRollup] = {}
    with conn.cursor(name="rollup_backfill") as cursor:
        cursor.execute(
            "SELECT provider, model, started_at, ok, kind, ttfc_ms, total_ms FROM results"
        )
        while rows := cursor.fetchmany(_ROLLUP_BACKFILL_BATCH):
            batch = [
                ProbeResult(
                    provider=_decode_text(provider),
                    model=_decode_text(model),
                    prompt="",
                    started_at=_utc(started),
                    ok=ok,
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
    with conn.cursor() as writer:
        writer.executemany(_placeholders(UPSERT_ROLLUP), map(Rows(VALUES).rollup, rollups.values()))


def _vantage_status(conn: Conn) -> None:
    """Each vantage's own status of each target (the status table holds the consensus)."""
    conn.execute(
        f"""CREATE TABLE vantage_status (
            provider {_KEY},
            model {_KEY},
            vantage {_KEY},
            state TEXT NOT NULL,
            since TIMESTAMPTZ NOT NULL,
            pass_streak BIGINT NOT NULL,
            fail_streak BIGINT NOT NULL,
            last_result_at TIMESTAMPTZ,
            last_ok_at TIMESTAMPTZ,
            last_kind TEXT,
            last_error TEXT,
            changes TIMESTAMPTZ[] NOT NULL,
            underlying TEXT NOT NULL,
            limit_streak BIGINT NOT NULL,
            slow_streak BIGINT NOT NULL,
            fast_streak BIGINT NOT NULL,
            missed TEXT[] NOT NULL,
            reason TEXT NOT NULL,
            reported_at TIMESTAMPTZ NOT NULL,
            offline BOOLEAN NOT NULL,
            PRIMARY KEY (provider, model, vantage),
            FOREIGN KEY (provider, model) REFERENCES targets (provider, model)
        )"""
    )


def _copy_progress(conn: Conn) -> None:
    """How far ``harness store migrate`` has copied each table of each source into this store."""
    conn.execute(
        """CREATE TABLE copy_progress (
            source TEXT NOT NULL,
            "table" TEXT NOT NULL,
            last_id BIGINT NOT NULL,
            copied BIGINT NOT NULL,
            PRIMARY KEY (source, "table")
        )"""
    )


def _add_reasoning_timing(conn: Conn) -> None:
    """results.ttft_ms (the first token of any kind, thinking included) and
    results.reasoning_tokens (of the completion, those spent thinking); NULL in older rows."""
    conn.execute("ALTER TABLE results ADD COLUMN ttft_ms DOUBLE PRECISION")
    conn.execute("ALTER TABLE results ADD COLUMN reasoning_tokens BIGINT")


def _incidents(conn: Conn) -> None:
    """Incidents (see harness.policy.incidents), built for the history from its flips."""
    for statement in (
        f"""CREATE TABLE incidents (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            provider {_KEY},
            models TEXT[] NOT NULL,
            reasons TEXT[] NOT NULL,
            open_models TEXT[] NOT NULL,
            state TEXT NOT NULL,
            started_at TIMESTAMPTZ NOT NULL,
            resolved_at TIMESTAMPTZ,
            vantages TEXT[] NOT NULL
        )""",
        "CREATE INDEX incidents_time ON incidents (started_at)",
        "CREATE INDEX incidents_provider_time ON incidents (provider, started_at)",
        "CREATE INDEX incidents_resolved ON incidents (resolved_at)",
    ):
        conn.execute(statement)
    backfill_incidents(_Session(conn), Rows(VALUES), wide=True)


def _stored_runs(conn: Conn) -> None:
    """The id of every run stored, so that a run stored again (a spooled run whose file
    outlived its commit) is recognised and stored once; the runs already stored are named
    from their results."""
    conn.execute(
        f"""CREATE TABLE stored_runs (
            run_id {_KEY} PRIMARY KEY,
            started_at TIMESTAMPTZ NOT NULL
        )"""
    )
    conn.execute("CREATE INDEX stored_runs_time ON stored_runs (started_at)")
    conn.execute(
        """INSERT INTO stored_runs (run_id, started_at)
           SELECT run_id, MAX(started_at) FROM results WHERE run_id <> '' GROUP BY run_id"""
    )


def _usage_hours(conn: Conn) -> None:
    """Probes and reported tokens per target, prompt and hour (see harness.policy.usage),
    so that a day's tokens are read without the day's results; backfilled from them."""
    conn.execute(
        f"""CREATE TABLE usage_hours (
            provider {_KEY},
            model {_KEY},
            prompt {_KEY},
            hour TIMESTAMPTZ NOT NULL,
            probes BIGINT NOT NULL,
            reported BIGINT NOT NULL,
            prompt_tokens BIGINT NOT NULL,
            completion_tokens BIGINT NOT NULL,
            PRIMARY KEY (provider, model, prompt, hour)
        )"""
    )
    conn.execute("CREATE INDEX usage_hours_hour ON usage_hours (hour)")
    _usage_hours_backfill(conn)


def _usage_hours_backfill(conn: Conn) -> None:
    """The hourly usage of every stored result."""
    conn.execute(
        """INSERT INTO usage_hours
           SELECT provider, model, prompt, date_trunc('hour', started_at, 'UTC'), COUNT(*),
                  COUNT(CASE WHEN prompt_tokens IS NOT NULL
                               OR completion_tokens IS NOT NULL THEN 1 END),
                  COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0)
           FROM results GROUP BY 1, 2, 3, 4"""
    )


def _daily_rollups(conn: Conn) -> None:
    """Daily rollups per target (the hourly ones pooled by UTC day), kept after the hours
    are pruned; backfilled from the hourly rollups."""
    conn.execute(
        f"""CREATE TABLE daily_rollups (
            provider {_KEY},
            model {_KEY},
            day TIMESTAMPTZ NOT NULL,
            ok BIGINT NOT NULL,
            failed BIGINT NOT NULL,
            throttled BIGINT NOT NULL,
            inconclusive BIGINT NOT NULL,
            suspect BIGINT NOT NULL,
            ttfc_offset INTEGER NOT NULL,
            ttfc_counts BYTEA NOT NULL,
            total_offset INTEGER NOT NULL,
            total_counts BYTEA NOT NULL,
            PRIMARY KEY (provider, model, day),
            FOREIGN KEY (provider, model) REFERENCES targets (provider, model)
        )"""
    )
    conn.execute("CREATE INDEX daily_rollups_day ON daily_rollups (day)")
    backfill_daily(_Session(conn), Rows(VALUES))


COMPACT_BATCH = 20_000
"""Results rewritten at a time by the migration to compact rows."""


def _compact_results(conn: Conn) -> None:
    """Results as compact rows (see harness.store.rows): the target, the origin (run,
    vantage, version, source) and the texts that repeat by integer ids (tables
    target_ids, origins and texts), kinds as small integers, times in whole tenths of a
    millisecond, columns ordered widest first so that none is padded; one index per way
    the results are read. Every stored result is rewritten,
    in batches in id order, keeping its id."""
    for statement in (
        "ALTER TABLE results RENAME TO wide_results",
        "ALTER INDEX results_pkey RENAME TO wide_results_pkey",
        "DROP INDEX results_target_time",
        "DROP INDEX results_time",
        f"""CREATE TABLE target_ids (
            id INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            provider {_KEY},
            model {_KEY},
            UNIQUE (provider, model),
            FOREIGN KEY (provider, model) REFERENCES targets (provider, model)
        )""",
        """CREATE TABLE texts (
            id INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            value TEXT COLLATE "C" NOT NULL UNIQUE
        )""",
        """CREATE TABLE origins (
            id INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            run INTEGER NOT NULL,
            vantage INTEGER NOT NULL,
            version INTEGER NOT NULL,
            source SMALLINT NOT NULL,
            last_at TIMESTAMPTZ NOT NULL DEFAULT 'epoch',
            UNIQUE (run, vantage, version, source)
        )""",
        # By default, not always: the migration keeps each result's id.
        """CREATE TABLE results (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            started_at TIMESTAMPTZ NOT NULL,
            target INTEGER NOT NULL REFERENCES target_ids (id),
            prompt INTEGER NOT NULL,
            origin INTEGER NOT NULL,
            chunks INTEGER NOT NULL,
            chars INTEGER NOT NULL,
            concurrency INTEGER NOT NULL,
            error INTEGER,
            finish_reason INTEGER,
            ttfb_100us INTEGER,
            ttfc_100us INTEGER,
            total_100us INTEGER,
            dns_100us INTEGER,
            connect_100us INTEGER,
            max_gap_100us INTEGER,
            loop_lag_100us INTEGER,
            ttft_100us INTEGER,
            prompt_tokens INTEGER,
            completion_tokens INTEGER,
            reasoning_tokens INTEGER,
            attempts SMALLINT NOT NULL,
            kind SMALLINT,
            http_status SMALLINT,
            "end" SMALLINT NOT NULL,
            ok BOOLEAN NOT NULL,
            sample TEXT NOT NULL
        )""",
        """INSERT INTO target_ids (provider, model)
           SELECT DISTINCT provider, model FROM wide_results ORDER BY provider, model""",
    ):
        conn.execute(statement)
    rows, session = Rows(VALUES), _Session(conn)
    wide = rows.wide_result
    select = f"SELECT id, {names(wide.columns)} FROM wide_results WHERE id > ? ORDER BY id LIMIT ?"
    last = 0
    while batch := session.execute(select, (last, COMPACT_BATCH)).fetchall():
        ids = [row[0] for row in batch]
        insert_results(session, rows, [wide.load(row[1:]) for row in batch], ids=ids)
        last = ids[-1]
    for statement in (
        "DROP TABLE wide_results",
        """SELECT setval(pg_get_serial_sequence('results', 'id'),
                         (SELECT COALESCE(MAX(id), 0) + 1 FROM results), false)""",
        # Per-target history (and each target's newest results) in time order.
        "CREATE INDEX results_target_time ON results (target, started_at)",
        # Pruning, time filters across all targets, and the newest result of all.
        "CREATE INDEX results_time ON results (started_at)",
        # Pruning the origins whose results are all gone (results have no index by origin).
        "CREATE INDEX origins_last ON origins (last_at)",
    ):
        conn.execute(statement)


MIGRATIONS: tuple[Callable[[Conn], None], ...] = (
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
"""Schema migrations in order, parallel to SQLite's; version N is ``MIGRATIONS[N - 1]``.
Only ever append."""


def _migrate(conn: Conn, where: str) -> None:
    """Bring the schema up to date, or refuse a newer one; ``conn`` autocommits."""
    conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    try:
        conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at TIMESTAMPTZ NOT NULL
            )"""
        )
        row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()
        newest = int(row[0]) if row is not None else 0
        if newest > len(MIGRATIONS):
            raise StoreError(
                f"{where} has schema version {newest}, newer than this harness knows "
                f"({len(MIGRATIONS)}); upgrade the harness"
            )
        for version, migration in enumerate(MIGRATIONS, start=1):
            if version <= newest:
                continue
            with conn.transaction():
                migration(conn)
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at)"
                    " VALUES (%s, %s, now())",
                    (version, migration.__name__.lstrip("_")),
                )
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))


def redacted(url: str) -> str:
    """``url`` without its password, for messages."""
    try:
        params = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "the PostgreSQL URL"
    host = params.get("host", "localhost")
    port = params.get("port")
    database = params.get("dbname", "")
    return f"postgresql://{host}{f':{port}' if port else ''}/{database}"


class _Session:
    """A session on one pooled connection, inside its transaction."""

    def __init__(self, conn: Conn) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[tuple[Any, ...]]:
        # Rows come back in the binary format: bytea and times are not parsed from text.
        return self._conn.execute(_placeholders(sql), params, binary=True)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self._conn.cursor() as cursor:
            cursor.executemany(_placeholders(sql), rows)

    def insert(self, sql: str, params: Sequence[Any]) -> int:
        row = self._conn.execute(_placeholders(f"{sql} RETURNING id"), params).fetchone()
        assert row is not None  # INSERT ... RETURNING gives its row
        return int(row[0])

    def bulk_insert(
        self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> None:
        # COPY: several times the rows per second of INSERTs.
        with (
            self._conn.cursor() as cursor,
            cursor.copy(f"COPY {table} ({names(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)


class Postgres:
    """The :class:`harness.store.dialect.Dialect` of one PostgreSQL database."""

    values = VALUES
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(
        self,
        url: str,
        *,
        max_connections: int = 8,
        statement_timeout: float = STATEMENT_TIMEOUT_S,
    ) -> None:
        self.url = url
        self.where = redacted(url)
        self.max_connections = max_connections
        self.statement_timeout = statement_timeout
        self._executor: ThreadPoolExecutor | None = None
        self._pool: ConnectionPool[Conn] | None = None
        # Set when the server was found unreachable: the next unit checks it is back with
        # one direct connection (failing fast while it is not) and then starts a new
        # pool, rather than waiting out the old pool's reconnection back-off.
        self._stale = False
        self._recovering = threading.Lock()

    # Every table of the store's schema with its indexes and TOAST (the schema of the
    # search path: several stores may share one database in schemas of their own).
    size_query = """SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c
                    JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = current_schema() AND c.relkind = 'r'"""

    def any_of(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        return f"{column} = ANY(?)", [list(values)]

    def holds(self, array: str, value: str) -> str:
        return f"{value} = ANY({array})"

    def day_of(self, column: str) -> str:
        return f"date_trunc('day', {column}, 'UTC')"

    def join_newest(self, table: str, alias: str, query: str) -> str:
        return f"CROSS JOIN LATERAL (SELECT * FROM {table} {query}) AS {alias}"

    async def open(self) -> None:
        """Connect, then create or upgrade the schema (a newer schema is refused)."""
        if self._executor is not None:
            return
        executor = ThreadPoolExecutor(self.max_connections, thread_name_prefix="harness-store")
        try:
            self._pool = await asyncio.get_running_loop().run_in_executor(executor, self._open)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        self._executor = executor

    def _open(self) -> ConnectionPool[Conn]:
        try:
            with self._connect() as conn:
                _migrate(conn, self.where)
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(f"cannot reach the store {self.where}: {_first(exc)}") from exc
        except psycopg.Error as exc:
            raise StoreError(f"cannot open the store {self.where}: {_first(exc)}") from exc
        return self._new_pool()

    def _connect(self) -> Conn:
        return psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)

    def _new_pool(self) -> ConnectionPool[Conn]:
        pool: ConnectionPool[Conn] = ConnectionPool(
            self.url,
            min_size=1,
            max_size=self.max_connections,
            kwargs={"connect_timeout": CONNECT_TIMEOUT_S},
            check=ConnectionPool.check_connection,
            configure=self._configure,
            timeout=POOL_TIMEOUT_S,
            open=False,
            name="harness-store",
        )
        pool.open()
        return pool

    def _configure(self, conn: Conn) -> None:
        """A new pooled connection: the statement timeout, where nothing else set one, so
        that a query that hangs (a lock never released, a server that stopped answering)
        costs one run's spool rather than the store."""
        row = conn.execute("SHOW statement_timeout").fetchone()
        if row is not None and row[0] == "0":
            conn.execute(f"SET statement_timeout = {max(1, round(self.statement_timeout * 1000))}")
        conn.commit()

    async def close(self) -> None:
        """Close every pooled connection and stop the threads; safe to call twice."""
        executor, pool = self._executor, self._pool
        self._executor = self._pool = None
        if executor is None:
            return
        try:
            if pool is not None:
                await asyncio.get_running_loop().run_in_executor(executor, pool.close)
        finally:
            executor.shutdown(wait=False)

    async def read(self, work: Callable[[Session], T]) -> T:
        """``work`` on one pooled connection, in one transaction."""
        return await self._call(work, lock=False)

    async def write(self, work: Callable[[Session], T], *, serialised: bool = False) -> T:
        """``work`` on one pooled connection, in one transaction; ``serialised`` first
        takes :data:`WRITE_LOCK`, held to the commit."""
        return await self._call(work, lock=serialised)

    async def _call(self, work: Callable[[Session], T], *, lock: bool) -> T:
        executor = self._executor
        if executor is None:
            raise StoreError(f"the store {self.where} is not open")
        return await asyncio.get_running_loop().run_in_executor(executor, self._unit, work, lock)

    def _unit(self, work: Callable[[Session], T], lock: bool) -> T:
        pool = self._usable_pool()
        try:
            with pool.connection() as conn:
                if lock:
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
                return work(_Session(conn))
        except PoolTimeout as exc:
            self._stale = True
            raise StoreUnavailable(f"cannot reach the store {self.where}: {exc}") from exc
        except psycopg.errors.QueryCanceled as exc:
            message = f"the store {self.where} did not answer in time: {_first(exc)}"
            raise StoreUnavailable(message) from exc
        except psycopg.OperationalError as exc:
            self._stale = True
            raise StoreUnavailable(f"the store {self.where} is unreachable: {_first(exc)}") from exc
        except psycopg.Error as exc:
            raise StoreError(f"store {self.where}: {_first(exc)}") from exc

    def _usable_pool(self) -> ConnectionPool[Conn]:
        pool = self._pool
        if pool is None:
            raise StoreError(f"the store {self.where} is not open")
        if not self._stale:
            return pool
        with self._recovering:
            if self._stale and self._pool is not None:
                try:
                    self._connect().close()
                except psycopg.OperationalError as exc:
                    message = f"cannot reach the store {self.where}: {_first(exc)}"
                    raise StoreUnavailable(message) from exc
                old, self._pool = self._pool, self._new_pool()
                self._stale = False
                old.close()
            pool = self._pool
        if pool is None:
            raise StoreError(f"the store {self.where} is not open")
        return pool

    async def integrity_ok(self) -> bool:
        """True when the schema is at this harness's version and every target that a
        result names is known (the foreign keys hold)."""

        def check(s: Session) -> bool:
            version, orphans = s.execute(
                """SELECT (SELECT MAX(version) FROM schema_migrations),
                          (SELECT COUNT(*) FROM results r
                            WHERE NOT EXISTS (SELECT 1 FROM target_ids t
                                  WHERE t.id = r.target))"""
            ).fetchone()
            return bool(version == len(MIGRATIONS) and orphans == 0)

        return await self.read(check)


class PostgresStore(SQLStore):
    """The :class:`harness.store.base.Store` on a PostgreSQL database (see :class:`Postgres`)."""

    def __init__(
        self,
        url: str,
        *,
        max_connections: int = 8,
        statement_timeout: float = STATEMENT_TIMEOUT_S,
    ) -> None:
        self.url = url
        super().__init__(
            Postgres(url, max_connections=max_connections, statement_timeout=statement_timeout)
        )


def _first(exc: BaseException) -> str:
    """The first line of an error's message (psycopg's carry the server's detail after)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
