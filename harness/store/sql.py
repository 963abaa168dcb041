"""The one SQL store: :class:`harness.store.base.Store` written once, over a dialect.

Every call is one unit of work: a plain function of a connection (a
:class:`~harness.store.dialect.Session`) that the dialect runs off the event loop, on a
thread, in one transaction, the way datasette runs SQLite. Both drivers are used
synchronously (sqlite3; psycopg's blocking connection and pool), because then the logic
exists once rather than once per concurrency model: a transaction never spans an
``await``, the event loop never waits on the database, and a dialect differs only in
what :mod:`harness.store.dialect` lists. The SQLite dialect runs every unit on one
thread (one writer, calls in the order they were made); the PostgreSQL one on a thread
per pooled connection.

Every write of a run (results, their hourly rollups, statuses, flips, per-vantage
statuses, alert deliveries) is one serialised unit: the rollups are read, merged and
written back, and a consensus decision reads the statuses it replaces, so runs take
turns under the dialect's write lock and a change is flipped exactly once.

A result is stored as a compact row (:class:`harness.store.rows.ResultRows`): its
target, its origin and its repeated texts by integer ids, written first where new
(:func:`insert_results`) and joined back on reading (:data:`_RESULTS_FROM`); a query of
results filters on ``t.provider`` / ``t.model`` and ``r.started_at``.

Besides the Store interface, the store copies itself (``harness store migrate``, see
:mod:`harness.store.copy`): rows in id order out of one store, into another in batches
that each commit with a record of how far the copy got.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import astuple, dataclass, fields, replace
from datetime import datetime, timedelta
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypeVar

from harness.policy.aggregate import LatencySummary, Uptime
from harness.policy.consensus import RunDecision, VantageKey, VantageStatus
from harness.policy.deliveries import (
    AlertDelivery,
    AlertDraft,
    AlertTarget,
    DeliveryState,
    TargetAlert,
)
from harness.policy.incidents import Incident, advance, newest_first, replay
from harness.policy.retention import Cutoffs
from harness.policy.rollup import HourRollup, day_of, fold, fold_days, hour_of
from harness.policy.status import Flip, State, TargetStatus
from harness.policy.usage import TokenUsage, UsageKey, fold_usage
from harness.probing.looplag import DEFAULT_BUDGET_MS
from harness.result import FailureKind, ProbeResult
from harness.store.base import Decide, Footprint
from harness.store.dialect import Dialect, Session, Values
from harness.store.rows import (
    KIND_CODES,
    ORIGIN_COLUMNS,
    ORIGIN_TEXT_COLUMNS,
    RESULT_COLUMNS,
    ROLLUP_COLUMNS,
    TEXT_COLUMNS,
    VANTAGE_COLUMNS,
    RowMap,
    Rows,
    columns,
    ms_of,
    stored_column,
)

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")
U = TypeVar("U")


def names(columns: Sequence[str]) -> str:
    """Column names, quoted (``end`` is a keyword), for a statement."""
    return ", ".join(f'"{c}"' for c in columns)


def insert(table: str, columns: Sequence[str]) -> str:
    """``INSERT`` of one row of ``columns``."""
    return f"INSERT INTO {table} ({names(columns)}) VALUES ({', '.join('?' * len(columns))})"


def upsert(table: str, columns: Sequence[str], key: Sequence[str]) -> str:
    """``INSERT`` of one row of ``columns``, replacing the row with the same ``key``."""
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c not in key)
    return f"{insert(table, columns)} ON CONFLICT ({names(key)}) DO UPDATE SET {updates}"


_STATUS = columns(TargetStatus)
_FLIP = columns(Flip)
_DELIVERY = columns(AlertDelivery, without=("targets",))
_INCIDENT = columns(Incident)
_SELECT_INCIDENTS = f"SELECT {names(_INCIDENT)} FROM incidents"
_INSERT_INCIDENT = insert("incidents", _INCIDENT[1:])  # the database gives its id
_UPDATE_INCIDENT = "UPDATE incidents SET {} WHERE id = ?".format(
    ", ".join(f'"{c}" = ?' for c in _INCIDENT[1:])
)

# A result's row names its target, its origin and its texts by id: reading one joins
# them back. Left joins keep the results the outer loop, whatever the planner makes of
# the small tables.
_RESULT_JOINS = "".join(
    [
        " LEFT JOIN origins o ON o.id = r.origin",
        *(f' LEFT JOIN texts "x_{c}" ON "x_{c}".id = r."{c}"' for c in TEXT_COLUMNS),
        *(f' LEFT JOIN texts "x_{c}" ON "x_{c}".id = o."{c}"' for c in ORIGIN_TEXT_COLUMNS),
    ]
)


def _stored_value(field: str) -> str:
    """Where a result's ``field`` is read from, in :data:`_RESULTS_FROM`."""
    if field in ("provider", "model"):
        return f"t.{field}"
    if field == "source":
        return "o.source"
    column = stored_column(field)
    if column in TEXT_COLUMNS or column in ORIGIN_TEXT_COLUMNS:
        return f'"x_{column}".value'
    return f'r."{column}"'


_RESULT_VALUES = ", ".join(_stored_value(f.name) for f in fields(ProbeResult))
"""A result's values, as :meth:`ResultRows.load` takes them, from :data:`_RESULTS_FROM`."""
_RESULTS_FROM = f"results r LEFT JOIN target_ids t ON t.id = r.target{_RESULT_JOINS}"
_SELECT_RESULTS = f"SELECT {_RESULT_VALUES} FROM {_RESULTS_FROM}"
_INSERT_ORIGIN = insert("origins", ORIGIN_COLUMNS) + " ON CONFLICT DO NOTHING"
_INSERT_TARGET_ID = "INSERT INTO target_ids (provider, model) VALUES (?, ?) ON CONFLICT DO NOTHING"
_INSERT_TEXT = "INSERT INTO texts (value) VALUES (?) ON CONFLICT DO NOTHING"
_SELECT_ROLLUPS = f"SELECT {names(ROLLUP_COLUMNS)} FROM rollups"
_INSERT_TARGET = "INSERT INTO targets (provider, model) VALUES (?, ?) ON CONFLICT DO NOTHING"
_INSERT_FLIP = insert("flips", _FLIP)
_INSERT_RUN = insert("stored_runs", ("run_id", "started_at"))
_UPSERT_STATUS = upsert("status", _STATUS, ("provider", "model"))
_UPSERT_VANTAGE = upsert("vantage_status", VANTAGE_COLUMNS, ("provider", "model", "vantage"))
_ADD_USAGE = """INSERT INTO usage_hours (provider, model, prompt, hour, probes, reported,
                                         prompt_tokens, completion_tokens)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (provider, model, prompt, hour) DO UPDATE SET
        probes = usage_hours.probes + excluded.probes,
        reported = usage_hours.reported + excluded.reported,
        prompt_tokens = usage_hours.prompt_tokens + excluded.prompt_tokens,
        completion_tokens = usage_hours.completion_tokens + excluded.completion_tokens"""
