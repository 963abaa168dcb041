"""What tests ask of a store beyond the interface the harness uses, through that interface.

A run recorded with statuses, flips and alerts given rather than decided, one
target's uptime counted from its results, and everything before a time pruned.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from harness.policy.aggregate import Uptime
from harness.policy.consensus import RunDecision
from harness.policy.deliveries import AlertDraft
from harness.policy.retention import Cutoffs
from harness.policy.status import Flip, Outcome, TargetStatus, outcome_of
from harness.probing.looplag import DEFAULT_BUDGET_MS
from harness.result import ProbeResult
from harness.store import Store


async def record_run(
    store: Store,
    results: Sequence[ProbeResult],
    statuses: Sequence[TargetStatus],
    flips: Sequence[Flip],
    alerts: Sequence[AlertDraft] = (),
    *,
    lag_budget_ms: float = DEFAULT_BUDGET_MS,
) -> None:
    """Store results with the statuses and flips given for them, and ``alerts`` pointing
    at those flips by position, in one transaction (with the results' hourly rollups)."""
    decision = RunDecision(
        list(statuses), [], list(flips), {s.target: s for s in statuses}, list(alerts)
    )
    await store.record_vantage_run(
        results, lambda shown, views: decision, lag_budget_ms=lag_budget_ms
    )


async def uptime(store: Store, provider: str, model: str, since: datetime) -> Uptime:
    """Uptime of one target since ``since``, inconclusive results left out (computed from
    its raw results, as a reference for the store's own figures)."""
    results = await store.results(provider=provider, model=model, since=since)
    outcomes = [o for o in map(outcome_of, results) if o is not Outcome.INCONCLUSIVE]
    return Uptime(ok=outcomes.count(Outcome.OK), total=len(outcomes))


async def prune_before(store: Store, when: datetime, *, limit: int = 1000) -> int:
    """Prune, batch after batch, every raw result and hourly-tier row (flips, deliveries,
    resolved incidents, hourly rollups) older than ``when``; daily rollups stay. The
    rows deleted."""
    cut = Cutoffs(raw=when, hourly=when, daily=None)
    total = 0
    while deleted := await store.prune(cut, limit=limit):
        total += deleted
    return total
