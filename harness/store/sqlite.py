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
import contextlib
import glob
import json
import math
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from harness.errors import StoreDamagedError, StoreError
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
from harness.result import FailureKind, ProbeResult, Source, StreamEnd
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
    conn.executemany(_INSERT_ROLLUP, map(_rollup_row, rollups.values()))


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


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    _create_tables,
    _add_policy_columns,
    _create_alert_tables,
    _add_token_counts,
    _add_loop_lag,
    _add_rollups,
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


_ROLLUP_COLUMNS = (
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
_INSERT_ROLLUP = "INSERT OR REPLACE INTO rollups ({}) VALUES ({})".format(
    ", ".join(_ROLLUP_COLUMNS), ", ".join("?" for _ in _ROLLUP_COLUMNS)
)
_SELECT_ROLLUP = "SELECT {} FROM rollups".format(", ".join(_ROLLUP_COLUMNS))


def _rollup_row(r: HourRollup) -> tuple[Any, ...]:
    return (
        r.provider,
        r.model,
        _to_us(r.hour),
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


def _rollup_from_row(row: Sequence[Any]) -> HourRollup:
    provider, model, hour, ok, failed, throttled, inconclusive, suspect = row[:8]
    return HourRollup(
        provider=provider,
        model=model,
        hour=_from_us(hour),
        ok=ok,
        failed=failed,
        throttled=throttled,
        inconclusive=inconclusive,
        suspect=suspect,
        ttfc=Sketch.from_blob(row[8], row[9]),
        total=Sketch.from_blob(row[10], row[11]),
    )


def _merge_rollups(conn: sqlite3.Connection, deltas: Iterable[HourRollup]) -> None:
    """Add ``deltas`` to the stored rollups of their targets and hours."""
    for delta in deltas:
        row = conn.execute(
            f"{_SELECT_ROLLUP} WHERE provider = ? AND model = ? AND hour = ?",
            (delta.provider, delta.model, _to_us(delta.hour)),
        ).fetchone()
        if row is None:
            merged = delta
        else:
            merged = _rollup_from_row(row)
            merged.merge(delta)
        conn.execute(_INSERT_ROLLUP, _rollup_row(merged))


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
        s.limit_streak,
        s.slow_streak,
        s.fast_streak,
        json.dumps(list(s.missed)),
        s.reason,
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
        limit_streak=row["limit_streak"],
        slow_streak=row["slow_streak"],
        fast_streak=row["fast_streak"],
        missed=tuple(json.loads(row["missed"])),
        reason=row["reason"],
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
    deltas: Iterable[HourRollup],
    status_rows: Sequence[tuple[Any, ...]],
    flip_rows: Sequence[tuple[Any, ...]],
    vantage_rows: Sequence[tuple[Any, ...]],
    drafts: Sequence[AlertDraft],
) -> None:
    """The writes of one run, inside the caller's transaction: results and their hourly
    rollups, statuses, flips, and the alerts pointing at those flips by position."""
    conn.executemany("INSERT OR IGNORE INTO targets (provider, model) VALUES (?, ?)", targets)
    conn.executemany(_INSERT_RESULT, map(_result_row, results))
    _merge_rollups(conn, deltas)
    conn.executemany(_UPSERT_STATUS, status_rows)
    flip_ids = [
        conn.execute(
            "INSERT INTO flips (provider, model, at, old, new, reason) VALUES (?, ?, ?, ?, ?, ?)",
            row,
        ).lastrowid
        for row in flip_rows
    ]
    conn.executemany(_UPSERT_VANTAGE, vantage_rows)
    for draft in drafts:
        _insert_alert(conn, draft, [flip_ids[i] for i in draft.flips])


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
        self._marker: Path | None = None

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
        stale = _stale_markers(self.path)
        try:
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
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreDamagedError(
                f"{self.path} is not a usable SQLite database ({exc}); "
                "it was left untouched: move it aside or restore a backup"
            ) from exc
        except BaseException:
            conn.close()
            raise
        for marker in stale:
            marker.unlink(missing_ok=True)
        marker = open_marker(self.path, os.getpid())
        with contextlib.suppress(OSError):  # without one, a crash goes unchecked: no worse
            marker.touch()
            self._marker = marker
        conn.row_factory = sqlite3.Row
        return conn

    async def close(self) -> None:
        """Finish queued calls, close the connection and stop the thread."""
        executor, conn, marker = self._executor, self._conn, self._marker
        if executor is None:
            return
        self._executor = self._conn = self._marker = None
        try:
            if conn is not None:
                await asyncio.get_running_loop().run_in_executor(executor, _close, conn, marker)
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

    async def recent_by_target(
        self, targets: Sequence[tuple[str, str]], limit: int
    ) -> dict[tuple[str, str], list[ProbeResult]]:
        """The newest ``limit`` results of each target, newest first, in one call (a
        page reads every target's history bar: one trip to the store thread, not one
        per target)."""
        sql = (
            f"{_SELECT_RESULT} WHERE provider = ? AND model = ?"
            " ORDER BY started_at DESC, id DESC LIMIT ?"
        )

        def query(conn: sqlite3.Connection) -> dict[tuple[str, str], list[ProbeResult]]:
            return {
                (p, m): [_result_from_row(row) for row in conn.execute(sql, (p, m, limit))]
                for p, m in targets
            }

        return await self._call(query)

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
        alerts: Sequence[AlertDraft] = (),
        *,
        lag_budget_ms: float = DEFAULT_BUDGET_MS,
    ) -> None:
        """Store a run's results with the statuses and flips they caused, in one
        transaction: a crash keeps both or neither, so the flags never lag the results.
        ``alerts`` (pending deliveries about those flips) are stored in it too.

        The hourly rollups of the results are updated in the same transaction; passes
        whose loop lag exceeded ``lag_budget_ms`` count there as timing-suspect.
        """
        batch = list(results)
        deltas = fold(batch, lag_budget_ms).values()
        status_rows = [_status_row(s) for s in statuses]
        flip_rows = [_flip_row(f) for f in flips]
        targets = sorted(
            {r.target for r in batch} | {(row[0], row[1]) for row in (*status_rows, *flip_rows)}
        )
        drafts = list(alerts)
        if not targets and not drafts:
            return

        def save(conn: sqlite3.Connection) -> None:
            with _transaction(conn):
                _write(conn, targets, batch, deltas, status_rows, flip_rows, [], drafts)

        await self._call(save)

    async def vantage_statuses(self) -> dict[VantageKey, VantageStatus]:
        """Every vantage's status of every target, by (provider, model, vantage)."""

        def query(conn: sqlite3.Connection) -> dict[VantageKey, VantageStatus]:
            views = map(_vantage_from_row, conn.execute("SELECT * FROM vantage_status"))
            return {v.key: v for v in views}

        return await self._call(query)

    async def record_vantage_run(
        self,
        results: Sequence[ProbeResult],
        decide: Decide,
        *,
        lag_budget_ms: float = DEFAULT_BUDGET_MS,
    ) -> RunDecision:
        """Store ``results`` with what ``decide`` makes of them (statuses, flips, alerts),
        and the results' hourly rollups, in one transaction under SQLite's write lock
        (``BEGIN IMMEDIATE``), so no other writer interleaves."""
        batch = list(results)
        deltas = fold(batch, lag_budget_ms).values()

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
                _write(
                    conn,
                    targets,
                    batch,
                    deltas,
                    status_rows,
                    flip_rows,
                    vantage_rows,
                    decision.alerts,
                )
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
        """Delete results, flips and alert deliveries older than ``older_than``; the rows
        deleted, together."""
        cutoff = _to_us(older_than)
        whole_hours = _to_us(hour_of(older_than))

        def prune(conn: sqlite3.Connection) -> int:
            with _transaction(conn):
                results = conn.execute("DELETE FROM results WHERE started_at < ?", (cutoff,))
                flips = conn.execute("DELETE FROM flips WHERE at < ?", (cutoff,))
                alerts = conn.execute("DELETE FROM alerts WHERE created_at < ?", (cutoff,))
                # Hours wholly before the cutoff; the hour holding it keeps its counts.
                conn.execute("DELETE FROM rollups WHERE hour < ?", (whole_hours,))
                return results.rowcount + flips.rowcount + alerts.rowcount

        return await self._call(prune)

    async def rollup_uptime(self, since: datetime) -> dict[tuple[str, str], Uptime]:
        """Every target's uptime from the hour holding ``since`` on, summed from the
        rollups in SQL; inconclusive results left out."""
        start = _to_us(hour_of(since))

        def query(conn: sqlite3.Connection) -> dict[tuple[str, str], Uptime]:
            rows = conn.execute(
                """SELECT provider, model, SUM(ok), SUM(ok + failed + throttled) FROM rollups
                   WHERE hour >= ? GROUP BY provider, model""",
                (start,),
            )
            return {(p, m): Uptime(ok=ok, total=total) for p, m, ok, total in rows}

        return await self._call(query)

    async def rollups(self, since: datetime) -> list[HourRollup]:
        """Every target's hourly rollups from the hour holding ``since`` on, ordered by
        provider, model and hour."""
        start = _to_us(hour_of(since))

        def query(conn: sqlite3.Connection) -> list[HourRollup]:
            rows = conn.execute(
                f"{_SELECT_ROLLUP} WHERE hour >= ? ORDER BY provider, model, hour", (start,)
            )
            return [_rollup_from_row(row) for row in rows]

        return await self._call(query)

    async def integrity_ok(self) -> bool:
        """True when SQLite's full ``integrity_check`` finds nothing wrong."""

        def check(conn: sqlite3.Connection) -> bool:
            try:
                return [row[0] for row in conn.execute("PRAGMA integrity_check")] == ["ok"]
            except sqlite3.DatabaseError:
                return False

        return await self._call(check)

    async def offline_since(self) -> datetime | None:
        """When the harness's host went offline (see the Store protocol)."""
        offline = FailureKind.HARNESS_OFFLINE.value

        def query(conn: sqlite3.Connection) -> datetime | None:
            newest = conn.execute(
                "SELECT kind FROM results ORDER BY started_at DESC, id DESC LIMIT 1"
            ).fetchone()
            if newest is None or newest["kind"] != offline:
                return None
            # Both walk the time index from the newest row and stop early.
            conclusive = conn.execute(
                """SELECT started_at FROM results WHERE kind IS NOT ?
                   ORDER BY started_at DESC LIMIT 1""",
                (offline,),
            ).fetchone()
            (start,) = conn.execute(
                "SELECT MIN(started_at) FROM results WHERE started_at > ?",
                (conclusive[0] if conclusive is not None else -(2**63),),
            ).fetchone()
            return _opt_from_us(start)

        return await self._call(query)

    async def claim_alerts(
        self, destinations: Sequence[str], *, now: datetime, lease: timedelta, limit: int = 100
    ) -> list[AlertDelivery]:
        """Claim the pending deliveries due by ``now`` (see the Store protocol)."""
        keys = list(dict.fromkeys(destinations))
        if not keys:
            return []
        now_us, until_us = _to_us(now), _to_us(now + lease)
        marks = ", ".join("?" for _ in keys)

        def claim(conn: sqlite3.Connection) -> list[AlertDelivery]:
            with _transaction(conn):
                ids = [
                    row[0]
                    for row in conn.execute(
                        f"""SELECT id FROM alerts
                            WHERE state = ?
                              AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
                              AND destination IN ({marks})
                            ORDER BY id LIMIT ?""",
                        (DeliveryState.PENDING.value, now_us, *keys, limit),
                    )
                ]
                conn.executemany(
                    "UPDATE alerts SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ?",
                    [(until_us, i) for i in ids],
                )
                return _deliveries(conn, ids)

        return await self._call(claim)

    async def finish_alert(
        self, alert_id: int, *, at: datetime, error: str | None, retry_at: datetime | None
    ) -> None:
        """Record a delivery attempt's outcome (see the Store protocol)."""
        if error is None:
            sql = "UPDATE alerts SET state = ?, sent_at = ?, next_attempt_at = NULL WHERE id = ?"
            params: tuple[Any, ...] = (DeliveryState.SENT.value, _to_us(at), alert_id)
        elif retry_at is not None:
            sql = "UPDATE alerts SET state = ?, last_error = ?, next_attempt_at = ? WHERE id = ?"
            params = (DeliveryState.PENDING.value, error, _to_us(retry_at), alert_id)
        else:
            sql = "UPDATE alerts SET state = ?, last_error = ?, next_attempt_at = NULL WHERE id = ?"
            params = (DeliveryState.FAILED.value, error, alert_id)

        def finish(conn: sqlite3.Connection) -> None:
            with _transaction(conn):
                conn.execute(sql, params)

        await self._call(finish)

    async def alert_deliveries(self, *, limit: int = 50) -> list[AlertDelivery]:
        """Stored deliveries, newest first."""

        def query(conn: sqlite3.Connection) -> list[AlertDelivery]:
            ids = [
                row[0]
                for row in conn.execute("SELECT id FROM alerts ORDER BY id DESC LIMIT ?", (limit,))
            ]
            return sorted(_deliveries(conn, ids), key=lambda d: d.id, reverse=True)

        return await self._call(query)

    async def last_alerts(self, *, sent_only: bool = False) -> dict[tuple[str, str], TargetAlert]:
        """The newest delivery about each target (only sent ones with ``sent_only``)."""
        where = "WHERE a.state = 'sent'" if sent_only else ""
        sql = f"""SELECT provider, model, state, kind, title, created_at, sent_at FROM (
                      SELECT t.provider, t.model, t.state, a.kind, a.title, a.created_at,
                             a.sent_at,
                             ROW_NUMBER() OVER (
                                 PARTITION BY t.provider, t.model
                                 ORDER BY a.created_at DESC, a.sent_at DESC, a.id DESC
                             ) AS n
                      FROM alert_targets t JOIN alerts a ON a.id = t.alert_id {where}
                  ) WHERE n = 1"""

        def query(conn: sqlite3.Connection) -> dict[tuple[str, str], TargetAlert]:
            return {
                (row["provider"], row["model"]): TargetAlert(
                    provider=row["provider"],
                    model=row["model"],
                    state=State(row["state"]),
                    kind=AlertKind(row["kind"]),
                    title=row["title"],
                    created_at=_from_us(row["created_at"]),
                    sent_at=_opt_from_us(row["sent_at"]),
                )
                for row in conn.execute(sql)
            }

        return await self._call(query)