UPSERT_ROLLUP = upsert("rollups", ROLLUP_COLUMNS, ("provider", "model", "hour"))
DAILY_COLUMNS = tuple("day" if c == "hour" else c for c in ROLLUP_COLUMNS)
"""The daily rollups' columns: the hourly ones, keyed by the day's start (``day``)."""
UPSERT_DAILY = upsert("daily_rollups", DAILY_COLUMNS, ("provider", "model", "day"))
_SELECT_DAILY = f"SELECT {names(DAILY_COLUMNS)} FROM daily_rollups"
_INSERT_ALERT = insert("alerts", _DELIVERY[1:])  # the database gives its id
_UPSERT_PROGRESS = upsert(
    "copy_progress", ("source", "table", "last_id", "copied"), ("source", "table")
)
_INSERT_ALERT_TARGET = (
    "INSERT INTO alert_targets (alert_id, provider, model, state) VALUES (?, ?, ?, ?)"
    " ON CONFLICT DO NOTHING"
)
_NEWEST_FIRST = "ORDER BY started_at DESC, id DESC"
_UPTIME_COLUMNS = ("provider", "model", "hour", "ok", "failed", "throttled")
_NEWEST_RESULTS_FIRST = "ORDER BY r.started_at DESC, r.id DESC"
_ROLLUP_KEY = attrgetter("provider", "model", "hour")
_WORKING_STATES = ", ".join(f"'{state.value}'" for state in State if state.is_working)
_NOT_WORKING = f"vantage <> '' AND state NOT IN ({_WORKING_STATES})"
"""A vantage status of a named vantage that sees its target not working."""
_NEWLY_SEEN = """SELECT DISTINCT v.provider, v.model, v.vantage
    FROM incidents i JOIN vantage_status v ON v.provider = i.provider
    WHERE i.resolved_at IS NULL AND v.vantage <> '' AND v.state NOT IN ({working})
      AND {open_model} AND NOT {known}"""
"""The named vantages that see an open incident's model not working and are not among
its vantages yet (the fragments from the dialect)."""
_PER_STATEMENT = 100
"""Rows of parameters spelled out in one statement: within SQLite's oldest limit of 999."""


def _chunks(items: Sequence[U]) -> Iterator[Sequence[U]]:
    """``items`` in runs of at most :data:`_PER_STATEMENT`, one statement's worth each."""
    for start in range(0, len(items), _PER_STATEMENT):
        yield items[start : start + _PER_STATEMENT]


_PRUNED = (
    ("results", "started_at", "raw"),
    ("stored_runs", "started_at", "raw"),
    ("flips", "at", "hourly"),
    ("alerts", "created_at", "hourly"),
    ("incidents", "resolved_at", "hourly"),
    ("rollups", "hour", "hourly"),
    ("usage_hours", "hour", "hourly"),
    ("daily_rollups", "day", "daily"),
)
"""What pruning deletes, in order: each table, its time column and its retention tier
(see harness.policy.retention). Open incidents have no ``resolved_at`` and stay."""

COUNTED_TABLES = (
    "results",
    "flips",
    "alerts",
    "alert_targets",
    "rollups",
    "daily_rollups",
    "status",
    "vantage_status",
    "targets",
)
"""The tables whose rows :meth:`SQLStore.row_counts` counts."""


@dataclass(frozen=True)
class CopyProgress:
    """How far a copy from one source store has got in one table: the last id copied
    (rows go in id order) and the rows copied."""

    source: str
    table: str
    last_id: int = 0
    copied: int = 0


