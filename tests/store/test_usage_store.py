"""The store's sums of usage and its footprint, on every backend."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from harness.policy.usage import TokenUsage
from harness.store import Store
from tests.status_samples import passed

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)


async def test_usage_sums_each_target_and_prompt_since_the_start(store: Store) -> None:
    await store.add_results(
        [
            replace(passed("groq", "a", NOW), prompt_tokens=10, completion_tokens=3),
            replace(passed("groq", "a", NOW + timedelta(minutes=1)), prompt_tokens=12),
            passed("groq", "a", NOW + timedelta(minutes=2)),
            replace(passed("groq", "a", NOW, prompt="math"), prompt_tokens=5, completion_tokens=1),
            replace(passed("groq", "b", NOW - timedelta(days=2)), prompt_tokens=99),
        ]
    )

    usage = await store.usage(NOW - timedelta(hours=1))

    assert usage == {
        ("groq", "a", "ping"): TokenUsage(3, 2, 22, 3),
        ("groq", "a", "math"): TokenUsage(1, 1, 5, 1),
    }


async def test_usage_of_an_empty_window_is_empty(store: Store) -> None:
    assert await store.usage(NOW) == {}


async def test_footprint_counts_the_results_and_grows_with_them(store: Store) -> None:
    before = await store.footprint()
    await store.add_results(
        [passed("Seed", f"m{i % 7}", NOW + timedelta(seconds=i)) for i in range(2000)]
    )

    after = await store.footprint()

    assert (before.results, after.results) == (0, 2000)
    assert after.bytes > before.bytes > 0
    assert after.bytes_per_result is not None