def _insert_alert(conn: sqlite3.Connection, draft: AlertDraft, flip_ids: list[int | None]) -> None:
    created = _to_us(draft.created_at)
    alert_id = conn.execute(
        """INSERT INTO alerts (created_at, kind, destination, label, title, body, notify_type,
                               flip_ids, state, attempts, next_attempt_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, NULL)""",
        (
            created,
            draft.kind.value,
            draft.destination,
            draft.label,
            draft.title,
            draft.body,
            draft.notify_type.value,
            json.dumps(flip_ids),
            DeliveryState.PENDING.value,
        ),
    ).lastrowid
    conn.executemany(
        "INSERT OR IGNORE INTO alert_targets (alert_id, provider, model, state)"
        " VALUES (?, ?, ?, ?)",
        [(alert_id, t.provider, t.model, t.state.value) for t in draft.targets],
    )


def _deliveries(conn: sqlite3.Connection, ids: Sequence[int]) -> list[AlertDelivery]:
    """The deliveries with ``ids``, in id order, with their targets."""
    if not ids:
        return []
    marks = ", ".join("?" for _ in ids)
    targets: dict[int, list[AlertTarget]] = {}
    for row in conn.execute(
        f"SELECT * FROM alert_targets WHERE alert_id IN ({marks}) ORDER BY provider, model", ids
    ):
        targets.setdefault(row["alert_id"], []).append(
            AlertTarget(row["provider"], row["model"], State(row["state"]))
        )
    return [
        AlertDelivery(
            id=row["id"],
            kind=AlertKind(row["kind"]),
            destination=row["destination"],
            label=row["label"],
            title=row["title"],
            body=row["body"],
            notify_type=NotifyType(row["notify_type"]),
            created_at=_from_us(row["created_at"]),
            targets=tuple(targets.get(row["id"], ())),
            flip_ids=tuple(json.loads(row["flip_ids"])),
            state=DeliveryState(row["state"]),
            attempts=row["attempts"],
            next_attempt_at=_opt_from_us(row["next_attempt_at"]),
            last_error=row["last_error"],
            sent_at=_opt_from_us(row["sent_at"]),
        )
        for row in conn.execute(f"SELECT * FROM alerts WHERE id IN ({marks}) ORDER BY id", ids)
    ]


def _close(conn: sqlite3.Connection, marker: Path | None) -> None:
    try:
        # Keeps the planner's statistics fresh for the next process; cheap when nothing changed.
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
