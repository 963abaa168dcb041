"""The interface every result store implements (SQLite and PostgreSQL).

Conventions shared by every backend:

* times are timezone-aware; a naive datetime given to a store is taken as UTC, and
  times come back in UTC;
* lists come newest first; ``since`` is inclusive and ``until`` exclusive;
* every write is one transaction: all of it lands or none of it does;
* every failure of the backend surfaces as :class:`harness.errors.StoreError`; a
  database that cannot be reached (rather than one that refuses) as its subclass
  :class:`harness.errors.StoreUnavailable`, so a run can spool its results and retry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from harness.aggregate import LatencySummary, Uptime
from harness.consensus import RunDecision, VantageKey, VantageStatus
from harness.result import ProbeResult
from harness.status import Flip, TargetStatus

Decide = Callable[
    [Mapping[tuple[str, str], TargetStatus], Mapping[VantageKey, VantageStatus]], RunDecision
]
"""What :meth:`Store.record_vantage_run` asks: (shown statuses, vantage statuses) -> decision."""


class Store(Protocol):
    """Where results, current statuses and flips are kept."""

    async def open(self) -> None:
        """Create or open the store and bring its schema up to date."""

    async def close(self) -> None:
        """Release the store; safe to call twice."""

    async def add_results(self, results: Sequence[ProbeResult]) -> None:
        """Store a batch of results in one transaction."""

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
    ) -> None:
        """Store results together with the statuses and flips they caused, atomically."""

    async def vantage_statuses(self) -> dict[VantageKey, VantageStatus]:
        """Every vantage's status of every target, by (provider, model, vantage)."""

    async def record_vantage_run(
        self, results: Sequence[ProbeResult], decide: Decide
    ) -> RunDecision:
        """Store ``results`` with what ``decide`` makes of them, atomically and serialised.

        ``decide`` is called with the current shown and per-vantage statuses, read inside
        the transaction while holding a lock that every other writer of this store takes
        too; the results, the statuses it returns and its flips are then written in that
        same transaction. Its decision is returned.
        """

    async def flips(self, *, provider: str | None = None, limit: int = 100) -> list[Flip]:
        """Recorded flips, newest first."""

    async def prune(self, older_than: datetime) -> int:
        """Delete results and flips older than ``older_than``; how many rows went."""

    async def integrity_ok(self) -> bool:
        """True when the backend's own consistency check passes."""
