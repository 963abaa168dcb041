"""The interface every result store implements (SQLite now, PostgreSQL later).

Conventions shared by every backend:

* times are timezone-aware; a naive datetime given to a store is taken as UTC, and
  times come back in UTC;
* lists come newest first; ``since`` is inclusive and ``until`` exclusive;
* every write is one transaction: all of it lands or none of it does;
* every failure of the backend surfaces as :class:`harness.errors.StoreError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from harness.aggregate import LatencySummary, Uptime
from harness.looplag import DEFAULT_BUDGET_MS
from harness.result import ProbeResult
from harness.rollup import HourRollup
from harness.status import Flip, TargetStatus


class Store(Protocol):
    """Where results, current statuses and flips are kept."""

    async def open(self) -> None:
        """Create or open the store and bring its schema up to date."""

    async def close(self) -> None:
        """Release the store; safe to call twice."""

    async def add_results(
        self, results: Sequence[ProbeResult], *, lag_budget_ms: float = DEFAULT_BUDGET_MS
    ) -> None:
        """Store a batch of results, and fold them into the hourly rollups, in one
        transaction (passes with ``loop_lag_ms`` over ``lag_budget_ms`` count as
        timing-suspect there)."""

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

    async def recent(self, provider: str, model: str, limit: int) -> list[ProbeResult]:
        """The newest ``limit`` results of one target, newest first."""

    async def recent_by_target(
        self, targets: Sequence[tuple[str, str]], limit: int
    ) -> dict[tuple[str, str], list[ProbeResult]]:
        """The newest ``limit`` results of each of ``targets``, newest first, in one call."""

    async def targets(self) -> list[tuple[str, str]]:
        """Every (provider, model) the store has seen, sorted."""

    async def uptime(self, provider: str, model: str, since: datetime) -> Uptime:
        """Uptime of one target since ``since``, inconclusive results left out."""

    async def latency(
        self, provider: str, model: str, since: datetime, max_rows: int = 1000
    ) -> LatencySummary:
        """Latency over the newest ``max_rows`` passing results since ``since``."""

    async def statuses(self) -> dict[tuple[str, str], TargetStatus]:
        """The current status of every target that has one."""

    async def save_statuses(self, statuses: Sequence[TargetStatus], flips: Sequence[Flip]) -> None:
        """Replace the given targets' statuses and append the flips, in one transaction."""

    async def record_run(
        self,
        results: Sequence[ProbeResult],
        statuses: Sequence[TargetStatus],
        flips: Sequence[Flip],
        *,
        lag_budget_ms: float = DEFAULT_BUDGET_MS,
    ) -> None:
        """Store results together with the statuses and flips they caused, atomically;
        the results' hourly rollups are updated in the same transaction."""

    async def flips(self, *, provider: str | None = None, limit: int = 100) -> list[Flip]:
        """Recorded flips, newest first."""

    async def prune(self, older_than: datetime) -> int:
        """Delete results and flips older than ``older_than``; how many rows went."""

    async def rollup_uptime(self, since: datetime) -> dict[tuple[str, str], Uptime]:
        """Every target's uptime from the hour holding ``since`` on, from the rollups;
        inconclusive results left out (targets without results there are absent)."""

    async def rollups(self, since: datetime) -> list[HourRollup]:
        """Every target's hourly rollups from the hour holding ``since`` on, ordered by
        provider, model and hour (see harness.rollup)."""

    async def integrity_ok(self) -> bool:
        """True when the backend's own consistency check passes."""
