"""The store benchmark's bulk path: a SQLite store made several times larger."""

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from harness.bench.store_scale import fill_store, replicate, scaled
from harness.policy.rollup import HourRollup
from harness.store import open_store

NOW = datetime(2025, 3, 1, tzinfo=UTC)


async def _rollups(path: Path) -> list[HourRollup]:
    async with open_store(path) as store:
        return await store.rollups(datetime(1970, 1, 1, tzinfo=UTC))


def test_replicating_a_store_multiplies_its_results_and_their_rollups(tmp_path: Path) -> None:
    path = tmp_path / "harness.db"
    asyncio.run(fill_store(path, rows=300, batch=100, now=NOW))
    before = asyncio.run(_rollups(path))
    figures = replicate(path, 3)
    assert figures["rows"] == 900
    assert asyncio.run(_rollups(path)) == [scaled(rollup, 3) for rollup in before]
