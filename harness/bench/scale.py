"""The prober at a thousand targets, with and without people looking at its page.

1. The synthetic fleet (:mod:`harness.bench.fleet`) becomes configured OpenAI-compatible
   endpoints, one per made-up provider with its models, every one pointed at the
   emulators, which run in a process of their own and answer with the benchmark's
   latency (:data:`~harness.bench.workload.LATENCY`). A fresh store gets the fleet's
   history, so the page has its full size from the start.
2. **One run**: every target once through the runner with ``--concurrency auto``, as
   ``harness probe --all`` does: its wall time, loop-lag p95, timing-suspect share and
   ttfc p95.
3. **Served**: ``harness serve``, the command itself in a process of its own (with a
   settings file written for the fleet), probes it every ``interval`` seconds (``auto``
   concurrency, phases spread over the interval). After ``warmup``
   seconds, the results stored during ``window`` seconds give the figures, once with
   nobody looking and once with ``viewers`` viewers (:mod:`harness.bench.viewers`)
   refreshing the page, the JSON status, the feed and the metrics every second;
   the two alternate ``repeats`` times and each figure is the median of its runs.

The page's own figures at this size (its weight, build time, a browser's) come from
the function given as ``page`` to :func:`scale_at`, run over the same fleet's store.
"""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import tomli_w

from harness.bench.distribution import Spread, median
from harness.bench.errors import BenchError
from harness.bench.fleet import fleet, fleet_results
from harness.bench.viewers import Views, view
from harness.bench.workload import LATENCY, emulator_process, private_cache
from harness.emulator import openai
from harness.emulator.faults import OPENAI
from harness.policy.status import Thresholds, replay
from harness.probing import eventloop
from harness.probing.runner import AUTO, plan, run
from harness.result import ProbeResult, Source
from harness.settings.config import Settings, load_settings
from harness.store import open_store
from harness.targets.endpoints import endpoint_provider
from providers.registry import BUILTIN

MODELS_PER_PROVIDER = 6
"""Models to an endpoint: every model the fleet knows, so a thousand targets are 167
runs of ``serve`` (one per provider), each recorded at what it holds (see
:mod:`harness.bench.record`)."""

REFRESH_S = 1.0
"""How often each viewer refreshes."""

CONDITIONS = ("no_viewers", "with_viewers")
"""The two ways the app is served: alone, and looked at."""

SERVE_START_TIMEOUT_S = 60.0
SERVE_STOP_TIMEOUT_S = 60.0

PageFigures = Callable[[Settings], dict[str, Any]]
"""The page's figures over the fleet's store (``Settings.store_url``)."""


def fleet_config(folder: Path, emulator_url: str, targets: int, interval: float) -> dict[str, Any]:
    """The settings file probing ``targets`` fleet targets as configured endpoints at the
    emulators (the built-in providers off), served every ``interval`` seconds with
    phases spread over all of it, at ``auto`` concurrency, as TOML-ready data. Pure."""
    models: dict[str, list[str]] = defaultdict(list)
    for target in fleet(targets, per_provider=MODELS_PER_PROVIDER):
        models[endpoint_name(target.provider)].append(target.model)
    return {
        "data_dir": str(folder),
        "concurrency": AUTO,
        "serve": {"interval": interval, "jitter": interval},
        "providers": {name: {"enabled": False} for name in BUILTIN},
        "endpoints": {
            name: {"base_url": openai.base_url(emulator_url, name), "models": ms}
            for name, ms in models.items()
        },
    }


def endpoint_name(provider: str) -> str:
    """The fleet's ``g4f.Name`` as an endpoint's name (no dot). Pure."""
    return provider.removeprefix("g4f.")


async def _fill(settings: Settings, targets: int) -> None:
    renamed = [dataclasses.replace(t, provider=endpoint_name(t.provider)) for t in fleet(targets)]
    results = list(fleet_results(renamed, now=datetime.now(UTC)))
    async with open_store(settings.store_url) as store:
        await store.add_results(results)
        statuses, flips = replay(results, Thresholds())
        await store.save_statuses(list(statuses.values()), flips)


def result_figures(results: Sequence[ProbeResult], budget_ms: float) -> dict[str, Any]:
    """Loop-lag p95, the timing-suspect share (% of results with a lag), ttfc p95 of the
    passes, and how many results there were. Pure."""
    lags = [r.loop_lag_ms for r in results if r.loop_lag_ms is not None]
    ttfc = [r.ttfc_ms for r in results if r.ok and r.ttfc_ms is not None]
    return {
        "results": len(results),
        "passed": sum(r.ok for r in results),
        "loop_lag_p95_ms": round(Spread.of(lags).p95, 3) if lags else None,
        "timing_suspect_pct": (
            round(100 * sum(lag > budget_ms for lag in lags) / len(lags), 2) if lags else None
        ),
        "ttfc_p95_ms": round(Spread.of(ttfc).p95, 3) if ttfc else None,
    }


def run_walls_s(results: Sequence[ProbeResult]) -> list[float]:
    """Each run's wall time: its first probe's start to its last probe's end. Pure."""
    spans: dict[str, tuple[datetime, datetime]] = {}
    for r in results:
        end = r.started_at + timedelta(milliseconds=r.total_ms or 0.0)
        first, last = spans.get(r.run_id, (r.started_at, end))
        spans[r.run_id] = (min(first, r.started_at), max(last, end))
    return [(last - first).total_seconds() for first, last in spans.values()]


