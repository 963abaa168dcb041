"""The store benchmark's bulk path: a SQLite store made several times larger."""

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from harness.bench.pruning import prune_beside_runs
from harness.bench.record import record_beside_fleet
from harness.bench.store_scale import file_bytes, fill_store, replicate, scaled
from harness.policy.rollup import HourRollup
from harness.store import open_store

NOW = datetime(2025, 3, 1, tzinfo=UTC)


async def _rollups(path: Path) -> list[HourRollup]:
    async with open_store(path) as store:
        return await store.rollups(datetime(1970, 1, 1, tzinfo=UTC))


def test_replicating_a_store_multiplies_its_results_and_their_rollups(tmp_path: Path) -> None:
    path = tmp_path / "harness.db"
    asyncio.run(fill_store(path, rows=300, batch=100, now=NOW, size=lambda: file_bytes(path)))
    before = asyncio.run(_rollups(path))
    figures = replicate(path, 3)
    assert figures["rows"] == 900
    assert asyncio.run(_rollups(path)) == [scaled(rollup, 3) for rollup in before]


async def _oldest(path: Path) -> datetime:
    async with open_store(path) as store:
        return (await store.results())[-1].started_at


def test_pruning_beside_runs_prunes_to_the_default_raw_retention(tmp_path: Path) -> None:
    path = tmp_path / "harness.db"
    asyncio.run(fill_store(path, rows=3000, batch=500, now=NOW, size=lambda: 0))
    figures = asyncio.run(prune_beside_runs(str(path), now=NOW, runs=2, run_size=10))
    # 30 days of results evenly spread: 9 of 30 days go first, then 7 more.
    assert (figures["pruned_alone"], figures["pruned_beside_runs"]) == (900, 700)
    assert figures["batches"] == 900 // figures["batch_rows"] + 1
    assert figures["run_ms_alone"]["n"] == 2
    assert asyncio.run(_oldest(path)) >= NOW - timedelta(days=14)


def test_bytes_per_result_is_the_growth_from_the_empty_store_over_the_results(
    tmp_path: Path,
) -> None:
    path = tmp_path / "harness.db"
    sizes = iter([1_000, 31_000])
    figures = asyncio.run(fill_store(path, rows=300, batch=100, now=NOW, size=lambda: next(sizes)))
    assert figures["bytes_per_result"] == 100.0


def test_the_file_size_counts_a_write_ahead_log_left_beside_it(tmp_path: Path) -> None:
    path = tmp_path / "harness.db"
    path.write_bytes(b"x" * 10)
    path.with_name("harness.db-wal").write_bytes(b"x" * 5)
    assert file_bytes(path) == 15


def test_recording_beside_a_fleet_times_each_run_of_one_provider(tmp_path: Path) -> None:
    where = str(tmp_path / "fleet.db")
    figures = asyncio.run(record_beside_fleet(where, targets=30, runs=4))
    assert (figures["targets"], figures["providers"], figures["runs"]) == (30, 5, 4)
    assert figures["run_targets"] == 6
    assert 0 < figures["record_ms"]["median"] <= figures["record_ms"]["max"]


async def _stored_runs(where: str) -> int:
    async with open_store(where) as store:
        return len({r.run_id for r in await store.results()})


def test_recording_beside_a_fleet_stores_its_history_and_then_each_run(tmp_path: Path) -> None:
    where = str(tmp_path / "fleet.db")
    asyncio.run(record_beside_fleet(where, targets=12, runs=3))
    # The history carries no run id; each measured run has its own.
    assert asyncio.run(_stored_runs(where)) == 1 + 3