class SQLStore:
    """The :class:`harness.store.base.Store` on a SQL database, spoken through ``dialect``."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.where = dialect.where
        self._rows = Rows(dialect.values)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.where!r})"

    async def open(self) -> None:
        """Create or open the store and bring its schema up to date."""
        await self.dialect.open()

    async def close(self) -> None:
        """Release the store; safe to call twice."""
        await self.dialect.close()

    # --- results --------------------------------------------------------------------

    async def add_results(
        self, results: Sequence[ProbeResult], *, lag_budget_ms: float = DEFAULT_BUDGET_MS
    ) -> None:
        """Store a batch of results (and their rollups) in one transaction."""
        if results:
            await self._record(results, RunDecision([], [], [], {}), lag_budget_ms)

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
        v = self.dialect.values
        where: list[str] = []
        params: list[Any] = []
        for clause, value in (
            ("t.provider = ?", None if provider is None else v.text(provider)),
            ("t.model = ?", None if model is None else v.text(model)),
            ("r.started_at >= ?", None if since is None else v.time(since)),
            ("r.started_at < ?", None if until is None else v.time(until)),
        ):
            if value is not None:
                where.append(clause)
                params.append(value)
        sql = _SELECT_RESULTS
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" {_NEWEST_RESULTS_FIRST}"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)

        def query(s: Session) -> list[ProbeResult]:
            return [self._rows.result.load(row) for row in s.execute(sql, params)]

        return await self.dialect.read(query)

    async def recent_by_target(
        self, targets: Sequence[tuple[str, str]], limit: int
    ) -> dict[tuple[str, str], list[ProbeResult]]:
        """The newest ``limit`` results of each target, newest first, in one call (a page
        reads every target's history bar)."""
        wanted = list(dict.fromkeys(targets))
        v = self.dialect.values
        join = self.dialect.join_newest(
            "results", "r", f"WHERE target = t.id {_NEWEST_FIRST} LIMIT ?"
        )

        def query(s: Session) -> dict[tuple[str, str], list[ProbeResult]]:
            found: dict[tuple[str, str], list[ProbeResult]] = {t: [] for t in wanted}
            for chunk in _chunks(wanted):
                rows = ", ".join(f"(?, ?, {n})" for n in range(len(chunk)))
                params = [v.text(x) for target in chunk for x in target]
                for n, *row in s.execute(
                    f"""WITH w (provider, model, n) AS (VALUES {rows})
                        SELECT w.n, {_RESULT_VALUES} FROM w
                        JOIN target_ids t ON t.provider = w.provider AND t.model = w.model
                        {join}{_RESULT_JOINS}
                        ORDER BY w.n, r.started_at DESC, r.id DESC""",
                    [*params, limit],
                ):
                    found[chunk[n]].append(self._rows.result.load(row))
            return found

        return await self.dialect.read(query)

    async def recent_by_provider(
        self, providers: Sequence[str], limit: int
    ) -> dict[str, list[ProbeResult]]:
        """The newest ``limit`` results of each provider, its models pooled, newest first,
        in one call (the page's one-row-per-provider overview reads every history bar).

        Each of its models' newest ``limit`` are read along the per-target index (no sort
        of a provider's whole history), and the newest ``limit`` of those kept, in SQL."""
        wanted = list(dict.fromkeys(providers))
        v = self.dialect.values
        join = self.dialect.join_newest(
            "results", "r", f"WHERE target = t.id {_NEWEST_FIRST} LIMIT ?"
        )

        def query(s: Session) -> dict[str, list[ProbeResult]]:
            found: dict[str, list[ProbeResult]] = {p: [] for p in wanted}
            for chunk in _chunks(wanted):
                rows = ", ".join(f"(?, {n})" for n in range(len(chunk)))
                for n, *row in s.execute(
                    f"""WITH w (provider, n) AS (VALUES {rows}),
                        picked AS (
                            SELECT w.n AS n, r.id AS result_id,
                                ROW_NUMBER() OVER (
                                    PARTITION BY w.n ORDER BY r.started_at DESC, r.id DESC
                                ) AS k
                            FROM w JOIN target_ids t ON t.provider = w.provider {join}
                        )
                        SELECT p.n, {_RESULT_VALUES} FROM picked p
                        JOIN results r ON r.id = p.result_id
                        LEFT JOIN target_ids t ON t.id = r.target{_RESULT_JOINS}
                        WHERE p.k <= ?
                        ORDER BY p.n, r.started_at DESC, r.id DESC""",
                    [*map(v.text, chunk), limit, limit],
                ):
                    found[chunk[n]].append(self._rows.result.load(row))
            return found

        return await self.dialect.read(query)

    async def results_marker(self) -> int:
        """The id of the newest result stored (0 for none): results written later have
        greater ids, as every write of results holds the write lock to its commit."""

        def query(s: Session) -> int:
            return int(next(iter(s.execute("SELECT COALESCE(MAX(id), 0) FROM results")))[0])

        return await self.dialect.read(query)

    async def providers_since(self, marker: int) -> set[str]:
        """The providers with results stored after :meth:`results_marker` said ``marker``."""
        text_of = self.dialect.values.text_of

        def query(s: Session) -> set[str]:
            rows = s.execute(
                """SELECT DISTINCT t.provider FROM results r
                   JOIN target_ids t ON t.id = r.target WHERE r.id > ?""",
                (marker,),
            )
            return {text_of(p) for (p,) in rows}

        return await self.dialect.read(query)

    async def targets(self) -> list[tuple[str, str]]:
        """Every (provider, model) the store has seen, sorted."""
        text_of = self.dialect.values.text_of

        def query(s: Session) -> list[tuple[str, str]]:
            rows = s.execute("SELECT provider, model FROM targets")
            return sorted((text_of(p), text_of(m)) for p, m in rows)

        return await self.dialect.read(query)

    async def latency(
        self, provider: str, model: str, since: datetime, max_rows: int = 1000
    ) -> LatencySummary:
        """Latency over the newest ``max_rows`` passing results since ``since``."""
        v = self.dialect.values
        params = (v.text(provider), v.text(model), v.time(since), max_rows)

        def query(s: Session) -> LatencySummary:
            rows = s.execute(
                """SELECT r.ttfc_100us, r.total_100us
                   FROM results r JOIN target_ids t ON t.id = r.target
                   WHERE t.provider = ? AND t.model = ? AND r.started_at >= ? AND r.ok
                   ORDER BY r.started_at DESC LIMIT ?""",
                params,
            )
            return LatencySummary.from_samples((ms_of(ttfc), ms_of(total)) for ttfc, total in rows)

        return await self.dialect.read(query)

    # --- statuses and runs ------------------------------------------------------------

    async def statuses(self) -> dict[tuple[str, str], TargetStatus]:
        """The current status of every target that has one."""
        return await self.dialect.read(self._statuses)

    async def save_statuses(self, statuses: Sequence[TargetStatus], flips: Sequence[Flip]) -> None:
        """Replace the given targets' statuses and append the flips, in one transaction."""
        if statuses or flips:
            await self._record((), RunDecision(list(statuses), [], list(flips), {}))

    async def vantage_statuses(self) -> dict[VantageKey, VantageStatus]:
        """Every vantage's status of every target, by (provider, model, vantage)."""
        return await self.dialect.read(self._vantage_statuses)

    async def record_vantage_run(
        self,
        results: Sequence[ProbeResult],
        decide: Decide,
        *,
        lag_budget_ms: float = DEFAULT_BUDGET_MS,
    ) -> RunDecision:
        """Store ``results`` with what ``decide`` makes of them (statuses, flips, alerts),
        and the results' hourly rollups, in one transaction under the write lock, so
        consensus decisions never interleave and a change is flipped exactly once.

        Only the statuses of the results' providers are read and handed to ``decide``
        (every model of theirs, so that a provider's working flag can be told from the
        decision), so a run costs what it holds, not what the store holds.

        The run ids the results carry are kept with them: a run stored before is not
        stored again (nor decided on), and the decision returned says so."""

        v = self.dialect.values
        runs = _run_times(results)
        ids = [v.text(run_id) for run_id in runs]
        providers = sorted({r.provider for r in results})

        def run(s: Session) -> RunDecision:
            if ids and self._stored_before(s, ids):
                shown = self._statuses(s, providers)
                return RunDecision([], [], [], shown, stored_before=True)
            views = self._vantage_statuses(s, providers)
            decision = decide(self._statuses(s, providers), views)
            views.update((view.key, view) for view in decision.vantages)
            self._write_run(s, results, decision, lag_budget_ms, views, providers)
            s.executemany(_INSERT_RUN, [(v.text(i), v.time(at)) for i, at in runs.items()])
            return decision

        return await self.dialect.write(run, serialised=True)

    def _stored_before(self, s: Session, ids: Sequence[str]) -> bool:
        """Whether a run of ``ids`` is stored: every write of a run is one transaction, so
        one of its ids stored means the whole batch was."""
        for chunk in _chunks(ids):
            which, params = self.dialect.any_of("run_id", chunk)
            if s.execute(f"SELECT 1 FROM stored_runs WHERE {which} LIMIT 1", params).fetchone():
                return True
        return False

    async def _record(
        self,
        results: Sequence[ProbeResult],
        decision: RunDecision,
        lag_budget_ms: float = DEFAULT_BUDGET_MS,
    ) -> None:
        await self.dialect.write(
            lambda s: self._write_run(s, results, decision, lag_budget_ms), serialised=True
        )

    def _statuses(
        self, s: Session, providers: Sequence[str] | None = None
    ) -> dict[tuple[str, str], TargetStatus]:
        """The shown status of every target, or of every target of ``providers``."""
        rows = self._of_providers(s, f"SELECT {names(_STATUS)} FROM status", providers)
        return {status.target: status for status in map(self._rows.status.load, rows)}

    def _vantage_statuses(
        self, s: Session, providers: Sequence[str] | None = None
    ) -> dict[VantageKey, VantageStatus]:
        """Every vantage's status of every target, or of every target of ``providers``."""
        select = f"SELECT {names(VANTAGE_COLUMNS)} FROM vantage_status"
        rows = self._of_providers(s, select, providers)
        return {view.key: view for view in map(self._rows.vantage_of, rows)}

    def _of_providers(
        self,
        s: Session,
        select: str,
        providers: Sequence[str] | None,
        condition: str = "",
        params: Sequence[Any] = (),
    ) -> Iterator[Sequence[Any]]:
        """The rows of ``select`` (from a table with a ``provider`` column) that meet
        ``condition`` (with its ``params``): all of them, or those of ``providers``, a
        statement per :data:`_PER_STATEMENT` providers."""
        if providers is None:
            yield from s.execute(f"{select} WHERE {condition}" if condition else select, params)
            return
        text = self.dialect.values.text
        for chunk in _chunks(providers):
            which, named = self.dialect.any_of("provider", [text(p) for p in chunk])
            where = f"{condition} AND {which}" if condition else which
            yield from s.execute(f"{select} WHERE {where}", [*params, *named])

    def _write_run(
        self,
        s: Session,
        results: Sequence[ProbeResult],
        decision: RunDecision,
        lag_budget_ms: float,
        views: Mapping[VantageKey, VantageStatus] | None = None,
        read: Collection[str] = (),
    ) -> None:
        """The writes of one run, inside the caller's serialised transaction: results
        and their hourly rollups, statuses, flips, per-vantage statuses, the alerts
        pointing at those flips by position, and the incidents the flips open, change
        or resolve (``views``: every vantage's status after the run of the providers
        ``read``, those of other providers being read where an open incident needs
        them; None: the results alone say which vantages see what)."""
        rows = self._rows
        self._add_targets(
            s,
            {r.target for r in results}
            | {status.target for status in decision.statuses}
            | {(f.provider, f.model) for f in decision.flips}
            | {view.status.target for view in decision.vantages},
        )
        if results:
            insert_results(s, rows, results)
            # Folded from the times before their rounding to tenths of a millisecond: a
            # sketch's buckets are wider than that by far.
            hours = fold(results, lag_budget_ms)
            self._merge_rollups(s, hours.values())
            self._merge_rollups(s, fold_days(hours.values()).values(), daily=True)
            self._add_usage(s, results)
        s.executemany(_UPSERT_STATUS, map(rows.status.row, decision.statuses))
        flip_ids = [s.insert(_INSERT_FLIP, rows.flip.row(f)) for f in decision.flips]
        s.executemany(_UPSERT_VANTAGE, map(rows.vantage, decision.vantages))
        for draft in decision.alerts:
            self._insert_alert(s, _pending(draft, [flip_ids[i] for i in draft.flips]))
        seen_by = _seen_by(results, (views or {}).values())
        self._write_incidents(s, decision.flips, seen_by, None if views is None else read)

    def _write_incidents(
        self,
        s: Session,
        flips: Sequence[Flip],
        seen_by: Mapping[tuple[str, str], set[str]],
        read: Collection[str] | None = None,
    ) -> None:
        """Fold ``flips`` into the open incidents and store what changed.

        Without ``read`` every open incident is read. With it (the providers all of
        whose vantages ``seen_by`` accounts for: a run's), only those that may change:
        the open incidents of those providers, of the flips and of ``seen_by``, and of
        any other provider that a named vantage newly sees not working (found by one
        query), so every open incident hears of a vantage that sees it, whichever run
        notices, without a run reading every provider's incidents. The vantages of a
        flip of another provider (a decision given, not decided on the run) are read
        from the store."""
        load = self._rows.incident.load
        rows: Iterable[Sequence[Any]]
        if read is None:
            if not flips and not seen_by:
                return
            rows = s.execute(f"{_SELECT_INCIDENTS} WHERE resolved_at IS NULL")
        else:
            found = self._newly_seen(s)
            flipped = sorted({f.provider for f in flips} - set(read))
            elsewhere = {t: v for t, v in found.items() if t[0] not in read}
            seen_by = _joined(seen_by, elsewhere, self._not_working(s, flipped))
            providers = {*read, *(f.provider for f in flips), *(p for p, _ in seen_by)}
            open_now = "resolved_at IS NULL"
            rows = self._of_providers(s, _SELECT_INCIDENTS, sorted(providers), open_now)
        current = [load(row) for row in rows]
        for incident in advance(current, flips, seen_by):
            row = self._rows.incident.row(incident)
            if incident.id:
                s.execute(_UPDATE_INCIDENT, [*row[1:], incident.id])
            else:
                s.insert(_INSERT_INCIDENT, row[1:])

    def _newly_seen(self, s: Session) -> dict[tuple[str, str], set[str]]:
        """The named vantages that see a model of an open incident not working, by
        target, leaving out those the incident already names (they would change
        nothing): as :func:`_seen_by` tells them, from the stored vantage statuses."""
        dialect = self.dialect
        query = _NEWLY_SEEN.format(
            working=_WORKING_STATES,
            open_model=dialect.holds("i.open_models", "v.model"),
            known=dialect.holds("i.vantages", "v.vantage"),
        )
        return _vantages_by_target(dialect.values, s.execute(query))

    def _not_working(self, s: Session, providers: Sequence[str]) -> dict[tuple[str, str], set[str]]:
        """The named vantages that see each target of ``providers`` not working, as
        :func:`_seen_by` tells them, from the stored vantage statuses."""
        v = self.dialect.values
        select = "SELECT provider, model, vantage FROM vantage_status"
        return _vantages_by_target(v, self._of_providers(s, select, providers, _NOT_WORKING))

    def _add_targets(self, s: Session, targets: Iterable[tuple[str, str]]) -> None:
        text = self.dialect.values.text
        s.executemany(_INSERT_TARGET, [(text(p), text(m)) for p, m in sorted(targets)])

    def _merge_rollups(
        self, s: Session, deltas: Iterable[HourRollup], *, daily: bool = False
    ) -> None:
        """Add ``deltas`` to the stored rollups of their targets and hours (days, with
        ``daily``), reading the stored ones of those providers and hours (a statement
        per :data:`_PER_STATEMENT` providers) and writing all back in one statement."""
        merged = {d.key: d for d in deltas}
        if not merged:
            return
        time = self.dialect.values.time
        select, key = (_SELECT_DAILY, "day") if daily else (_SELECT_ROLLUPS, "hour")
        hours, params = self.dialect.any_of(key, sorted({time(h) for _, _, h in merged}))
        providers = sorted({p for p, _, _ in merged})
        for stored in map(
            self._rows.rollup_of, self._of_providers(s, select, providers, hours, params)
        ):
            delta = merged.get(stored.key)
            if delta is not None:
                stored.merge(delta)
                merged[stored.key] = stored
        upsert_sql = UPSERT_DAILY if daily else UPSERT_ROLLUP
        s.executemany(upsert_sql, map(self._rows.rollup, merged.values()))

    def _add_usage(self, s: Session, results: Iterable[ProbeResult]) -> None:
        """Add the results' probes and tokens to their hours' usage."""
        v = self.dialect.values
        s.executemany(
            _ADD_USAGE,
            [
                (v.text(p), v.text(m), v.text(prompt), v.time(hour), *astuple(each))
                for (p, m, prompt, hour), each in fold_usage(results).items()
            ],
        )

    def _insert_alert(self, s: Session, delivery: AlertDelivery) -> None:
        """Store ``delivery`` and its targets under a new id."""
        alert_id = s.insert(_INSERT_ALERT, self._rows.delivery.row(delivery)[1:])
        text = self.dialect.values.text
        s.executemany(
            _INSERT_ALERT_TARGET,
            [(alert_id, text(t.provider), text(t.model), t.state.value) for t in delivery.targets],
        )

    async def flips(self, *, provider: str | None = None, limit: int = 100) -> list[Flip]:
        """Recorded flips, newest first, optionally of one provider."""
        where = "" if provider is None else "WHERE provider = ?"
        params = [limit] if provider is None else [self.dialect.values.text(provider), limit]
        sql = f"SELECT {names(_FLIP)} FROM flips {where} ORDER BY at DESC, id DESC LIMIT ?"

        def query(s: Session) -> list[Flip]:
            return [self._rows.flip.load(row) for row in s.execute(sql, params)]

        return await self.dialect.read(query)

    async def incidents(
        self,
        *,
        provider: str | None = None,
        open_only: bool = False,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[Incident]:
        """Stored incidents, newest first: of one provider, only open ones, or those
        open at or after ``since`` (still open, or resolved then or later)."""
        v = self.dialect.values
        where: list[str] = []
        params: list[Any] = []
        if provider is not None:
            where.append("provider = ?")
            params.append(v.text(provider))
        if open_only:
            where.append("resolved_at IS NULL")
        if since is not None:
            where.append("(resolved_at IS NULL OR resolved_at >= ?)")
            params.append(v.time(since))
        sql = _SELECT_INCIDENTS + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY started_at DESC, id DESC LIMIT ?"

        def query(s: Session) -> list[Incident]:
            return [self._rows.incident.load(row) for row in s.execute(sql, [*params, limit])]

        return newest_first(await self.dialect.read(query))

    async def rebuild_incidents(self) -> None:
        """Build every incident again from the stored flips (after flips were copied in)."""

        def write(s: Session) -> None:
            s.execute("DELETE FROM incidents")
            backfill_incidents(s, self._rows)

        await self.dialect.write(write, serialised=True)

    async def prune(self, cutoffs: Cutoffs, *, limit: int) -> int:
        """One short write: delete about ``limit`` of the oldest rows that ``cutoffs``
        no longer keep, from the first table in :data:`_PRUNED` holding any; the rows
        deleted, 0 when nothing is left to prune (see the Store protocol)."""
        time = self.dialect.values.time
        tiers = {"raw": cutoffs.raw, "hourly": cutoffs.hourly, "daily": cutoffs.daily}

        def prune(s: Session) -> int:
            for table, column, tier in _PRUNED:
                cutoff = tiers[tier]
                if cutoff is None:
                    continue
                at = time(cutoff)
                # Rows sharing the newest time of the batch go with it, so what stays
                # is always everything from some time on (readers rely on it).
                deleted = s.execute(
                    f"""DELETE FROM {table} WHERE {column} < ? AND {column} <= (
                            SELECT MAX({column}) FROM (
                                SELECT {column} FROM {table} WHERE {column} < ?
                                ORDER BY {column} LIMIT ?
                            ) AS oldest
                        )""",
                    (at, at, limit),
                ).rowcount
                if deleted:
                    return deleted
            if cutoffs.raw is not None:
                return self._prune_origins(s, time(cutoffs.raw), limit)
            return 0

        return await self.dialect.write(prune)

    def _prune_origins(self, s: Session, cutoff: Any, limit: int) -> int:
        """Delete up to ``limit`` origins whose results are all older than ``cutoff``
        (pruned before them), and the run ids only they named; the origins deleted.
        A run id is a UUID (or empty, before runs had ids, and kept): no prompt, error,
        vantage or version shares its text."""
        old = s.execute(
            "SELECT id, run FROM origins WHERE last_at < ? ORDER BY last_at LIMIT ?",
            (cutoff, limit),
        ).fetchall()
        if not old:
            return 0
        where, params = self.dialect.any_of("id", [origin for origin, _ in old])
        s.execute(f"DELETE FROM origins WHERE {where}", params)
        where, params = self.dialect.any_of("id", sorted({run for _, run in old}))
        s.execute(
            f"""DELETE FROM texts WHERE {where} AND value <> ''
                AND NOT EXISTS (SELECT 1 FROM origins WHERE run = texts.id)""",
            params,
        )
        return len(old)

    # --- rollups ----------------------------------------------------------------------

    def _kept_rollups(
        self, s: Session, since: datetime, columns: Sequence[str]
    ) -> tuple[str, list[Any]]:
        """A query of ``columns`` (with ``hour``) over every target's rollups from
        ``since`` on, and its parameters: the hourly rollups from the hour holding
        ``since``, and before the first whole day of hours kept, the daily rollups from
        the day holding it. Pruning cuts hours by whole days, oldest first, and every
        day is in both tables, so the two parts meet without a gap or an overlap."""
        v = self.dialect.values
        (first,) = s.execute("SELECT MIN(hour) FROM rollups").fetchone()
        hourly = f"SELECT {names(columns)} FROM rollups WHERE hour >= ?"
        params: list[Any] = [v.time(hour_of(since))]
        by_day = ", ".join("day AS hour" if c == "hour" else f'"{c}"' for c in columns)
        daily = f"SELECT {by_day} FROM daily_rollups WHERE day >= ?"
        params.append(v.time(day_of(since)))
        if first is not None:
            first_hour = v.time_of(first)
            whole = day_of(first_hour)
            if whole != first_hour:  # a day pruned part way: its hours are not whole
                whole += timedelta(days=1)
            hourly += " AND hour >= ?"
            daily += " AND day < ?"
            params[1:1] = [v.time(whole)]
            params.append(v.time(whole))
        return f"{hourly} UNION ALL {daily}", params

    async def rollup_uptime(self, since: datetime) -> dict[tuple[str, str], Uptime]:
        """Every target's uptime from the hour holding ``since`` on (before the hours
        kept, the day holding it), summed from the rollups in SQL; inconclusive results
        left out."""
        v = self.dialect.values

        def query(s: Session) -> dict[tuple[str, str], Uptime]:
            kept, params = self._kept_rollups(s, since, _UPTIME_COLUMNS)
            rows = s.execute(
                f"""SELECT provider, model, SUM(ok), SUM(ok + failed + throttled)
                    FROM ({kept}) AS kept GROUP BY provider, model""",
                params,
            )
            return {
                (v.text_of(p), v.text_of(m)): Uptime(ok=int(ok), total=int(total))
                for p, m, ok, total in rows
            }

        return await self.dialect.read(query)

    async def rollups(
        self, since: datetime, *, provider: str | None = None, model: str | None = None
    ) -> list[HourRollup]:
        """Every target's rollups from the hour holding ``since`` on (only those of
        ``provider``, and of its ``model``, when given), ordered by provider, model,
        hour: hourly ones, and before the hours kept, daily ones (from the day holding
        ``since``), each at its day's start."""
        v = self.dialect.values
        where = ""
        params: list[Any] = []
        for column, value in (("provider", provider), ("model", model)):
            if value is not None:
                where += f" AND {column} = ?"
                params.append(v.text(value))
        where = where.removeprefix(" AND ")

        def query(s: Session) -> list[HourRollup]:
            kept, kept_params = self._kept_rollups(s, since, ROLLUP_COLUMNS)
            rows = s.execute(
                f"SELECT * FROM ({kept}) AS kept {'WHERE ' + where if where else ''}"
                " ORDER BY provider, model, hour",
                [*kept_params, *params],
            )
            # And again as Python sorts (cheaply: they come sorted), since a dialect may
            # store a name as other text, which the database sorts elsewhere.
            return sorted(map(self._rows.rollup_of, rows), key=_ROLLUP_KEY)

        return await self.dialect.read(query)

    async def provider_rollups(self, providers: Sequence[str], since: datetime) -> list[HourRollup]:
        """The hourly rollups of ``providers``' targets from the hour holding ``since`` on,
        ordered by provider, model and hour, in one call."""
        wanted = list(dict.fromkeys(providers))
        v = self.dialect.values
        start = v.time(hour_of(since))

        def query(s: Session) -> list[HourRollup]:
            found: list[HourRollup] = []
            for chunk in _chunks(wanted):
                marks = ", ".join("?" for _ in chunk)
                found += map(
                    self._rows.rollup_of,
                    s.execute(
                        f"{_SELECT_ROLLUPS} WHERE hour >= ? AND provider IN ({marks})",
                        [start, *map(v.text, chunk)],
                    ),
                )
            return sorted(found, key=_ROLLUP_KEY)

        return await self.dialect.read(query)

    async def provider_days(self, since: datetime) -> dict[str, list[tuple[datetime, Uptime]]]:
        """Each provider's uptime counts per UTC day (its models pooled), by the day's
        start, from the hour holding ``since`` on, oldest first; summed in SQL."""
        v = self.dialect.values
        day = self.dialect.day_of("hour")

        def query(s: Session) -> dict[str, list[tuple[datetime, Uptime]]]:
            kept, params = self._kept_rollups(s, since, _UPTIME_COLUMNS)
            found: dict[str, list[tuple[datetime, Uptime]]] = {}
            for provider, start, ok, total in s.execute(
                f"""SELECT provider, {day}, SUM(ok), SUM(ok + failed + throttled)
                    FROM ({kept}) AS kept GROUP BY provider, {day} ORDER BY provider, {day}""",
                params,
            ):
                found.setdefault(v.text_of(provider), []).append(
                    (v.time_of(start), Uptime(ok=int(ok), total=int(total)))
                )
            return found

        return await self.dialect.read(query)

    # --- what probing costs --------------------------------------------------------------

    async def usage(self, since: datetime) -> dict[UsageKey, TokenUsage]:
        """Results from the hour holding ``since`` on and their reported tokens, per
        (provider, model, prompt), from the hourly usage kept with them."""
        v = self.dialect.values
        start = v.time(hour_of(since))

        def query(s: Session) -> dict[UsageKey, TokenUsage]:
            rows = s.execute(
                """SELECT provider, model, prompt, SUM(probes), SUM(reported),
                          SUM(prompt_tokens), SUM(completion_tokens)
                   FROM usage_hours WHERE hour >= ?
                   GROUP BY provider, model, prompt""",
                (start,),
            )
            return {
                (v.text_of(p), v.text_of(m), v.text_of(prompt)): TokenUsage(
                    int(n), int(reported), int(inp), int(out)
                )
                for p, m, prompt, n, reported, inp, out in rows
            }

        return await self.dialect.read(query)

    async def footprint(self) -> Footprint:
        """The bytes the store takes on disk, indexes included, and its results."""

        def query(s: Session) -> Footprint:
            size = s.execute(self.dialect.size_query).fetchone()[0]
            results = s.execute("SELECT COUNT(*) FROM results").fetchone()[0]
            return Footprint(int(size or 0), int(results))

        return await self.dialect.read(query)

    async def integrity_ok(self) -> bool:
        """True when the backend's own consistency check passes."""
        return await self.dialect.integrity_ok()

    async def offline_since(self) -> datetime | None:
        """When the harness's host went offline (see the Store protocol)."""
        offline = KIND_CODES[FailureKind.HARNESS_OFFLINE]

        def query(s: Session) -> datetime | None:
            newest = s.execute(f"SELECT kind FROM results {_NEWEST_FIRST} LIMIT 1").fetchone()
            if newest is None or newest[0] != offline:
                return None
            # Both walk the time index from the newest row and stop early.
            conclusive = s.execute(
                """SELECT started_at FROM results WHERE kind IS NULL OR kind <> ?
                   ORDER BY started_at DESC LIMIT 1""",
                (offline,),
            ).fetchone()
            if conclusive is None:
                (start,) = s.execute("SELECT MIN(started_at) FROM results").fetchone()
            else:
                (start,) = s.execute(
                    "SELECT MIN(started_at) FROM results WHERE started_at > ?", conclusive
                ).fetchone()
            return None if start is None else self.dialect.values.time_of(start)

        return await self.dialect.read(query)

    # --- alert deliveries -------------------------------------------------------------

    async def claim_alerts(
        self, destinations: Sequence[str], *, now: datetime, lease: timedelta, limit: int = 100
    ) -> list[AlertDelivery]:
        """Claim the pending deliveries due by ``now`` (see the Store protocol); rows that
        a concurrent claim holds are skipped, not waited for."""
        v = self.dialect.values
        keys = [v.text(d) for d in dict.fromkeys(destinations)]
        if not keys:
            return []
        due, until = v.time(now), v.time(now + lease)

        def claim(s: Session) -> list[AlertDelivery]:
            wanted, params = self.dialect.any_of("destination", keys)
            ids = [
                row[0]
                for row in s.execute(
                    f"""SELECT id FROM alerts
                        WHERE state = ? AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
                          AND {wanted}
                        ORDER BY id LIMIT ?{self.dialect.skip_locked}""",
                    (DeliveryState.PENDING.value, due, *params, limit),
                )
            ]
            if not ids:
                return []
            claimed, params = self.dialect.any_of("id", ids)
            s.execute(
                f"UPDATE alerts SET attempts = attempts + 1, next_attempt_at = ? WHERE {claimed}",
                (until, *params),
            )
            return self._deliveries(s, claimed, params)

        return await self.dialect.write(claim)

    async def finish_alert(
        self, alert_id: int, *, at: datetime, error: str | None, retry_at: datetime | None
    ) -> None:
        """Record a delivery attempt's outcome (see the Store protocol)."""
        v = self.dialect.values
        if error is None:
            sql = "UPDATE alerts SET state = ?, sent_at = ?, next_attempt_at = NULL WHERE id = ?"
            params: tuple[Any, ...] = (DeliveryState.SENT.value, v.time(at), alert_id)
        elif retry_at is not None:
            sql = "UPDATE alerts SET state = ?, last_error = ?, next_attempt_at = ? WHERE id = ?"
            params = (DeliveryState.PENDING.value, v.text(error), v.time(retry_at), alert_id)
        else:
            sql = "UPDATE alerts SET state = ?, last_error = ?, next_attempt_at = NULL WHERE id = ?"
            params = (DeliveryState.FAILED.value, v.text(error), alert_id)
        await self.dialect.write(lambda s: s.execute(sql, params))

    async def alert_deliveries(self, *, limit: int = 50) -> list[AlertDelivery]:
        """Stored deliveries, newest first."""

        def query(s: Session) -> list[AlertDelivery]:
            newest = "id IN (SELECT id FROM alerts ORDER BY id DESC LIMIT ?)"
            return self._deliveries(s, newest, (limit,))[::-1]

        return await self.dialect.read(query)

    async def last_alerts(self, *, sent_only: bool = False) -> dict[tuple[str, str], TargetAlert]:
        """The newest delivery about each target (only sent ones with ``sent_only``)."""
        where = "WHERE a.state = 'sent'" if sent_only else ""
        sql = f"""SELECT provider, model, state, kind, title, created_at, sent_at FROM (
                      SELECT t.provider, t.model, t.state, a.kind, a.title, a.created_at,
                             a.sent_at,
                             ROW_NUMBER() OVER (
                                 PARTITION BY t.provider, t.model
                                 ORDER BY a.created_at DESC, a.sent_at DESC NULLS LAST,
                                          a.id DESC
                             ) AS n
                      FROM alert_targets t JOIN alerts a ON a.id = t.alert_id {where}
                  ) AS newest WHERE n = 1"""

        def query(s: Session) -> dict[tuple[str, str], TargetAlert]:
            alerts = map(self._rows.target_alert.load, s.execute(sql))
            return {(a.provider, a.model): a for a in alerts}

        return await self.dialect.read(query)

    def _deliveries(self, s: Session, which: str, params: Sequence[Any]) -> list[AlertDelivery]:
        """The deliveries whose ``id`` meets the condition ``which``, in id order, with
        their targets."""
        targets: dict[int, list[AlertTarget]] = {}
        for alert_id, *row in s.execute(
            f"""SELECT alert_id, provider, model, state FROM alert_targets
                WHERE alert_id IN (SELECT id FROM alerts WHERE {which})
                ORDER BY provider, model""",
            params,
        ):
            targets.setdefault(alert_id, []).append(self._rows.alert_target.load(row))
        rows = s.execute(f"SELECT {names(_DELIVERY)} FROM alerts WHERE {which} ORDER BY id", params)
        return [
            self._rows.delivery.load(row, targets=tuple(targets.get(row[0], ()))) for row in rows
        ]

    # --- copying from one store into another (harness store migrate) ----------------

    async def row_counts(self) -> dict[str, int]:
        """The rows in each of :data:`COUNTED_TABLES`."""

        def query(s: Session) -> dict[str, int]:
            return {
                table: int(s.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
                for table in COUNTED_TABLES
            }

        return await self.dialect.read(query)

    async def results_after(self, after: int, limit: int) -> list[tuple[int, ProbeResult]]:
        """The first ``limit`` results with an id over ``after``, in id order, by id."""
        sql = f"SELECT r.id, {_RESULT_VALUES} FROM {_RESULTS_FROM}"
        sql += " WHERE r.id > ? ORDER BY r.id LIMIT ?"
        load = self._rows.result.load

        def query(s: Session) -> list[tuple[int, ProbeResult]]:
            return [(row[0], load(row[1:])) for row in s.execute(sql, (after, limit))]

        return await self.dialect.read(query)

    async def flips_after(self, after: int, limit: int) -> list[tuple[int, Flip]]:
        """The first ``limit`` flips with an id over ``after``, in id order, by id."""
        return await self._after("flips", self._rows.flip, after, limit)

    async def _after(
        self, table: str, rows: RowMap[T], after: int, limit: int
    ) -> list[tuple[int, T]]:
        sql = f"SELECT id, {names(rows.columns)} FROM {table} WHERE id > ? ORDER BY id LIMIT ?"

        def query(s: Session) -> list[tuple[int, T]]:
            return [(row[0], rows.load(row[1:])) for row in s.execute(sql, (after, limit))]

        return await self.dialect.read(query)

    async def deliveries_after(self, after: int, limit: int) -> list[AlertDelivery]:
        """The first ``limit`` alert deliveries with an id over ``after``, in id order."""
        first = "id IN (SELECT id FROM alerts WHERE id > ? ORDER BY id LIMIT ?)"
        return await self.dialect.read(lambda s: self._deliveries(s, first, (after, limit)))

    async def flips_by_id(self, ids: Sequence[int]) -> dict[int, Flip]:
        """The flips with ``ids`` (those still stored), by id."""
        wanted = sorted(set(ids))

        def query(s: Session) -> dict[int, Flip]:
            found: dict[int, Flip] = {}
            for chunk in _chunks(wanted):
                which, params = self.dialect.any_of("id", chunk)
                for row in s.execute(f"SELECT id, {names(_FLIP)} FROM flips WHERE {which}", params):
                    found[row[0]] = self._rows.flip.load(row[1:])
            return found

        return await self.dialect.read(query)

    async def rollups_after(
        self, after: tuple[str, str, datetime] | None, limit: int, *, daily: bool = False
    ) -> list[HourRollup]:
        """The first ``limit`` hourly rollups (daily ones, with ``daily``) past the key
        ``after`` (from the first without one), in the database's order of keys."""
        v = self.dialect.values
        params: list[Any] = []
        sql, key = (_SELECT_DAILY, "day") if daily else (_SELECT_ROLLUPS, "hour")
        if after is not None:
            sql += f" WHERE (provider, model, {key}) > (?, ?, ?)"
            params = [v.text(after[0]), v.text(after[1]), v.time(after[2])]
        sql += f" ORDER BY provider, model, {key} LIMIT ?"

        def query(s: Session) -> list[HourRollup]:
            return [self._rows.rollup_of(row) for row in s.execute(sql, [*params, limit])]

        return await self.dialect.read(query)

    async def copy_progress(self, source: str, table: str) -> CopyProgress:
        """How far copying ``table`` from the store ``source`` into this one has got."""

        def query(s: Session) -> CopyProgress:
            row = s.execute(
                'SELECT last_id, copied FROM copy_progress WHERE source = ? AND "table" = ?',
                (source, table),
            ).fetchone()
            return (
                CopyProgress(source, table, *map(int, row)) if row else CopyProgress(source, table)
            )

        return await self.dialect.read(query)

    async def add_targets(self, targets: Iterable[tuple[str, str]]) -> None:
        """Make ``targets`` known (the ones already known stay as they are)."""
        wanted = set(targets)
        await self.dialect.write(lambda s: self._add_targets(s, wanted))

    async def copy_results(self, results: Sequence[ProbeResult], progress: CopyProgress) -> None:
        """Add results copied from another store, with their hourly usage, and how far that
        copy has got, in one transaction (their hourly rollups are copied apart:
        :meth:`put_rollups`)."""

        v = self.dialect.values
        # The copied runs are known as stored, so a spooled copy of one is not stored again.
        runs = [(v.text(i), v.time(at)) for i, at in _run_times(results).items()]

        def write(s: Session) -> None:
            self._add_targets(s, {r.target for r in results})
            insert_results(s, self._rows, results)
            self._add_usage(s, results)
            s.executemany(f"{_INSERT_RUN} ON CONFLICT DO NOTHING", runs)
            self._save_progress(s, progress)

        await self.dialect.write(write)

    async def copy_flips(self, flips: Sequence[Flip], progress: CopyProgress) -> None:
        """Add flips copied from another store, and how far that copy has got, in one
        transaction."""

        def write(s: Session) -> None:
            self._add_targets(s, {(f.provider, f.model) for f in flips})
            s.bulk_insert("flips", _FLIP, map(self._rows.flip.row, flips))
            self._save_progress(s, progress)

        await self.dialect.write(write)

    async def copy_deliveries(
        self,
        deliveries: Sequence[AlertDelivery],
        flips: Mapping[int, Flip],
        progress: Sequence[CopyProgress],
    ) -> None:
        """Add alert deliveries copied from another store, with their targets, and how
        far that copy has got, in one transaction. Their ids are this store's own, and
        each points at the flips here equal to those its ``flip_ids`` name in ``flips``
        (the other store's, by id); a flip this store lacks is left out."""

        def write(s: Session) -> None:
            here = self._find_flips(s, flips)
            for delivery in deliveries:
                ids = tuple(here[i] for i in delivery.flip_ids if i in here)
                self._insert_alert(s, replace(delivery, flip_ids=ids))
            for each in progress:
                self._save_progress(s, each)

        await self.dialect.write(write)

    async def put_rollups(self, rollups: Sequence[HourRollup], *, daily: bool = False) -> None:
        """Store ``rollups`` in place of the stored ones of their targets and hours (days,
        with ``daily``), in one transaction under the write lock."""

        def write(s: Session) -> None:
            self._add_targets(s, {(r.provider, r.model) for r in rollups})
            s.executemany(UPSERT_DAILY if daily else UPSERT_ROLLUP, map(self._rows.rollup, rollups))

        await self.dialect.write(write, serialised=True)

    def _save_progress(self, s: Session, progress: CopyProgress) -> None:
        s.execute(
            _UPSERT_PROGRESS, (progress.source, progress.table, progress.last_id, progress.copied)
        )

    def _find_flips(self, s: Session, flips: Mapping[int, Flip]) -> dict[int, int]:
        """The id here of a flip equal to each of ``flips`` (by their ids elsewhere)."""
        elsewhere = list(flips)
        found: dict[int, int] = {}
        marks = ", ".join("?" * len(_FLIP))
        same = " AND ".join(f'f."{c}" = w."{c}"' for c in _FLIP)
        for chunk in _chunks(elsewhere):
            rows = ", ".join(f"({marks}, {n})" for n in range(len(chunk)))
            params = [value for i in chunk for value in self._rows.flip.row(flips[i])]
            for n, here in s.execute(
                f"""WITH w ({names(_FLIP)}, n) AS (VALUES {rows})
                    SELECT w.n, (
                        SELECT f.id FROM flips f WHERE {same} ORDER BY f.id LIMIT 1
                    ) FROM w""",
                params,
            ):
                if here is not None:
                    found[chunk[n]] = here
        return found


def insert_results(
    s: Session, rows: Rows, results: Sequence[ProbeResult], *, ids: Sequence[int] = ()
) -> None:
    """Add ``results`` (whose targets are known) as compact rows, with the ids ``ids``
    where given (else the database's), first storing their targets' ids, their origins
    and the texts they repeat where those are new."""
    write = rows.result
    targets = _target_ids(s, rows.values, {r.target for r in results})
    texts = _text_ids(s, rows.values, {text for r in results for text in write.texts(r)})
    keys = [write.origin(r, texts) for r in results]
    origins = _origin_ids(s, set(keys))
    newest: dict[int, datetime] = {}
    for r, key in zip(results, keys, strict=True):
        at = newest.get(origins[key])
        newest[origins[key]] = r.started_at if at is None else max(at, r.started_at)
    s.executemany(
        "UPDATE origins SET last_at = ? WHERE id = ? AND last_at < ?",
        [(rows.values.time(at), origin, rows.values.time(at)) for origin, at in newest.items()],
    )
    stored = [
        write.row(r, targets[r.target], origins[key], texts)
        for r, key in zip(results, keys, strict=True)
    ]
    if ids:
        columns = ("id", *RESULT_COLUMNS)
        s.bulk_insert("results", columns, [[i, *row] for i, row in zip(ids, stored, strict=True)])
    else:
        s.bulk_insert("results", RESULT_COLUMNS, stored)


Origin = tuple[int, int, int, int]


def _origin_ids(s: Session, origins: set[Origin]) -> dict[Origin, int]:
    """The id of each of ``origins`` (rows of ``ORIGIN_COLUMNS``), given to new ones first."""

    def find(wanted: Sequence[Origin]) -> dict[Origin, int]:
        found: dict[Origin, int] = {}
        same = " AND ".join(f"o.{c} = w.{c}" for c in ORIGIN_COLUMNS)
        for chunk in _chunks(wanted):
            rows = ", ".join("(?, ?, ?, ?)" for _ in chunk)
            for origin_id, run, vantage, version, source in s.execute(
                f"""WITH w ({", ".join(ORIGIN_COLUMNS)}) AS (VALUES {rows})
                    SELECT o.id, {", ".join(f"o.{c}" for c in ORIGIN_COLUMNS)}
                    FROM origins o JOIN w ON {same}""",
                [x for origin in chunk for x in origin],
            ):
                found[(run, vantage, version, source)] = origin_id
        return found

    ids = find(sorted(origins))
    if new := sorted(origins - ids.keys()):
        s.executemany(_INSERT_ORIGIN, new)
        ids.update(find(new))
    return ids


def _target_ids(s: Session, v: Values, targets: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The id of each of ``targets`` (which are known), given to those without one first."""

    def find(wanted: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
        found: dict[tuple[str, str], int] = {}
        for chunk in _chunks(wanted):
            rows = ", ".join("(?, ?)" for _ in chunk)
            params = [v.text(x) for target in chunk for x in target]
            for target_id, provider, model in s.execute(
                f"""WITH w (provider, model) AS (VALUES {rows})
                    SELECT t.id, t.provider, t.model FROM target_ids t
                    JOIN w ON t.provider = w.provider AND t.model = w.model""",
                params,
            ):
                found[(v.text_of(provider), v.text_of(model))] = target_id
        return found

    # Only the new ones are inserted: PostgreSQL would spend an id on every conflict.
    ids = find(sorted(targets))
    if new := sorted(targets - ids.keys()):
        s.executemany(_INSERT_TARGET_ID, [(v.text(p), v.text(m)) for p, m in new])
        ids.update(find(new))
    return ids


def _text_ids(s: Session, v: Values, texts: set[str]) -> dict[str, int]:
    """The id in the table ``texts`` of each of ``texts``, stored first where it is new."""

    def find(wanted: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for chunk in _chunks(wanted):
            rows = ", ".join("(?)" for _ in chunk)
            for text_id, value in s.execute(
                f"""WITH w (value) AS (VALUES {rows})
                    SELECT x.id, x.value FROM texts x JOIN w ON x.value = w.value""",
                [v.text(t) for t in chunk],
            ):
                found[v.text_of(value)] = text_id
        return found

    ids = find(sorted(texts))
    if new := sorted(texts - ids.keys()):
        s.executemany(_INSERT_TEXT, [(v.text(t),) for t in new])
        ids.update(find(new))
    return ids


def _vantages_by_target(
    v: Values, rows: Iterable[Sequence[Any]]
) -> dict[tuple[str, str], set[str]]:
    """The vantages of rows of (provider, model, vantage), by target."""
    seen: dict[tuple[str, str], set[str]] = {}
    for provider, model, vantage in rows:
        seen.setdefault((v.text_of(provider), v.text_of(model)), set()).add(v.text_of(vantage))
    return seen


def _joined(
    *seen: Mapping[tuple[str, str], set[str]],
) -> dict[tuple[str, str], set[str]]:
    """The vantages of each target in any of ``seen``."""
    joined: dict[tuple[str, str], set[str]] = {}
    for each in seen:
        for target, vantages in each.items():
            joined.setdefault(target, set()).update(vantages)
    return joined


def _seen_by(
    results: Iterable[ProbeResult], views: Iterable[VantageStatus]
) -> dict[tuple[str, str], set[str]]:
    """The named vantages that see each target not working: by their status, or by a
    conclusive failure in this run."""
    seen: dict[tuple[str, str], set[str]] = {}
    for view in views:
        if view.vantage and not view.status.state.is_working:
            seen.setdefault(view.status.target, set()).add(view.vantage)
    for result in results:
        if result.vantage and not result.ok and not result.inconclusive:
            seen.setdefault(result.target, set()).add(result.vantage)
    return seen


_FAILING_VANTAGES = """SELECT DISTINCT x.value
    FROM results r JOIN target_ids t ON t.id = r.target
    JOIN origins o ON o.id = r.origin JOIN texts x ON x.id = o.vantage
    WHERE t.provider = ? AND t.model IN ({models}) AND r.ok = ?
      AND (r.kind IS NULL OR r.kind <> ?) AND x.value <> '' AND r.started_at >= ?{until}"""
_FAILING_VANTAGES_WIDE = """SELECT DISTINCT vantage FROM results
    WHERE provider = ? AND model IN ({models}) AND ok = ?
      AND (kind IS NULL OR kind <> ?) AND vantage <> '' AND started_at >= ?{until}"""


def backfill_incidents(s: Session, rows: Rows, *, wide: bool = False) -> None:
    """Store the incidents of every stored flip (:func:`replay`), each with the named
    vantages whose results failed conclusively on its models while it was open. Used by
    the migration that adds incidents to an existing history, in both dialects, and
    after flips were copied in. ``wide``: the results are stored one column per field,
    as they were until the migration to compact rows."""
    flips = [rows.flip.load(row) for row in s.execute(f"SELECT {names(_FLIP)} FROM flips")]
    v = rows.values
    kind = FailureKind.HARNESS_OFFLINE
    offline = kind.value if wide else KIND_CODES[kind]
    failing = _FAILING_VANTAGES_WIDE if wide else _FAILING_VANTAGES
    for incident in replay(flips):
        models = ", ".join("?" * len(incident.models))
        params: list[Any] = [v.text(incident.provider), *map(v.text, incident.models)]
        params += [False, offline, v.time(incident.started_at)]
        until = ""
        if incident.resolved_at is not None:
            until = f" AND {'' if wide else 'r.'}started_at <= ?"
            params.append(v.time(incident.resolved_at))
        found = s.execute(failing.format(models=models, until=until), params)
        vantages = tuple(sorted(v.text_of(row[0]) for row in found))
        s.insert(_INSERT_INCIDENT, rows.incident.row(replace(incident, vantages=vantages))[1:])


def backfill_daily(s: Session, rows: Rows) -> None:
    """Store the daily rollups of every stored hourly one (:func:`fold_days`). Used by
    the migration that adds daily rollups to an existing history, in both dialects."""
    hours = map(rows.rollup_of, s.execute(_SELECT_ROLLUPS))
    s.executemany(UPSERT_DAILY, map(rows.rollup, fold_days(hours).values()))


def _run_times(results: Iterable[ProbeResult]) -> dict[str, datetime]:
    """The run ids ``results`` carry (those without one left out), each with its newest time."""
    runs: dict[str, datetime] = {}
    for result in results:
        if result.run_id:
            runs[result.run_id] = max(result.started_at, runs.get(result.run_id, result.started_at))
    return runs


def _pending(draft: AlertDraft, flip_ids: list[int]) -> AlertDelivery:
    """The delivery of ``draft`` before its first attempt, pointing at ``flip_ids``."""
    return AlertDelivery(
        id=0,
        kind=draft.kind,
        destination=draft.destination,
        label=draft.label,
        title=draft.title,
        body=draft.body,
        notify_type=draft.notify_type,
        created_at=draft.created_at,
        targets=draft.targets,
        flip_ids=tuple(flip_ids),
        state=DeliveryState.PENDING,
        attempts=0,
        next_attempt_at=None,
        last_error=None,
        sent_at=None,
    )
