"""The PostgreSQL store: one database shared by every vantage, through a connection pool.

psycopg 3 with psycopg-pool; every call takes a pooled connection for one transaction
(committed when the call returns, rolled back when it raises). Pooled connections are
checked before use, so after the server restarts the next call reconnects by itself.

The schema mirrors the SQLite store's: the migration list (:data:`MIGRATIONS`) runs
parallel to :data:`harness.store.sqlite.MIGRATIONS`, version for version, each applied
once in its own transaction with its row in ``schema_migrations``, under an advisory
lock so two processes opening one database never migrate it twice. The columns of
``results`` and ``status`` are named after the fields of :class:`ProbeResult` and
:class:`TargetStatus`, and the row mapping is derived from those fields' types, so a
new field needs only its column added by a new migration.

Every write of a run (results, their hourly rollups, statuses, flips, per-vantage
statuses, alert deliveries) takes one transaction-level advisory lock,
:data:`WRITE_LOCK`, first: the rollups are read, merged in Python and written back, and
consensus decisions read the statuses they replace, so writers take turns; one lock
taken first also means two writers never deadlock on each other's rows.

PostgreSQL text cannot hold NUL characters; a string that contains one (or that starts
with :data:`_ENCODED`) is stored as that marker followed by its JSON encoding, which
keeps every string round-tripping exactly and leaves ordinary text untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import types
import typing
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from harness.errors import StoreError, StoreUnavailable
from harness.policy.aggregate import LatencySummary, Uptime
from harness.policy.consensus import RunDecision, VantageKey, VantageStatus
from harness.policy.deliveries import (
    AlertDelivery,
    AlertDraft,
    AlertKind,
    AlertTarget,
    DeliveryState,
    NotifyType,
    TargetAlert,
)
from harness.policy.rollup import HourRollup, Sketch, fold, hour_of
from harness.policy.status import Flip, State, TargetStatus
from harness.probing.looplag import DEFAULT_BUDGET_MS
from harness.result import FailureKind, ProbeResult
from harness.store.base import Decide

_T = TypeVar("_T")
Conn = psycopg.AsyncConnection[dict[str, Any]]

_ENCODED = "\ufdd0"
MIGRATION_LOCK = 0x68617272_6D696772  # "harrmigr": one key for schema changes
WRITE_LOCK = 0x68617272_77726974  # "harrwrit": serialises every run's writes
CONNECT_TIMEOUT_S = 5
POOL_TIMEOUT_S = 5.0


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


def _dump(value: Any) -> Any:
    """A Python value as a query parameter."""
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, str):
        return _encode_text(value)
    if isinstance(value, datetime):
        return _utc(value)
    if isinstance(value, tuple):
        return [_dump(v) for v in value]
    return value


def _loader(hint: Any) -> Callable[[Any], Any]:
    """How a column comes back as the field typed ``hint`` (a resolved type hint)."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(args) == 1:
        inner = _loader(args[0])
        return lambda v: None if v is None else inner(v)
    if typing.get_origin(hint) is tuple:
        item = _loader(args[0])
        return lambda v: tuple(item(x) for x in v)
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        return hint
    if hint is str:
        return _decode_text
    if hint is datetime:
        return _utc
    if hint is bool:
        return bool
    if hint is float:
        return lambda v: None if v is None else float(v)
    return lambda v: v


def _loaders(cls: type) -> dict[str, Callable[[Any], Any]]:
    hints = typing.get_type_hints(cls)
    return {f.name: _loader(hints[f.name]) for f in fields(cls)}


RESULT_COLUMNS = tuple(f.name for f in fields(ProbeResult))
STATUS_COLUMNS = tuple(f.name for f in fields(TargetStatus))
VANTAGE_COLUMNS = ("vantage", *STATUS_COLUMNS, "reported_at", "offline")
_RESULT_LOAD = _loaders(ProbeResult)
_STATUS_LOAD = _loaders(TargetStatus)


def _columns(names: Sequence[str]) -> sql.Composable:
    return sql.SQL(", ").join(map(sql.Identifier, names))


def _insert(table: str, names: Sequence[str]) -> sql.Composed:
    return sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        sql.Identifier(table), _columns(names), sql.SQL(", ").join(sql.Placeholder() * len(names))
    )


def _upsert(table: str, names: Sequence[str], key: Sequence[str]) -> sql.Composed:
    updates = sql.SQL(", ").join(
        sql.SQL("{0} = excluded.{0}").format(sql.Identifier(n)) for n in names if n not in key
    )
    return sql.SQL("{} ON CONFLICT ({}) DO UPDATE SET {}").format(
        _insert(table, names), _columns(key), updates
    )


