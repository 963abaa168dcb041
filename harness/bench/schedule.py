"""The schedule's period as the upstream sees it: how far apart each target's probes
arrive, against the ``interval`` configured.

``targets`` OpenAI-compatible endpoints (one model each) are scheduled by the real
:class:`~harness.pipeline.scheduler.ProbeScheduler` of ``harness serve`` at a short
``interval``, phases spread by ``jitter``, every run going through the whole pipeline
(runner, store, status policy) against an in-process emulator. The emulator notes when
each chat request arrives; a target's gaps are the differences of its arrival times
after the first, and its period their mean. Several runs; their median is the figure.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from harness.emulator import Emulator, FaultSpec
from harness.emulator.state import Handler
from harness.pipeline.scheduler import ProbeScheduler, probe_provider, schedule_of
from harness.probing.eventloop import run
from harness.settings.config import Settings
from harness.settings.tiers import Tier
from harness.store import open_store
from harness.targets.endpoints import install_endpoints
from providers import PROVIDERS

CHAT_PATH = "/v1/chat/completions"
ANSWER = FaultSpec(first_chunk_delay=0.050, chunk_delay=0.010, pieces=5)
"""Each answer's latency: as the other benchmarks' emulators answer."""
GOAL_RATIO = 0.02
"""The issue's goal: the measured mean period within 2 % of the interval."""


def target_names(count: int) -> list[str]:
    """The endpoints' names: ``t000``, ``t001``, ..."""
    return [f"t{i:03d}" for i in range(count)]


def gaps_by_target(arrivals: Mapping[str, Sequence[float]]) -> dict[str, list[float]]:
    """Each target's gaps between consecutive arrivals (seconds). Pure."""
    return {
        name: [later - earlier for earlier, later in itertools.pairwise(times)]
        for name, times in arrivals.items()
    }


def period_figures(gaps: Mapping[str, Sequence[float]], interval: float) -> dict[str, Any]:
    """One run's figures: the mean of every target's mean gap, the spread of those means,
    and the single gaps' extremes (targets with no gap yet are left out). Pure."""
    means = [statistics.fmean(g) for g in gaps.values() if g]
    every = [gap for g in gaps.values() for gap in g]
    if not means:
        return {"targets_measured": 0, "mean_gap_s": None}
    mean = statistics.fmean(means)
    return {
        "targets_measured": len(means),
        "gaps": len(every),
        "mean_gap_s": round(mean, 4),
        "target_mean_gap_s": {"min": round(min(means), 4), "max": round(max(means), 4)},
        "gap_s": {"min": round(min(every), 4), "max": round(max(every), 4)},
        "off_by": round(mean / interval - 1, 5),
    }


def summary(runs: Sequence[Mapping[str, Any]], interval: float) -> dict[str, Any]:
    """The median over runs of the mean gap, its ratio to the interval, and whether it is
    within :data:`GOAL_RATIO`. Pure."""
    means = [r["mean_gap_s"] for r in runs if r.get("mean_gap_s") is not None]
    if not means:
        return {"median_mean_gap_s": None, "within_goal": False}
    median = statistics.median(means)
    off_by = median / interval - 1
    return {
        "median_mean_gap_s": round(median, 4),
        "off_by": round(off_by, 5),
        "within_goal": abs(off_by) <= GOAL_RATIO,
    }


def arrival_recorder(arrivals: dict[str, list[float]]) -> Middleware:
    """A middleware noting the arrival time of every endpoint's chat request, by name."""

    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        name, _, rest = request.path.lstrip("/").partition("/")
        if "/" + rest == CHAT_PATH:
            arrivals[name].append(time.monotonic())
        return await handler(request)

    return record


async def one_run(
    targets: int, interval: float, jitter: float, duration: float, directory: Path
) -> dict[str, Any]:
    """Schedule ``targets`` endpoints at ``interval`` for ``duration`` seconds; the figures."""
    names = target_names(targets)
    arrivals: dict[str, list[float]] = defaultdict(list)
    emulator = Emulator(faults=dict.fromkeys(names, ANSWER), endpoints=names)
    # Innermost: the time noted is when the request reached the upstream's handler.
    emulator.app.middlewares.append(arrival_recorder(arrivals))
    settings = Settings.model_validate(
        {
            "data_dir": str(directory / "data"),
            "connectivity": {"enabled": False},
            "concurrency": max(16, targets),
            "serve": {"interval": interval, "jitter": jitter},
            "providers": {name: {"enabled": False} for name in PROVIDERS},
            "endpoints": {
                name: {"base_url": f"https://{name}.invalid/v1", "models": ["m"]} for name in names
            },
        }
    )
    install_endpoints(settings)
    try:
        async with emulator, open_store(directory / "schedule.db") as store:

            async def job(provider: str, tier: Tier) -> None:
                await probe_provider(settings, store, provider, sandbox_url=emulator.url, tier=tier)

            scheduler = ProbeScheduler(job, schedule_of(settings, names), jitter=jitter)
            scheduler.start()
            try:
                await asyncio.sleep(duration)
            finally:
                await scheduler.stop(grace=interval)
    finally:
        install_endpoints(Settings())
    figures = period_figures(gaps_by_target(arrivals), interval)
    figures["overruns"] = sum(scheduler.overruns.values())
    return figures


def schedule_period(
    targets: int, interval: float, jitter: float, duration: float, runs: int
) -> dict[str, Any]:
    """``runs`` runs of :func:`one_run`, each in a fresh directory; every run's figures
    and their median."""
    figures = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="harness-bench-schedule-") as tmp:
            figures.append(run(one_run(targets, interval, jitter, duration, Path(tmp))))
    return {
        "targets": targets,
        "interval_s": interval,
        "jitter_s": jitter,
        "duration_s": duration,
        "runs": figures,
        **summary(figures, interval),
    }
