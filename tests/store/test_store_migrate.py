"""``harness store migrate``: a SQLite store of 100,000 results moved into PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.bench.synthetic import batches, synthetic_results
from harness.cli import main
from harness.pipeline import fold_statuses
from harness.status import Thresholds
from harness.store import open_store
from harness.store.copy import copy_store
from harness.store.postgres import PostgresStore
from tests.postgres_cluster import PostgresCluster

ROWS = 100_000
NOW = datetime(2024, 6, 1, tzinfo=UTC)


class Interrupted(Exception):
    """Stands in for a crash or Ctrl-C in the middle of a copy."""


async def _fill(path: Path) -> None:
    async with open_store(path) as store:
        newest = []
        for chunk in batches(synthetic_results(ROWS, now=NOW), 10_000):
            await store.add_results(chunk)
            newest = chunk
        changed, flips = fold_statuses({}, newest, Thresholds(down_after=1))
        await store.save_statuses(list(changed.values()), flips)


async def _copy_two_batches(source: Path, url: str) -> None:
    def stop_after_two(table: str, copied: int, total: int) -> None:
        if copied >= 2 * 7000:
            raise Interrupted

    destination = PostgresStore(url)
    await destination.open()
    try:
        with pytest.raises(Interrupted):
            await copy_store(source, destination, batch=7000, progress=stop_after_two)
        assert len(await destination.results(limit=ROWS)) == 14_000
    finally:
        await destination.close()


async def _summary(location: str) -> tuple[int, int, int]:
    async with open_store(location) as store:
        results = await store.results(limit=ROWS + 1)
        return len(results), len(await store.statuses()), len(await store.flips(limit=1000))


@pytest.mark.timeout(600)
def test_a_large_store_is_moved_resumably_with_its_counts_verified(
    postgres: PostgresCluster, tmp_path: Path
) -> None:
    source = tmp_path / "harness.db"
    asyncio.run(_fill(source))
    url = postgres.new_schema()
    asyncio.run(_copy_two_batches(source, url))

    outcome = CliRunner().invoke(
        main, ["store", "migrate", "--from", f"sqlite:///{source}", "--to", url]
    )
    assert outcome.exit_code == 0, outcome.output
    assert "NO" not in outcome.output
    assert "100,000" in outcome.output
    copied = asyncio.run(_summary(url))
    assert copied[0] == ROWS  # resumed after the two committed batches: nothing twice
    assert copied == asyncio.run(_summary(str(source)))

    again = CliRunner().invoke(main, ["store", "migrate", "--from", str(source), "--to", url])
    assert again.exit_code == 0, again.output
    assert asyncio.run(_summary(url))[0] == ROWS


@pytest.mark.parametrize(
    ("source", "destination", "message"),
    [
        ("missing.db", "postgresql://u@127.0.0.1:1/db", "no SQLite store at missing.db"),
        ("postgresql://h/db", "postgresql://u@127.0.0.1:1/db", "--from must be a SQLite"),
        ("a.db", "sqlite:///b.db", "--to must be a PostgreSQL URL"),
    ],
)
def test_bad_locations_exit_2_with_a_message(source: str, destination: str, message: str) -> None:
    outcome = CliRunner().invoke(main, ["store", "migrate", "--from", source, "--to", destination])
    assert outcome.exit_code == 2
    assert message in outcome.output
