"""Pruning beside the runs: how long a batch holds the write lock, and what it costs a run.

On a store filled by the store benchmark (results spread over 30 days):

1. **runs alone**: ``runs`` writes of one run each (``run_size`` fresh results, in
   one transaction, as a run stores them), timed from call to commit;
2. **pruning alone**: the results older than 21 days pruned in batches of
   :data:`harness.pipeline.prune.PRUNE_BATCH`, each batch timed from its call to its
   commit; with nothing else writing, that is how long a batch holds the write lock
   (SQLite's, the only writer) or its rows (PostgreSQL, where a batch takes no lock a
   run takes);
3. **runs while pruning**: pruning on to 14 days (the default raw retention) in a
   background task paced as ``harness serve`` paces it (:data:`PRUNE_PAUSE` between
   batches), while runs are written one after another (up to ``DURING`` x ``runs``);
   only runs that started while pruning went on are counted.

Figures are medians and maxima in milliseconds; the machine is shared, so they are
noisy, and a maximum is one sample.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from typing import Any

from harness.bench.distribution import median
from harness.bench.synthetic import synthetic_results
from harness.pipeline.prune import PRUNE_BATCH, PRUNE_PAUSE, prune_expired
from harness.policy.retention import DEFAULT_RAW, Retention
from harness.store import open_store
from harness.store.base import Store

RUN_SIZE = 100
"""Results per run written: about a 90-target run."""

RUNS = 20
"""Runs written alone, and at least as many while pruning (when pruning lasts)."""

DURING = 5
"""Runs written while pruning, in multiples of ``runs`` (at most; fewer when it ends)."""

_FIRST_CUT = timedelta(days=21)
_BETWEEN_RUNS = 0.02


async def prune_beside_runs(
    where: str, *, now: datetime, runs: int = RUNS, run_size: int = RUN_SIZE
) -> dict[str, Any]:
    """The three phases of the module on the store at ``where``; their figures."""
    async with open_store(where) as store:
        alone = [await _run(store, now, n, run_size) for n in range(runs)]
        batches: list[float] = []
        first = await prune_expired(
            store,
            Retention(raw=_FIRST_CUT),
            now=now,
            on_batch=lambda rows, seconds: batches.append(seconds * 1000) if rows else None,
        )
        during: list[float] = []
        pruning = asyncio.create_task(
            prune_expired(store, Retention(raw=DEFAULT_RAW), now=now, pause=PRUNE_PAUSE)
        )
        n = runs
        while not pruning.done() and len(during) < runs * DURING:
            during.append(await _run(store, now, n, run_size))
            n += 1
            await asyncio.sleep(_BETWEEN_RUNS)
        second = await pruning
    return {
        "batch_rows": PRUNE_BATCH,
        "run_size": run_size,
        "pruned_alone": first,
        "batches": len(batches),
        "batch_ms": _summary(batches),
        "pruned_beside_runs": second,
        "run_ms_alone": _summary(alone),
        "run_ms_while_pruning": _summary(during),
    }


async def _run(store: Store, now: datetime, n: int, size: int) -> float:
    """Write run ``n`` (``size`` results just after ``now``); milliseconds to its commit."""
    results = list(
        synthetic_results(size, now=now + timedelta(minutes=n + 1), span=timedelta(minutes=1))
    )
    start = time.perf_counter()
    await store.add_results(results)
    return (time.perf_counter() - start) * 1000


def _summary(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0, "median": None, "max": None}
    return {"n": len(values), "median": round(median(values), 2), "max": round(max(values), 2)}
