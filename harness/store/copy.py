"""Copying a SQLite store into a PostgreSQL one (``harness store migrate``).

The source is opened read-only (nothing is written to it, and its schema must be this
harness's); the destination is opened as a store, so its schema is created or upgraded
first. Both are read and written through the store's interface only.

Results, flips and alert deliveries are copied in batches in id order; each batch is
written in one transaction together with its row in the destination's
``copy_progress`` (source, table, last id copied, rows copied), so an interrupted copy
resumes after the last committed batch and never copies a row twice. A delivery's
targets travel in its batch (with a progress row of their own), and the flips it points
at are found again in the destination by their content, since copied flips get new ids
(a flip the source no longer holds is dropped from the list). The hourly and daily rollups are
upserted in batches in key order, each one replacing the destination's row of that
target and hour (or day), so a resumed copy writes the same values again. Targets, statuses and
per-vantage statuses are few and are upserted whole. Finally the counts are compared:
every source row must have been copied, and the destination must hold at least as many
rows as the source.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from harness.errors import StoreError
from harness.policy.consensus import RunDecision, VantageKey, VantageStatus
from harness.policy.status import TargetStatus
from harness.store.base import Decide
from harness.store.sql import COUNTED_TABLES, CopyProgress, SQLStore
from harness.store.sqlite import SQLiteStore

T = TypeVar("T")

BATCH = 5000
"""Rows per transaction: large enough for speed, small enough to lose little on a crash."""

COPIED_TABLES = ("results", "flips", "alerts")
"""The tables copied in batches, with their progress kept (in this order: alerts point
at flips)."""

_ALERT_TARGETS = "alert_targets"
"""Copied with the deliveries they belong to; their progress is kept too."""

BUSY_TIMEOUT_S = 30.0
"""How long to wait for a harness writing to the source to let it be read."""

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


async def copy_store(
    source: Path,
    destination: SQLStore,
    *,
    batch: int = BATCH,
    progress: Progress | None = None,
) -> CopyReport:
    """Copy everything from the SQLite store at ``source`` into the open ``destination``,
    resuming where an earlier copy of the same source stopped; the verified counts."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    origin = SQLiteStore(source, read_only=True, busy_timeout_s=BUSY_TIMEOUT_S)
    key = str(await asyncio.to_thread(source.resolve))
    await origin.open()
    try:
        totals = await origin.row_counts()

        def report(table: str, copied: int) -> None:
            if progress is not None:
                progress(table, copied, totals[table])

        await destination.add_targets(await origin.targets())
        copy = _Copy(destination, key, batch, report)
        await copy.table("results", origin.results_after, destination.copy_results)
        await copy.table("flips", origin.flips_after, destination.copy_flips)
        await copy.alerts(origin, totals["alerts"])
        await copy.rollups(origin, totals["rollups"])
        await copy.rollups(origin, totals["daily_rollups"], daily=True)
        statuses, views = await origin.statuses(), await origin.vantage_statuses()
        await destination.record_vantage_run([], _as_they_are(statuses, views))
        # Incidents are derived from the flips, so they are built again, not copied.
        await destination.rebuild_incidents()
        return await _verify(origin, destination, key)
    finally:
        await origin.close()


@dataclass(frozen=True)
class _Copy:
    """Copying into ``destination`` from the source store named ``key``."""

    destination: SQLStore
    key: str
    batch: int
    report: Callable[[str, int], None]

    async def table(
        self,
        table: str,
        read: Callable[[int, int], Awaitable[list[tuple[int, T]]]],
        write: Callable[[Sequence[T], CopyProgress], Awaitable[None]],
    ) -> None:
        """Copy ``table`` in batches in id order, each committed with its progress."""
        done = await self.destination.copy_progress(self.key, table)
        self.report(table, done.copied)
        while rows := await read(done.last_id, self.batch):
            done = CopyProgress(self.key, table, rows[-1][0], done.copied + len(rows))
            await write([item for _, item in rows], done)
            self.report(table, done.copied)

    async def alerts(self, origin: SQLStore, total: int) -> None:
        """Copy the deliveries and their targets in batches, resumably (see the module)."""
        done = await self.destination.copy_progress(self.key, "alerts")
        targets = await self.destination.copy_progress(self.key, _ALERT_TARGETS)
        self.report("alerts", done.copied)
        if not total:
            return
        while deliveries := await origin.deliveries_after(done.last_id, self.batch):
            flips = await origin.flips_by_id([i for d in deliveries for i in d.flip_ids])
            last_id = deliveries[-1].id
            done = CopyProgress(self.key, "alerts", last_id, done.copied + len(deliveries))
            targets = CopyProgress(
                self.key,
                _ALERT_TARGETS,
                last_id,
                targets.copied + sum(len(d.targets) for d in deliveries),
            )
            await self.destination.copy_deliveries(deliveries, flips, [done, targets])
            self.report("alerts", done.copied)

    async def rollups(self, origin: SQLStore, total: int, *, daily: bool = False) -> None:
        """Upsert the hourly rollups (daily ones, with ``daily``) in batches in key order
        (see the module)."""
        if not total:
            return
        table = "daily_rollups" if daily else "rollups"
        copied = 0
        after = None
        while rollups := await origin.rollups_after(after, self.batch, daily=daily):
            await self.destination.put_rollups(rollups, daily=daily)
            after = rollups[-1].key
            copied += len(rollups)
            self.report(table, copied)


def _as_they_are(
    statuses: Mapping[tuple[str, str], TargetStatus], views: Mapping[VantageKey, VantageStatus]
) -> Decide:
    """A decision that keeps the source's statuses, whatever the destination holds."""
    return lambda shown, seen: RunDecision(
        list(statuses.values()), list(views.values()), [], dict(statuses)
    )


async def _verify(origin: SQLStore, destination: SQLStore, key: str) -> CopyReport:
    totals, held = await origin.row_counts(), await destination.row_counts()
    progressed = (*COPIED_TABLES, _ALERT_TARGETS)
    counts = []
    for table in COUNTED_TABLES:
        source = totals[table]
        copied = (
            (await destination.copy_progress(key, table)).copied if table in progressed else source
        )
        counts.append(TableCount(table, source, copied, held[table]))
    return CopyReport(counts)