_INSERT_RESULT = _insert("results", RESULT_COLUMNS)
_COPY_RESULTS = sql.SQL("COPY results ({}) FROM STDIN").format(_columns(RESULT_COLUMNS))
_SELECT_RESULT = sql.SQL("SELECT {} FROM results").format(_columns(RESULT_COLUMNS))
_RECENT_BY_TARGET = sql.SQL(
    """SELECT w.n, r.* FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY
           AS w(provider, model, n)
       CROSS JOIN LATERAL (
           SELECT {}, id FROM results WHERE provider = w.provider AND model = w.model
           ORDER BY started_at DESC, id DESC LIMIT %s
       ) r
       ORDER BY w.n, r.started_at DESC, r.id DESC"""
).format(_columns(RESULT_COLUMNS))
_UPSERT_STATUS = _upsert("status", STATUS_COLUMNS, ("provider", "model"))
_UPSERT_VANTAGE = _upsert("vantage_status", VANTAGE_COLUMNS, ("provider", "model", "vantage"))
_INSERT_TARGET = "INSERT INTO targets (provider, model) VALUES (%s, %s) ON CONFLICT DO NOTHING"
_INSERT_FLIP = (
    "INSERT INTO flips (provider, model, at, old, new, reason) VALUES (%s, %s, %s, %s, %s, %s)"
)


def result_row(result: ProbeResult) -> tuple[Any, ...]:
    """The ``results`` row of ``result``, as parameters in :data:`RESULT_COLUMNS` order."""
    return tuple(_dump(getattr(result, name)) for name in RESULT_COLUMNS)


def _result_from_row(row: dict[str, Any]) -> ProbeResult:
    return ProbeResult(**{name: _RESULT_LOAD[name](row[name]) for name in RESULT_COLUMNS})


def _status_row(status: TargetStatus) -> tuple[Any, ...]:
    return tuple(_dump(getattr(status, name)) for name in STATUS_COLUMNS)


def _status_from_row(row: dict[str, Any]) -> TargetStatus:
    return TargetStatus(**{name: _STATUS_LOAD[name](row[name]) for name in STATUS_COLUMNS})


def _vantage_row(view: VantageStatus) -> tuple[Any, ...]:
    return (_dump(view.vantage), *_status_row(view.status), view.reported_at, view.offline)


def _vantage_from_row(row: dict[str, Any]) -> VantageStatus:
    return VantageStatus(
        vantage=_decode_text(row["vantage"]),
        status=_status_from_row(row),
        reported_at=_utc(row["reported_at"]),
        offline=row["offline"],
    )


def _flip_row(f: Flip) -> tuple[Any, ...]:
    return tuple(map(_dump, (f.provider, f.model, f.at, f.old, f.new, f.reason)))


def _flip_from_row(row: dict[str, Any]) -> Flip:
    return Flip(
        provider=_decode_text(row["provider"]),
        model=_decode_text(row["model"]),
        at=_utc(row["at"]),
        old=State(row["old"]),
        new=State(row["new"]),
        reason=_decode_text(row["reason"]),
    )


ROLLUP_COLUMNS = (
    "provider",
    "model",
    "hour",
    "ok",
    "failed",
    "throttled",
    "inconclusive",
    "suspect",
    "ttfc_offset",
    "ttfc_counts",
    "total_offset",
    "total_counts",
)
UPSERT_ROLLUP = _upsert("rollups", ROLLUP_COLUMNS, ("provider", "model", "hour"))
_SELECT_ROLLUP = sql.SQL("SELECT {} FROM rollups").format(_columns(ROLLUP_COLUMNS))


def rollup_row(r: HourRollup) -> tuple[Any, ...]:
    """The ``rollups`` row of ``r``, as parameters in :data:`ROLLUP_COLUMNS` order."""
    return (
        _dump(r.provider),
        _dump(r.model),
        _utc(r.hour),
        r.ok,
        r.failed,
        r.throttled,
        r.inconclusive,
        r.suspect,
        r.ttfc.offset,
        r.ttfc.to_blob(),
        r.total.offset,
        r.total.to_blob(),
    )


def _rollup_from_row(row: dict[str, Any]) -> HourRollup:
    return HourRollup(
        provider=_decode_text(row["provider"]),
        model=_decode_text(row["model"]),
        hour=_utc(row["hour"]),
        ok=row["ok"],
        failed=row["failed"],
        throttled=row["throttled"],
        inconclusive=row["inconclusive"],
        suspect=row["suspect"],
        ttfc=Sketch.from_blob(row["ttfc_offset"], bytes(row["ttfc_counts"])),
        total=Sketch.from_blob(row["total_offset"], bytes(row["total_counts"])),
    )


