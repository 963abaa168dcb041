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
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from harness.policy.aggregate import LatencySummary, Uptime
from harness.policy.consensus import RunDecision, VantageKey, VantageStatus
from harness.policy.deliveries import AlertDelivery, TargetAlert
from harness.policy.incidents import Incident
from harness.policy.retention import Cutoffs
from harness.policy.rollup import HourRollup
from harness.policy.status import Flip, TargetStatus
from harness.policy.usage import TokenUsage, UsageKey
from harness.probing.looplag import DEFAULT_BUDGET_MS
from harness.result import ProbeResult

Decide = Callable[
    [Mapping[tuple[str, str], TargetStatus], Mapping[VantageKey, VantageStatus]], RunDecision
]
"""What :meth:`Store.record_vantage_run` asks: (shown statuses, vantage statuses) -> decision,
given the statuses of the run's providers."""


@dataclass(frozen=True)
class Footprint:
    """The bytes a store takes on disk (tables and indexes) and the results it holds."""

    bytes: int
    results: int

    @property
    def bytes_per_result(self) -> float | None:
        """The bytes per stored result, everything else the store keeps included."""
        return self.bytes / self.results if self.results else None


class Store(Protocol):
    """Where results, current statuses and flips are kept."""

    async def open(self) -> None:
        """Create or open the store and bring its schema up to date."""

    async def close(self) -> None:
        """Release the store; safe to call twice."""

    async def add_results(
        self, results: Sequence[ProbeResult], *, lag_budget_ms: float = DEFAULT_BUDGET_MS
    ) -> None:
        """Store a batch of results, and fold them into the hourly and daily rollups, in one
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

    async def recent_by_target(
        self, targets: Sequence[tuple[str, str]], limit: int
    ) -> dict[tuple[str, str], list[ProbeResult]]:
        """The newest ``limit`` results of each of ``targets``, newest first, in one call."""

    async def recent_by_provider(
        self, providers: Sequence[str], limit: int
    ) -> dict[str, list[ProbeResult]]:
        """The newest ``limit`` results of each of ``providers`` (its models pooled),
        newest first, in one call."""

    async def results_marker(self) -> int:
        """The id of the newest result stored (0 for none); results stored later have
        greater ones."""

    async def providers_since(self, marker: int) -> set[str]:
        """The providers with results stored after :meth:`results_marker` said ``marker``."""

    async def targets(self) -> list[tuple[str, str]]:
        """Every (provider, model) the store has seen, sorted."""

    async def latency(
        self, provider: str, model: str, since: datetime, max_rows: int = 1000
    ) -> LatencySummary:
        """Latency over the newest ``max_rows`` passing results since ``since``."""

    async def statuses(self) -> dict[tuple[str, str], TargetStatus]:
        """The current status of every target that has one."""

    async def save_statuses(self, statuses: Sequence[TargetStatus], flips: Sequence[Flip]) -> None:
        """Replace the given targets' statuses and append the flips, in one transaction."""

    async def vantage_statuses(self) -> dict[VantageKey, VantageStatus]:
        """Every vantage's status of every target, by (provider, model, vantage)."""

    async def record_vantage_run(
        self,
        results: Sequence[ProbeResult],
        decide: Decide,
        *,
        lag_budget_ms: float = DEFAULT_BUDGET_MS,
    ) -> RunDecision:
        """Store ``results`` with what ``decide`` makes of them, atomically and serialised.

        ``decide`` is called with the current shown and per-vantage statuses of every
        target of the results' providers (no others: a run costs what it holds, not what
        the store holds), read inside the transaction while holding a lock that every
        other writer of this store takes too; the results (with their hourly rollups),
        the statuses it returns, its flips and its alerts are then written in that same
        transaction. Its decision is returned.

        Storing is idempotent per run: the run ids of ``results`` are kept with them, and
        a batch whose run is already stored writes nothing, does not call ``decide``, and
        returns a decision with ``stored_before`` set and no changes.
        """

    async def flips(self, *, provider: str | None = None, limit: int = 100) -> list[Flip]:
        """Recorded flips, newest first."""

    async def incidents(
        self,
        *,
        provider: str | None = None,
        open_only: bool = False,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[Incident]:
        """Stored incidents, newest first: of one provider, only open ones, or those open
        at or after ``since`` (still open, or resolved then or later)."""

    async def prune(self, cutoffs: Cutoffs, *, limit: int) -> int:
        """One short write transaction deleting about ``limit`` of the oldest rows that
        ``cutoffs`` no longer keep (see harness.policy.retention): results and stored
        run ids by the raw cutoff; flips, alert deliveries, resolved incidents and
        hourly rollups by the hourly one; daily rollups by the daily one. Rows sharing
        a time go together. How many rows went; 0 when nothing is left to prune, so a
        caller repeats it, letting other writes take turns, until it returns 0."""

    async def rollup_uptime(self, since: datetime) -> dict[tuple[str, str], Uptime]:
        """Every target's uptime from the hour holding ``since`` on, from the rollups
        (hourly ones; daily ones, from the day holding ``since``, before the hours
        kept); inconclusive results left out (targets without results there are absent)."""

    async def rollups(
        self, since: datetime, *, provider: str | None = None, model: str | None = None
    ) -> list[HourRollup]:
        """Every target's rollups from the hour holding ``since`` on (only those of
        ``provider``, and of its ``model``, when given), ordered by provider, model and
        hour (see harness.policy.rollup): hourly ones, and before the hours kept, daily
        ones (from the day holding ``since``) each at the start of its day."""

    async def provider_rollups(self, providers: Sequence[str], since: datetime) -> list[HourRollup]:
        """The hourly rollups of ``providers``' targets from the hour holding ``since``
        on, ordered by provider, model and hour, in one call."""

    async def provider_days(self, since: datetime) -> dict[str, list[tuple[datetime, Uptime]]]:
        """Each provider's uptime counts per UTC day (its models pooled, inconclusive
        results left out), by the day's start, from the hour holding ``since`` on,
        oldest first."""

    async def usage(self, since: datetime) -> dict[UsageKey, TokenUsage]:
        """The results from the hour holding ``since`` on and the tokens their upstreams
        reported, summed per (provider, model, prompt) (see harness.policy.usage)."""

    async def footprint(self) -> Footprint:
        """What the store takes on disk, indexes included, and the results it holds."""

    async def integrity_ok(self) -> bool:
        """True when the backend's own consistency check passes."""

    async def offline_since(self) -> datetime | None:
        """When the harness's host went offline: the oldest of the newest unbroken run of
        ``harness_offline`` results; None when the newest result is conclusive (or none)."""

    async def claim_alerts(
        self, destinations: Sequence[str], *, now: datetime, lease: timedelta, limit: int = 100
    ) -> list[AlertDelivery]:
        """Pending deliveries to ``destinations`` due by ``now``, oldest first, claimed:
        in one transaction their attempts go up by one and their next attempt moves to
        ``now + lease``, so a concurrent caller does not claim them too."""

    async def finish_alert(
        self, alert_id: int, *, at: datetime, error: str | None, retry_at: datetime | None
    ) -> None:
        """Record an attempt's outcome: sent at ``at`` when ``error`` is None; else pending
        again from ``retry_at``, or failed for good when ``retry_at`` is None."""

    async def alert_deliveries(self, *, limit: int = 50) -> list[AlertDelivery]:
        """Stored deliveries, newest first."""

    async def last_alerts(self, *, sent_only: bool = False) -> dict[tuple[str, str], TargetAlert]:
        """The newest delivery about each target (only sent ones with ``sent_only``)."""
