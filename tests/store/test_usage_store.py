"""The store's sums of usage and its footprint, on every backend."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from conftest import NewStore
from status_samples import passed
from store_shortcuts import prune_before

from harness.policy.usage import TokenUsage
from harness.store import Store, postgres, sqlite
from harness.store.dialect import Session
from harness.store.sql import SQLStore

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


async def test_usage_is_kept_per_hour_and_pruned_with_the_hours(store: Store) -> None:
    await store.add_results(
        [
            replace(passed("groq", "a", NOW - timedelta(hours=3)), prompt_tokens=7),
            replace(passed("groq", "a", NOW), prompt_tokens=5),
        ]
    )

    await prune_before(store, NOW - timedelta(hours=1))

    assert await store.usage(NOW - timedelta(days=1)) == {
        ("groq", "a", "ping"): TokenUsage(1, 1, 5, 0)
    }


async def test_the_migration_backfills_the_usage_of_the_stored_results(
    new_store: NewStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = [
        replace(passed("groq", "a", NOW), prompt_tokens=10, completion_tokens=3),
        replace(passed("groq", "a", NOW + timedelta(minutes=5)), prompt_tokens=12),
        passed("Seed", "m", NOW - timedelta(hours=5)),
    ]
    fresh = new_store("fresh")
    await fresh.open()
    try:
        await fresh.add_results(results)
        expected = await fresh.usage(NOW - timedelta(days=1))
    finally:
        await fresh.close()
    with monkeypatch.context() as patch:
        for module in (sqlite, postgres):
            before = module.MIGRATIONS[: module.MIGRATIONS.index(module._usage_hours)]
            patch.setattr(module, "MIGRATIONS", before)
        old = cast(SQLStore, new_store("old"))
        await old.open()
        try:  # the results as that schema held them: one column per field
            await old.add_targets({r.target for r in results})
            wide = old._rows.wide_result

            def write(s: Session) -> None:
                s.bulk_insert("results", wide.columns, map(wide.row, results))

            await old.dialect.write(write)
        finally:
            await old.close()

    again = new_store("old")
    await again.open()
    try:
        assert await again.usage(NOW - timedelta(days=1)) == expected
    finally:
        await again.close()
