"""What recording one run costs beside a fleet: the store's decision and the flags file.

``harness serve`` runs one job per provider. After each, :func:`~harness.pipeline.run.record`
stores the run's results, decides its targets' states (the status policy, consensus,
flips, alerts, incidents) in one transaction on the store's thread, and writes the
flags file. That is Python holding the interpreter lock while other probes are being
timed, so it must grow with the run, not with the store.

1. A fresh store (SQLite in a temporary directory, or a scratch schema of a PostgreSQL
   database) gets a few rounds of the synthetic fleet's results
   (:mod:`harness.bench.fleet`: ``targets`` made-up targets, :data:`MODELS_PER_PROVIDER`
   to a provider), recorded once, so that every target has its shown and vantage
   statuses and every provider its entry in the flags file.
2. ``runs`` runs of one provider each (one fresh result per model), the providers in
   turn, are recorded one after another through ``record``, each timed from its call
   to its return; the figures are the median and the maximum, in milliseconds. The
   machine is shared, so they are noisy, and a maximum is one sample.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from harness.bench.distribution import median
from harness.bench.fleet import FleetTarget, fleet, fleet_results
from harness.pipeline.run import record
from harness.settings.config import Settings
from harness.store import open_store

MODELS_PER_PROVIDER = 6
"""Models to a provider, as in the scale benchmark's fleet: one run records six targets."""

HISTORY = 3
"""Results per target recorded before the runs are measured."""

_BETWEEN_RUNS = timedelta(seconds=1)


async def record_beside_fleet(where: str, *, targets: int, runs: int) -> dict[str, Any]:
    """Steps 1 and 2 of the module on a new store at ``where``; the figures."""
    now = datetime.now(UTC)
    chosen = fleet(targets, per_provider=MODELS_PER_PROVIDER)
    by_provider: dict[str, list[FleetTarget]] = {}
    for target in chosen:
        by_provider.setdefault(target.provider, []).append(target)
    providers = list(by_provider)
    spent: list[float] = []
    with tempfile.TemporaryDirectory(prefix="harness-bench-record-") as folder:
        settings = Settings(data_dir=Path(folder))
        async with open_store(where) as store:
            history = list(fleet_results(chosen, now=now, per_target=HISTORY))
            await record(settings, store, history)
            for n in range(runs):
                at = now + _BETWEEN_RUNS * (n + 1)
                mine = by_provider[providers[n % len(providers)]]
                results = [
                    replace(result, run_id=f"bench-record-{n}")
                    for result in fleet_results(mine, now=at, per_target=1, seed=n)
                ]
                start = time.perf_counter()
                await record(settings, store, results)
                spent.append((time.perf_counter() - start) * 1000)
    return {
        "targets": len(chosen),
        "providers": len(providers),
        "run_targets": MODELS_PER_PROVIDER,
        "runs": runs,
        "record_ms": {
            "median": round(median(spent), 2) if spent else None,
            "max": round(max(spent), 2) if spent else None,
        },
    }