async def _merge_rollups(conn: Conn, deltas: Iterable[HourRollup]) -> None:
    """Add ``deltas`` to the stored rollups of their targets and hours (the caller holds
    :data:`WRITE_LOCK`, so no other writer reads and rewrites the same rows meanwhile)."""
    merged = {d.key: d for d in deltas}
    if not merged:
        return
    keys = [rollup_row(d)[:3] for d in merged.values()]
    cursor = await conn.execute(
        _SELECT_ROLLUP
        + sql.SQL(
            " WHERE (provider, model, hour) IN"
            " (SELECT * FROM unnest(%s::text[], %s::text[], %s::timestamptz[]))"
        ),
        [list(column) for column in zip(*keys, strict=True)],
    )
    for stored in map(_rollup_from_row, await cursor.fetchall()):
        delta = merged[stored.key]
        stored.merge(delta)
        merged[stored.key] = stored
    async with conn.cursor() as writer:
        await writer.executemany(UPSERT_ROLLUP, [rollup_row(r) for r in merged.values()])


_INSERT_ALERT = """INSERT INTO alerts (created_at, kind, destination, label, title, body,
                                       notify_type, flip_ids, state, attempts)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 0) RETURNING id"""
_INSERT_ALERT_TARGET = (
    "INSERT INTO alert_targets (alert_id, provider, model, state)"
    " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING"
)


async def insert_alert(conn: Conn, draft: AlertDraft, flip_ids: Sequence[int]) -> int:
    """Store one pending delivery of ``draft`` pointing at ``flip_ids``; its id."""
    cursor = await conn.execute(
        _INSERT_ALERT,
        (
            _utc(draft.created_at),
            draft.kind.value,
            _dump(draft.destination),
            _dump(draft.label),
            _dump(draft.title),
            _dump(draft.body),
            draft.notify_type.value,
            list(flip_ids),
            DeliveryState.PENDING.value,
        ),
    )
    row = await cursor.fetchone()
    assert row is not None  # INSERT ... RETURNING gives its row
    alert_id = int(row["id"])
    if draft.targets:
        async with conn.cursor() as writer:
            await writer.executemany(
                _INSERT_ALERT_TARGET,
                [
                    (alert_id, _dump(t.provider), _dump(t.model), t.state.value)
                    for t in draft.targets
                ],
            )
    return alert_id


async def _deliveries(conn: Conn, ids: Sequence[int]) -> list[AlertDelivery]:
    """The deliveries with ``ids``, in id order, with their targets."""
    if not ids:
        return []
    targets: dict[int, list[AlertTarget]] = {}
    cursor = await conn.execute(
        "SELECT * FROM alert_targets WHERE alert_id = ANY(%s) ORDER BY provider, model",
        (list(ids),),
    )
    for row in await cursor.fetchall():
        targets.setdefault(row["alert_id"], []).append(
            AlertTarget(
                _decode_text(row["provider"]), _decode_text(row["model"]), State(row["state"])
            )
        )
    cursor = await conn.execute("SELECT * FROM alerts WHERE id = ANY(%s) ORDER BY id", (list(ids),))
    return [
        AlertDelivery(
            id=row["id"],
            kind=AlertKind(row["kind"]),
            destination=_decode_text(row["destination"]),
            label=_decode_text(row["label"]),
            title=_decode_text(row["title"]),
            body=_decode_text(row["body"]),
            notify_type=NotifyType(row["notify_type"]),
            created_at=_utc(row["created_at"]),
            targets=tuple(targets.get(row["id"], ())),
            flip_ids=tuple(row["flip_ids"]),
            state=DeliveryState(row["state"]),
            attempts=row["attempts"],
            next_attempt_at=None
            if row["next_attempt_at"] is None
            else _utc(row["next_attempt_at"]),
            last_error=None if row["last_error"] is None else _decode_text(row["last_error"]),
            sent_at=None if row["sent_at"] is None else _utc(row["sent_at"]),
        )
        for row in await cursor.fetchall()
    ]


# --- schema ----------------------------------------------------------------------------

# Text keys compare byte-wise ("C"), as Python sorts them, whatever the database's locale.
_KEY = 'TEXT COLLATE "C" NOT NULL'


async def _create_tables(conn: Conn) -> None:
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
        await conn.execute(statement)


async def _add_policy_columns(conn: Conn) -> None:
    """The streaks, missed objectives and reason of the status policy."""
    for statement in (
        "ALTER TABLE status ADD COLUMN limit_streak BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE status ADD COLUMN slow_streak BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE status ADD COLUMN fast_streak BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE status ADD COLUMN missed TEXT[] NOT NULL DEFAULT '{}'",
        "ALTER TABLE status ADD COLUMN reason TEXT NOT NULL DEFAULT ''",
    ):
        await conn.execute(statement)


