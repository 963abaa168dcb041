"""The spool: results kept on disk while the store cannot be reached."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from harness.pipeline.run import spool_of, store_spooled
from harness.result import ProbeResult
from harness.settings.config import Settings
from harness.store import open_store
from harness.store.spool import ABANDONED_S, Spool

NOW = datetime.now(UTC)
PASS = ProbeResult("P", "m", "ping", NOW, ok=True, ttfc_ms=100.0, total_ms=300.0, vantage="v")


def runs(count: int, size: int) -> list[list[ProbeResult]]:
    return [
        [
            replace(PASS, started_at=NOW + timedelta(seconds=r * size + i), run_id=f"run-{r}")
            for i in range(size)
        ]
        for r in range(count)
    ]


def test_runs_come_back_oldest_first_and_once(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    first, second = runs(2, 3)
    spool.put(first)
    spool.put(second)
    (oldest, newest) = spool.pending()
    claimed = spool.claim(oldest)
    assert claimed is not None
    assert spool.claim(oldest) is None  # taken already
    assert Spool.read(claimed) == first
    Spool.done(claimed)
    assert spool.pending() == [newest]
    assert spool.count() == 3


def test_a_spooled_run_carries_one_run_id_its_own_else_a_new_one(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    (run,) = runs(1, 3)
    spool.put([replace(r, run_id="") for r in run])
    spool.put(run)
    first, second = (Spool.read(path) for path in spool.pending())
    (given,) = {r.run_id for r in first}
    assert len(given) == 32
    assert {r.run_id for r in second} == {"run-0"}


def test_the_bound_drops_the_oldest_runs(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_results=5)
    first, second, third = runs(3, 2)
    spool.put(first)
    spool.put(second)
    assert spool.put(third) == 2
    assert [Spool.read(p) for p in spool.pending()] == [second, third]


def test_a_claim_left_by_a_crash_is_given_back(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.put(runs(1, 1)[0])
    (path,) = spool.pending()
    claimed = spool.claim(path)
    assert claimed is not None
    assert spool.pending() == []
    old = time.time() - ABANDONED_S - 1
    os.utime(claimed, (old, old))
    assert spool.pending() == [path]


def test_a_bound_below_one_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Spool(tmp_path, max_results=0)


async def test_a_refused_run_is_set_aside_and_the_rest_stored(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    spool = spool_of(settings)
    spool.put([replace(PASS, chunks=2**64, run_id="bad")])  # no store takes this
    spool.put([replace(PASS, run_id="good")])
    async with open_store(tmp_path / "h.db") as store:
        assert await store_spooled(settings, store, spool) == 1
        assert await store.results() == [replace(PASS, run_id="good")]
    assert spool.pending() == []
    assert rejected(tmp_path / "spool") == 1


def rejected(directory: Path) -> int:
    return len(list(directory.glob("*.rejected")))
