"""A spooled run is stored once, however often it is drained.

Each drain is a process of its own (drain_process.py), against a SQLite file and a real
PostgreSQL server: one is killed with ``os._exit`` right after its commit, before the
spool file is removed, and the next start drains the file again; two drain copies of
one run at the same moment. Every time the store ends with the run's results once.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from drain_process import CRASH_EXIT

from harness.pipeline.run import spool_of
from harness.result import ProbeResult
from harness.settings.config import Settings
from harness.store import open_store
from harness.store.spool import ABANDONED_S

SCRIPT = Path(__file__).with_name("drain_process.py")
RESULTS = 5


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "store.db")
    cluster = request.getfixturevalue("postgres")
    url: str = cluster.new_schema()
    return url


def spool_a_run(data_dir: Path) -> Path:
    """Spool one run of :data:`RESULTS` results; the spool's directory."""
    now = datetime.now(UTC)
    spool = spool_of(Settings(data_dir=data_dir))
    spool.put(
        [
            ProbeResult("P", f"m{i}", "ping", now + timedelta(seconds=i), ok=True, vantage="v")
            for i in range(RESULTS)
        ]
    )
    return spool.directory


async def drain(data_dir: Path, store_url: str, *flags: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(SCRIPT), str(data_dir), store_url, *flags]
    return await asyncio.to_thread(
        subprocess.run, command, capture_output=True, text=True, timeout=120
    )


async def stored(store_url: str) -> list[ProbeResult]:
    async with open_store(store_url) as store:
        return await store.results()


async def test_a_crash_between_the_commit_and_the_files_removal_stores_the_run_once(
    tmp_path: Path, store_url: str
) -> None:
    data = tmp_path / "data"
    spool = spool_a_run(data)

    crashed = await drain(data, store_url, "--crash-after-commit")
    assert crashed.returncode == CRASH_EXIT, crashed.stderr
    assert len(await stored(store_url)) == RESULTS  # committed, and the file still there
    (claimed,) = spool.glob("*.claimed")
    # The next start, ten minutes on, takes the dead process's claim back.
    long_ago = time.time() - ABANDONED_S - 1
    os.utime(claimed, (long_ago, long_ago))

    again = await drain(data, store_url)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "0"
    assert "was stored before; its file is removed" in again.stderr
    assert list(spool.iterdir()) == []
    assert len(await stored(store_url)) == RESULTS


async def test_two_processes_draining_one_run_at_once_store_it_once(
    tmp_path: Path, store_url: str
) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    spool = spool_a_run(first)
    shutil.copytree(spool, spool_of(Settings(data_dir=second)).directory)

    outcomes = await asyncio.gather(drain(first, store_url), drain(second, store_url))

    assert [o.returncode for o in outcomes] == [0, 0], [o.stderr for o in outcomes]
    assert sorted(int(o.stdout) for o in outcomes) == [0, RESULTS]
    assert len(await stored(store_url)) == RESULTS
