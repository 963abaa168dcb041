"""What the daily history reads from the store, on every backend: one provider's (or
model's) rollups, and each provider's uptime counts by UTC day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from harness.policy.aggregate import Uptime
from harness.result import FailureKind, ProbeResult
from harness.store import Store

MIDNIGHT = datetime(2026, 5, 2, tzinfo=UTC)


def probe(provider: str, model: str, at: datetime, ok: bool = True) -> ProbeResult:
    kind = None if ok else FailureKind.HTTP_SERVER
    return ProbeResult(provider, model, "ping", at, ok=ok, kind=kind, ttfc_ms=100.0)


async def test_provider_days_pool_models_by_utc_day(store: Store) -> None:
    before, after = MIDNIGHT - timedelta(minutes=30), MIDNIGHT + timedelta(minutes=30)
    await store.add_results(
        [
            probe("P", "a", before),
            probe("P", "b", before, ok=False),
            probe("P", "a", after),
            probe("Q", "a", after),
        ]
    )
    days = await store.provider_days(MIDNIGHT - timedelta(days=2))
    assert days["P"] == [
        (MIDNIGHT - timedelta(days=1), Uptime(1, 2)),
        (MIDNIGHT, Uptime(1, 1)),
    ]
    assert days["Q"] == [(MIDNIGHT, Uptime(1, 1))]


async def test_rollups_of_one_provider_and_model(store: Store) -> None:
    await store.add_results([probe("P", "a", MIDNIGHT), probe("P", "b", MIDNIGHT)])
    await store.add_results([probe("Q", "a", MIDNIGHT)])
    since = MIDNIGHT - timedelta(hours=1)
    assert {r.model for r in await store.rollups(since, provider="P")} == {"a", "b"}
    (only,) = await store.rollups(since, provider="P", model="b")
    assert (only.provider, only.model, only.ok) == ("P", "b", 1)