async def _create_alert_tables(conn: Conn) -> None:
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
        await conn.execute(statement)


async def _add_token_counts(conn: Conn) -> None:
    """The tokens an upstream reported (OpenAI-compatible ``usage``); NULL where none."""
    await conn.execute("ALTER TABLE results ADD COLUMN prompt_tokens BIGINT")
    await conn.execute("ALTER TABLE results ADD COLUMN completion_tokens BIGINT")


async def _add_loop_lag(conn: Conn) -> None:
    """results.loop_lag_ms: how late the event loop ran around the first chunk."""
    await conn.execute("ALTER TABLE results ADD COLUMN loop_lag_ms DOUBLE PRECISION")


_ROLLUP_BACKFILL_BATCH = 50_000


async def _add_rollups(conn: Conn) -> None:
    """Hourly rollups per target (see harness.policy.rollup), backfilled from the results."""
    await conn.execute(
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
    await conn.execute("CREATE INDEX rollups_hour ON rollups (hour)")
    # Only the columns every schema version has: older results carry no loop lag, so
    # none of them is timing-suspect.
    rollups: dict[tuple[str, str, datetime], HourRollup] = {}
    async with conn.cursor(name="rollup_backfill") as cursor:
        await cursor.execute(
            "SELECT provider, model, started_at, ok, kind, ttfc_ms, total_ms FROM results"
        )
        while rows := await cursor.fetchmany(_ROLLUP_BACKFILL_BATCH):
            batch = [
                ProbeResult(
                    provider=_decode_text(row["provider"]),
                    model=_decode_text(row["model"]),
                    prompt="",
                    started_at=_utc(row["started_at"]),
                    ok=row["ok"],
                    kind=FailureKind(row["kind"]) if row["kind"] is not None else None,
                    ttfc_ms=row["ttfc_ms"],
                    total_ms=row["total_ms"],
                )
                for row in rows
            ]
            for key, rollup in fold(batch, math.inf).items():
                if key in rollups:
                    rollups[key].merge(rollup)
                else:
                    rollups[key] = rollup
    async with conn.cursor() as writer:
        await writer.executemany(UPSERT_ROLLUP, [rollup_row(r) for r in rollups.values()])


async def _vantage_status(conn: Conn) -> None:
    """Each vantage's own status of each target (the status table holds the consensus)."""
    await conn.execute(
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


async def _copy_progress(conn: Conn) -> None:
    """How far ``harness store migrate`` has copied each table of each source into this store."""
    await conn.execute(
        """CREATE TABLE copy_progress (
            source TEXT NOT NULL,
            "table" TEXT NOT NULL,
            last_id BIGINT NOT NULL,
            copied BIGINT NOT NULL,
            PRIMARY KEY (source, "table")
        )"""
    )


MIGRATIONS: tuple[Callable[[Conn], Awaitable[None]], ...] = (
    _create_tables,
    _add_policy_columns,
    _create_alert_tables,
    _add_token_counts,
    _add_loop_lag,
    _add_rollups,
    _vantage_status,
    _copy_progress,
)
"""Schema migrations in order, parallel to SQLite's; version N is ``MIGRATIONS[N - 1]``.
Only ever append."""


async def _migrate(conn: Conn, where: str) -> None:
    """Bring the schema up to date, or refuse a newer one; ``conn`` autocommits."""
    await conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    try:
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at TIMESTAMPTZ NOT NULL
            )"""
        )
        cursor = await conn.execute("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations")
        row = await cursor.fetchone()
        newest = int(row["v"]) if row is not None else 0
        if newest > len(MIGRATIONS):
            raise StoreError(
                f"{where} has schema version {newest}, newer than this harness knows "
                f"({len(MIGRATIONS)}); upgrade the harness"
            )
        for version, migration in enumerate(MIGRATIONS, start=1):
            if version <= newest:
                continue
            async with conn.transaction():
                await migration(conn)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at)"
                    " VALUES (%s, %s, now())",
                    (version, migration.__name__.lstrip("_")),
                )
    finally:
        await conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))


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


class PostgresStore:
    """The :class:`harness.store.base.Store` on a PostgreSQL database."""

    def __init__(self, url: str, *, max_connections: int = 8) -> None:
        self.url = url
        self.where = redacted(url)
        self.max_connections = max_connections
        self._pool: AsyncConnectionPool[Conn] | None = None
        # Set when the server was found unreachable: the next call checks it is back with
        # one direct connection (failing fast while it is not) and then starts a new pool,
        # rather than waiting out the old pool's reconnection back-off.
        self._stale = False
        self._recovering = asyncio.Lock()

    def __repr__(self) -> str:
        return f"PostgresStore({self.where!r})"

    async def open(self) -> None:
        """Connect, then create or upgrade the schema (a newer schema is refused)."""
        if self._pool is not None:
            return
        try:
            async with await self._connect() as conn:
                await _migrate(conn, self.where)
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(f"cannot reach the store {self.where}: {_first(exc)}") from exc
        except psycopg.Error as exc:
            raise StoreError(f"cannot open the store {self.where}: {_first(exc)}") from exc
        self._pool = await self._new_pool()

    async def _connect(self) -> Conn:
        return await psycopg.AsyncConnection.connect(
            self.url, autocommit=True, row_factory=dict_row, connect_timeout=CONNECT_TIMEOUT_S
        )

    async def _new_pool(self) -> AsyncConnectionPool[Conn]:
        pool: AsyncConnectionPool[Conn] = AsyncConnectionPool(
            self.url,
            min_size=1,
            max_size=self.max_connections,
            kwargs={"row_factory": dict_row, "connect_timeout": CONNECT_TIMEOUT_S},
            connection_class=psycopg.AsyncConnection[dict[str, Any]],
            check=AsyncConnectionPool.check_connection,
            timeout=POOL_TIMEOUT_S,
            open=False,
            name="harness-store",
        )
        await pool.open()
        return pool

    async def close(self) -> None:
        """Close every pooled connection; safe to call twice."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def _usable_pool(self) -> AsyncConnectionPool[Conn]:
        if self._pool is None:
            raise StoreError(f"the store {self.where} is not open")
        if self._stale:
            async with self._recovering:
                if self._stale:
                    try:
                        await (await self._connect()).close()
                    except psycopg.OperationalError as exc:
                        message = f"cannot reach the store {self.where}: {_first(exc)}"
                        raise StoreUnavailable(message) from exc
                    old, self._pool = self._pool, await self._new_pool()
                    self._stale = False
                    await old.close()
        return self._pool

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Conn]:
        pool = await self._usable_pool()
        try:
            async with pool.connection() as conn:
                yield conn
        except PoolTimeout as exc:
            self._stale = True
            raise StoreUnavailable(f"cannot reach the store {self.where}: {exc}") from exc
        except psycopg.OperationalError as exc:
            self._stale = True
            raise StoreUnavailable(f"the store {self.where} is unreachable: {_first(exc)}") from exc
        except psycopg.Error as exc:
            raise StoreError(f"store {self.where}: {_first(exc)}") from exc

    async def _fetch(self, query: Any, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        async with self._transaction() as conn:
            cursor = await conn.execute(query, params)
            return await cursor.fetchall()

    async def add_results(
        self, results: Sequence[ProbeResult], *, lag_budget_ms: float = DEFAULT_BUDGET_MS
    ) -> None:
        """Store a batch of results (and their rollups) in one transaction."""
        await self.record_run(results, (), (), lag_budget_ms=lag_budget_ms)

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
        where: list[sql.Composable] = []
        params: list[Any] = []
        for clause, value in (
            ("provider = %s", provider),
            ("model = %s", model),
            ("started_at >= %s", since),
            ("started_at < %s", until),
        ):
            if value is not None:
                where.append(sql.SQL(clause))
                params.append(_dump(value))
        query: sql.Composable = _SELECT_RESULT
        if where:
            query += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(where)
        query += sql.SQL(" ORDER BY started_at DESC, id DESC")
        if limit is not None:
            query += sql.SQL(" LIMIT %s")
            params.append(limit)
        return [_result_from_row(row) for row in await self._fetch(query, params)]

    async def recent(self, provider: str, model: str, limit: int) -> list[ProbeResult]:
        """The newest ``limit`` results of one target, newest first."""
        return await self.results(provider=provider, model=model, limit=limit)

    async def recent_by_target(
        self, targets: Sequence[tuple[str, str]], limit: int
    ) -> dict[tuple[str, str], list[ProbeResult]]:
        """The newest ``limit`` results of each target, newest first, in one query."""
        wanted = list(dict.fromkeys(targets))
        found: dict[tuple[str, str], list[ProbeResult]] = {t: [] for t in wanted}
        if not wanted:
            return found
        rows = await self._fetch(
            _RECENT_BY_TARGET,
            ([_dump(p) for p, _ in wanted], [_dump(m) for _, m in wanted], limit),
        )
        for row in rows:  # in target order, each target's newest first
            found[wanted[row["n"] - 1]].append(_result_from_row(row))
        return found

    async def targets(self) -> list[tuple[str, str]]:
        """Every (provider, model) the store has seen, sorted."""
        rows = await self._fetch("SELECT provider, model FROM targets ORDER BY provider, model")
        pairs = [(_decode_text(r["provider"]), _decode_text(r["model"])) for r in rows]
        return sorted(pairs)

    async def uptime(self, provider: str, model: str, since: datetime) -> Uptime:
        """Uptime of one target since ``since``, counted in SQL over the covering index."""
        (row,) = await self._fetch(
            """SELECT COUNT(*) AS total, COUNT(*) FILTER (WHERE ok) AS ok FROM results
               WHERE provider = %s AND model = %s AND started_at >= %s
                 AND kind IS DISTINCT FROM %s""",
            (*map(_dump, (provider, model, since)), FailureKind.HARNESS_OFFLINE.value),
        )
        return Uptime(ok=int(row["ok"]), total=int(row["total"]))

    async def latency(
        self, provider: str, model: str, since: datetime, max_rows: int = 1000
    ) -> LatencySummary:
        """Latency over the newest ``max_rows`` passing results since ``since``."""
        rows = await self._fetch(
            """SELECT ttfc_ms, total_ms FROM results
               WHERE provider = %s AND model = %s AND started_at >= %s AND ok
               ORDER BY started_at DESC LIMIT %s""",
            (*map(_dump, (provider, model, since)), max_rows),
        )
        return LatencySummary.from_samples((r["ttfc_ms"], r["total_ms"]) for r in rows)

    async def statuses(self) -> dict[tuple[str, str], TargetStatus]:
        """The current status of every target that has one."""
        rows = await self._fetch("SELECT * FROM status")
        return {s.target: s for s in map(_status_from_row, rows)}

    async def save_statuses(self, statuses: Sequence[TargetStatus], flips: Sequence[Flip]) -> None:
        """Replace the given targets' statuses and append the flips, in one transaction."""
        await self.record_run((), statuses, flips)

    async def record_run(
        self,
        results: Sequence[ProbeResult],
        statuses: Sequence[TargetStatus],
        flips: Sequence[Flip],
        alerts: Sequence[AlertDraft] = (),
        *,
        lag_budget_ms: float = DEFAULT_BUDGET_MS,
    ) -> None:
        """Store a run's results with the statuses and flips they caused, in one
        transaction; ``alerts`` (pending deliveries about those flips) are stored in it
        too, and the results' hourly rollups updated (passes whose loop lag exceeded
        ``lag_budget_ms`` count there as timing-suspect)."""
        if not (results or statuses or flips or alerts):
            return
        deltas = list(fold(results, lag_budget_ms).values())
        async with self._transaction() as conn:
            await _write(conn, results, deltas, statuses, flips, (), alerts)

    async def vantage_statuses(self) -> dict[VantageKey, VantageStatus]:
        """Every vantage's status of every target, by (provider, model, vantage)."""
        rows = await self._fetch("SELECT * FROM vantage_status")
        return {v.key: v for v in map(_vantage_from_row, rows)}

    async def record_vantage_run(
        self,
        results: Sequence[ProbeResult],
        decide: Decide,
        *,
        lag_budget_ms: float = DEFAULT_BUDGET_MS,
    ) -> RunDecision:
        """Store ``results`` with what ``decide`` makes of them (statuses, flips, alerts),
        and the results' hourly rollups, in one transaction holding a transaction-level
        advisory lock that every writer takes, so consensus decisions never interleave
        and a change is flipped exactly once."""
        deltas = list(fold(results, lag_budget_ms).values())
        async with self._transaction() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            shown_rows = await (await conn.execute("SELECT * FROM status")).fetchall()
            view_rows = await (await conn.execute("SELECT * FROM vantage_status")).fetchall()
            shown = {s.target: s for s in map(_status_from_row, shown_rows)}
            views = {v.key: v for v in map(_vantage_from_row, view_rows)}
            decision = decide(shown, views)
            await _write(
                conn,
                results,
                deltas,
                decision.statuses,
                decision.flips,
                decision.vantages,
                decision.alerts,
            )
            return decision

    async def flips(self, *, provider: str | None = None, limit: int = 100) -> list[Flip]:
        """Recorded flips, newest first, optionally of one provider."""
        if provider is None:
            rows = await self._fetch(
                "SELECT * FROM flips ORDER BY at DESC, id DESC LIMIT %s", (limit,)
            )
        else:
            rows = await self._fetch(
                "SELECT * FROM flips WHERE provider = %s ORDER BY at DESC, id DESC LIMIT %s",
                (_dump(provider), limit),
            )
        return [_flip_from_row(row) for row in rows]

    async def prune(self, older_than: datetime) -> int:
        """Delete results, flips and alert deliveries older than ``older_than``; the rows
        deleted, together."""
        cutoff = _utc(older_than)
        async with self._transaction() as conn:
            results = await conn.execute("DELETE FROM results WHERE started_at < %s", (cutoff,))
            flips = await conn.execute("DELETE FROM flips WHERE at < %s", (cutoff,))
            alerts = await conn.execute("DELETE FROM alerts WHERE created_at < %s", (cutoff,))
            # Hours wholly before the cutoff; the hour holding it keeps its counts.
            await conn.execute("DELETE FROM rollups WHERE hour < %s", (hour_of(cutoff),))
            return results.rowcount + flips.rowcount + alerts.rowcount

    async def rollup_uptime(self, since: datetime) -> dict[tuple[str, str], Uptime]:
        """Every target's uptime from the hour holding ``since`` on, summed from the
        rollups in SQL; inconclusive results left out."""
        rows = await self._fetch(
            """SELECT provider, model, SUM(ok) AS ok, SUM(ok + failed + throttled) AS total
               FROM rollups WHERE hour >= %s GROUP BY provider, model""",
            (hour_of(since),),
        )
        return {
            (_decode_text(r["provider"]), _decode_text(r["model"])): Uptime(
                ok=int(r["ok"]), total=int(r["total"])
            )
            for r in rows
        }

    async def rollups(self, since: datetime) -> list[HourRollup]:
        """Every target's hourly rollups from the hour holding ``since`` on, ordered by
        provider, model and hour."""
        rows = await self._fetch(_SELECT_ROLLUP + sql.SQL(" WHERE hour >= %s"), (hour_of(since),))
        # Sorted here: an encoded (NUL-holding) name sorts apart from its text in SQL.
        return sorted(map(_rollup_from_row, rows), key=lambda r: r.key)

    async def offline_since(self) -> datetime | None:
        """When the harness's host went offline (see the Store protocol)."""
        offline = FailureKind.HARNESS_OFFLINE.value
        async with self._transaction() as conn:
            cursor = await conn.execute(
                "SELECT kind FROM results ORDER BY started_at DESC, id DESC LIMIT 1"
            )
            newest = await cursor.fetchone()
            if newest is None or newest["kind"] != offline:
                return None
            # Both walk the time index from the newest row and stop early.
            cursor = await conn.execute(
                """SELECT started_at FROM results WHERE kind IS DISTINCT FROM %s
                   ORDER BY started_at DESC LIMIT 1""",
                (offline,),
            )
            conclusive = await cursor.fetchone()
            cursor = await conn.execute(
                "SELECT MIN(started_at) AS start FROM results WHERE started_at > %s",
                (conclusive["started_at"] if conclusive is not None else "-infinity",),
            )
            row = await cursor.fetchone()
        return None if row is None or row["start"] is None else _utc(row["start"])

    async def claim_alerts(
        self, destinations: Sequence[str], *, now: datetime, lease: timedelta, limit: int = 100
    ) -> list[AlertDelivery]:
        """Claim the pending deliveries due by ``now`` (see the Store protocol); rows that
        a concurrent claim holds are skipped, not waited for."""
        keys = [_dump(d) for d in dict.fromkeys(destinations)]
        if not keys:
            return []
        async with self._transaction() as conn:
            cursor = await conn.execute(
                """SELECT id FROM alerts
                   WHERE state = %s AND (next_attempt_at IS NULL OR next_attempt_at <= %s)
                     AND destination = ANY(%s)
                   ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED""",
                (DeliveryState.PENDING.value, _utc(now), keys, limit),
            )
            ids = [int(row["id"]) for row in await cursor.fetchall()]
            await conn.execute(
                "UPDATE alerts SET attempts = attempts + 1, next_attempt_at = %s"
                " WHERE id = ANY(%s)",
                (_utc(now + lease), ids),
            )
            return await _deliveries(conn, ids)

    async def finish_alert(
        self, alert_id: int, *, at: datetime, error: str | None, retry_at: datetime | None
    ) -> None:
        """Record a delivery attempt's outcome (see the Store protocol)."""
        if error is None:
            query = (
                "UPDATE alerts SET state = %s, sent_at = %s, next_attempt_at = NULL WHERE id = %s"
            )
            params: tuple[Any, ...] = (DeliveryState.SENT.value, _utc(at), alert_id)
        elif retry_at is not None:
            query = (
                "UPDATE alerts SET state = %s, last_error = %s, next_attempt_at = %s WHERE id = %s"
            )
            params = (DeliveryState.PENDING.value, _dump(error), _utc(retry_at), alert_id)
        else:
            query = (
                "UPDATE alerts SET state = %s, last_error = %s, next_attempt_at = NULL"
                " WHERE id = %s"
            )
            params = (DeliveryState.FAILED.value, _dump(error), alert_id)
        async with self._transaction() as conn:
            await conn.execute(query, params)

    async def alert_deliveries(self, *, limit: int = 50) -> list[AlertDelivery]:
        """Stored deliveries, newest first."""
        async with self._transaction() as conn:
            cursor = await conn.execute("SELECT id FROM alerts ORDER BY id DESC LIMIT %s", (limit,))
            ids = [int(row["id"]) for row in await cursor.fetchall()]
            return sorted(await _deliveries(conn, ids), key=lambda d: d.id, reverse=True)

    async def last_alerts(self, *, sent_only: bool = False) -> dict[tuple[str, str], TargetAlert]:
        """The newest delivery about each target (only sent ones with ``sent_only``)."""
        where = "WHERE a.state = 'sent'" if sent_only else ""
        rows = await self._fetch(
            f"""SELECT DISTINCT ON (t.provider, t.model)
                       t.provider, t.model, t.state, a.kind, a.title, a.created_at, a.sent_at
                FROM alert_targets t JOIN alerts a ON a.id = t.alert_id {where}
                ORDER BY t.provider, t.model,
                         a.created_at DESC, a.sent_at DESC NULLS LAST, a.id DESC"""
        )
        alerts = (
            TargetAlert(
                provider=_decode_text(row["provider"]),
                model=_decode_text(row["model"]),
                state=State(row["state"]),
                kind=AlertKind(row["kind"]),
                title=_decode_text(row["title"]),
                created_at=_utc(row["created_at"]),
                sent_at=None if row["sent_at"] is None else _utc(row["sent_at"]),
            )
            for row in rows
        )
        return {(a.provider, a.model): a for a in alerts}

    async def integrity_ok(self) -> bool:
        """True when the schema is at this harness's version and every target that a
        result, status or flip names is known (the foreign keys hold)."""
        (row,) = await self._fetch(
            """SELECT (SELECT MAX(version) FROM schema_migrations) AS version,
                      (SELECT COUNT(*) FROM results r
                        WHERE NOT EXISTS (SELECT 1 FROM targets t
                              WHERE t.provider = r.provider AND t.model = r.model)) AS orphans"""
        )
        return bool(row["version"] == len(MIGRATIONS) and row["orphans"] == 0)

    def connection(self) -> contextlib.AbstractAsyncContextManager[Conn]:
        """Not part of the Store interface: one pooled connection in one transaction,
        for bulk copies (``harness store migrate``); errors translated as everywhere."""
        return self._transaction()


async def _write(
    conn: Conn,
    results: Sequence[ProbeResult],
    deltas: Sequence[HourRollup],
    statuses: Sequence[TargetStatus],
    flips: Sequence[Flip],
    views: Sequence[VantageStatus],
    drafts: Sequence[AlertDraft],
) -> None:
    """The writes of one run, inside the caller's transaction: results and their hourly
    rollups, statuses, flips, per-vantage statuses, and the alerts pointing at those
    flips by position. Every writer first takes :data:`WRITE_LOCK` (held to the commit),
    so the rollups' read-merge-write never races and no two writers deadlock."""
    await conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
    targets = sorted(
        {r.target for r in results}
        | {s.target for s in statuses}
        | {(f.provider, f.model) for f in flips}
        | {v.status.target for v in views}
    )
    flip_ids: list[int] = []
    async with conn.cursor() as cursor:
        await cursor.executemany(_INSERT_TARGET, [tuple(map(_dump, t)) for t in targets])
        if results:  # COPY: several times the rows per second of INSERTs
            async with cursor.copy(_COPY_RESULTS) as copy:
                for result in results:
                    await copy.write_row(result_row(result))
        await _merge_rollups(conn, deltas)
        if statuses:
            await cursor.executemany(_UPSERT_STATUS, [_status_row(s) for s in statuses])
        if flips:
            await cursor.executemany(
                _INSERT_FLIP + " RETURNING id", [_flip_row(f) for f in flips], returning=True
            )
            while True:
                row = await cursor.fetchone()
                assert row is not None  # each INSERT ... RETURNING gives its row
                flip_ids.append(int(row["id"]))
                if not cursor.nextset():
                    break
        if views:
            await cursor.executemany(_UPSERT_VANTAGE, [_vantage_row(v) for v in views])
    for draft in drafts:
        await insert_alert(conn, draft, [flip_ids[i] for i in draft.flips])


def _first(exc: BaseException) -> str:
    """The first line of an error's message (psycopg's carry the server's detail after)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


__all__ = [
    "MIGRATIONS",
    "ROLLUP_COLUMNS",
    "UPSERT_ROLLUP",
    "PostgresStore",
    "insert_alert",
    "redacted",
    "result_row",
    "rollup_row",
]