async def _one_run(settings: Settings) -> dict[str, Any]:
    # The endpoints' provider classes, not registered: this process's own stay as they are.
    providers = [endpoint_provider(name, e) for name, e in settings.endpoints.items()]
    targets = plan(providers, prompts=("ping",))
    start = time.perf_counter()
    outcome = await run(
        targets,
        concurrency=AUTO,
        per_provider=settings.per_provider,
        source=Source.SANDBOX,
        lag_budget_ms=settings.timing.lag_budget_ms,
    )
    wall = time.perf_counter() - start
    limits = [r.concurrency for r in outcome.results if r.concurrency]
    return {
        **result_figures(outcome.results, settings.timing.lag_budget_ms),
        "wall_s": round(wall, 3),
        "in_flight_limit": {"min": min(limits), "max": max(limits)} if limits else None,
    }


@asynccontextmanager
async def serving(config: Path) -> AsyncIterator[str]:
    """``harness serve`` with the settings file ``config``, on a free port, in a process
    of its own; yields its page's URL, and stops it with SIGTERM (gracefully)."""
    command = (sys.executable, "-m", "harness", "--config", str(config), "serve", "--port", "0")
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        assert process.stdout is not None
        try:
            line = await asyncio.wait_for(process.stdout.readline(), SERVE_START_TIMEOUT_S)
        except TimeoutError:
            raise BenchError("harness serve did not start listening in time") from None
        _, found, rest = line.decode().partition("status page at ")
        if not found:
            raise BenchError(f"harness serve exited before listening ({process.returncode})")
        yield rest.split()[0]
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), SERVE_STOP_TIMEOUT_S)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _served(
    config: Path, settings: Settings, *, viewer_count: int, warmup: float, window: float
) -> dict[str, Any]:
    views = Views()
    async with serving(config) as url:
        looking = (
            asyncio.create_task(view(url, viewer_count, period=REFRESH_S, views=views))
            if viewer_count
            else None
        )
        await asyncio.sleep(warmup)
        since = datetime.now(UTC)
        await asyncio.sleep(window)
        until = datetime.now(UTC)
        if looking is not None:
            looking.cancel()
            with suppress(asyncio.CancelledError):
                await looking
    async with open_store(settings.store_url) as store:
        newest = await store.results(limit=len(settings.endpoints) * 64 * (1 + int(window)))
    inside = [r for r in newest if since <= r.started_at < until]
    walls = run_walls_s(inside)
    return {
        **result_figures(inside, settings.timing.lag_budget_ms),
        "probes_per_s": round(len(inside) / window, 2),
        "run_wall_p50_s": round(median(walls), 3) if walls else None,
        "views": views.to_dict() if viewer_count else None,
    }


FIGURES = (
    "loop_lag_p95_ms",
    "timing_suspect_pct",
    "ttfc_p95_ms",
    "probes_per_s",
    "run_wall_p50_s",
)
"""The served figures compared between the conditions."""


def medians(runs: Sequence[dict[str, Any]], names: Sequence[str]) -> dict[str, Any]:
    """Each named figure's median over ``runs`` (``None`` where no run had it), and its
    range (max - min): the run-to-run noise. Pure."""
    figures: dict[str, Any] = {"runs": len(runs)}
    for name in names:
        values = [r[name] for r in runs if r.get(name) is not None]
        figures[name] = round(median(values), 3) if values else None
        figures[f"{name}_range"] = round(max(values) - min(values), 3) if values else None
    return figures


def _alternating(repeats: int) -> Iterator[str]:
    for number in range(repeats):
        # Who goes first alternates, so neither always meets a warmer machine.
        yield from CONDITIONS if number % 2 == 0 else reversed(CONDITIONS)


def scale_at(
    *,
    targets: int,
    viewer_count: int,
    interval: float,
    warmup: float,
    window: float,
    repeats: int,
    page: PageFigures | None = None,
) -> dict[str, Any]:
    """The figures of the module docstring (``page``: the page's, over the same store)."""
    with (
        private_cache(),
        emulator_process({OPENAI: LATENCY.spec()}) as emulator,
        tempfile.TemporaryDirectory(prefix="harness-bench-scale-") as folder,
    ):
        config = Path(folder) / "harness.toml"
        config.write_text(
            tomli_w.dumps(fleet_config(Path(folder), emulator.url, targets, interval)),
            encoding="utf-8",
        )
        settings = load_settings(config)
        asyncio.run(_fill(settings, targets))
        one_runs = [eventloop.run(_one_run(settings)) for _ in range(repeats)]
        served: dict[str, list[dict[str, Any]]] = {name: [] for name in CONDITIONS}
        for condition in _alternating(repeats):
            count = viewer_count if condition == "with_viewers" else 0
            served[condition].append(
                asyncio.run(
                    _served(config, settings, viewer_count=count, warmup=warmup, window=window)
                )
            )
        document: dict[str, Any] = {
            "targets": sum(len(e.models) for e in settings.endpoints.values()),
            "providers": len(settings.endpoints),
            "viewers": viewer_count,
            "refresh_s": REFRESH_S,
            "interval_s": interval,
            "window_s": window,
            "repeats": repeats,
            "loop": eventloop.chosen_loop(),
            "lag_budget_ms": settings.timing.lag_budget_ms,
            "latency": LATENCY.describe(),
            "one_run": medians(
                one_runs, ("wall_s", "loop_lag_p95_ms", "timing_suspect_pct", "ttfc_p95_ms")
            ),
            **{name: medians(runs, FIGURES) for name, runs in served.items()},
            "views": [run["views"] for run in served["with_viewers"]],
        }
        if page is not None:
            document["page"] = page(settings)
        return document
