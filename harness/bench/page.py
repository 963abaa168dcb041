"""The live page of a fleet, served: what its first response costs, what a refresh
sends, and how fast Chromium shows it and opens a provider.

A fresh store in a temporary directory gets a synthetic fleet
(:mod:`harness.bench.fleet`, three models to a provider); the live page's app (made by
the ``app`` callable the caller passes, as this layer does not import the web one)
serves it on 127.0.0.1. Then:

1. The overview is built in-process as the app builds it (:class:`LiveOverview`
   and :func:`render_live_page`): once cold (every provider read), ``repeats`` times
   with nothing changed, and ``repeats`` times after one provider's run landed, counting
   the store reads of each.
2. Over HTTP, as a browser asks (gzip accepted): the first response's size on the
   wire and its time; a refresh when nothing changed (304, nothing sent) and after
   one provider's run (only its row); a provider's details.
3. ``/api/status`` and ``/metrics``: the CPU time of this process per request (the
   server's work, and the client's reading of the answer, small beside it) with
   nothing new and after one provider's run, and their sizes; in-process, the status
   document built cold, and read in full as every request did before it was kept
   (:func:`read_page`, :func:`status_document`, indented JSON, gzip).
4. When Playwright and Chromium are installed, the page is loaded ``loads`` times,
   each in a fresh context: DOMContentLoaded, load, first contentful paint, then the
   time to open a provider (its details fetched and painted), filter and sort.

:func:`page_figures` is the public entry; its figures are medians where repeated.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from harness.bench.distribution import median
from harness.bench.fleet import fleet, fleet_results
from harness.bench.overview import STEPS, browser_loads, browser_missing, frame_timed
from harness.policy.status import Thresholds, replay
from harness.report import LiveOverview, LiveStatus, read_page, render_live_page, status_document
from harness.result import ProbeResult
from harness.settings.config import ProviderSettings, Settings
from harness.store import open_store
from harness.store.base import Store
from providers import PROVIDERS

AppFactory = Callable[[Settings], web.Application]
"""Makes the live page's app serving the store of the settings, without probing."""

OPEN_JS = """async (name) => {
  const frame = () => new Promise((done) => requestAnimationFrame(() => done()));
  const row = document.querySelector(`#providers > details[data-provider="${name}"]`);
  const start = performance.now();
  row.open = true;
  while (!row.querySelector(".provider-details")) await frame();
  await frame();
  await frame();
  return performance.now() - start;
}"""
"""Open a provider's row; milliseconds until its fetched details are laid out and painted."""


class _Counting:
    """A store whose awaited reads are counted (what one page costs in queries)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._store, name)

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return await method(*args, **kwargs)

        return counted


def _kb(size: int) -> float:
    return round(size / 1024, 1)


def _one_run(results: list[ProbeResult], provider: str, at: datetime) -> list[ProbeResult]:
    """A new run of ``provider``: its newest result per model again, at ``at``."""
    newest = {r.model: r for r in results if r.provider == provider}
    return [replace(r, started_at=at, run_id=f"bench-{at.timestamp()}") for r in newest.values()]


async def _timed(work: Callable[[], Awaitable[Any]]) -> float:
    start = time.perf_counter()
    await work()
    return (time.perf_counter() - start) * 1000


async def _build(
    settings: Settings, results: list[ProbeResult], repeats: int, now: datetime
) -> dict[str, Any]:
    """In-process builds of the overview: cold, unchanged, after one provider's run."""
    provider = results[-1].provider
    async with open_store(settings.store_url) as store:
        counting = _Counting(store)
        overview = LiveOverview(settings)

        async def build() -> None:
            made = await overview.read(counting, now=now)
            render_live_page(made.page, refresh_s=5.0, rows=made.rows)

        cold_calls = counting.calls
        cold = await _timed(build)
        cold_calls = counting.calls - cold_calls
        unchanged: list[float] = []
        warm_calls = 0
        for _ in range(repeats):
            before = counting.calls
            unchanged.append(await _timed(build))
            warm_calls = counting.calls - before
        after_run: list[float] = []
        for n in range(repeats):
            await store.add_results(_one_run(results, provider, now - timedelta(seconds=n + 1)))
            after_run.append(await _timed(build))
    return {
        "cold": round(cold, 1),
        "unchanged": round(median(unchanged), 1),
        "after_one_run": round(median(after_run), 1),
        "store_reads": {"cold": cold_calls, "unchanged": warm_calls},
    }


async def _http(
    base: str, settings: Settings, results: list[ProbeResult], repeats: int
) -> dict[str, Any]:
    """The first response, refreshes and a provider's details, as a browser gets them."""
    gz = {"Accept-Encoding": "gzip"}
    first: list[float] = []
    async with aiohttp.ClientSession(auto_decompress=False) as http:

        async def get(path: str, headers: dict[str, str]) -> tuple[int, bytes, CIMultiDict[str]]:
            async with http.get(f"{base}{path}", headers=headers) as response:
                return response.status, await response.read(), CIMultiDict(response.headers)

        for _ in range(repeats):
            start = time.perf_counter()
            _, body, headers = await get("/", gz)
            first.append((time.perf_counter() - start) * 1000)
        whole = gzip.decompress(body) if headers.get("Content-Encoding") == "gzip" else body
        _, fragment, headers = await get("/fragment", gz)
        etag = headers["ETag"]
        unchanged, nothing, _ = await get("/fragment", {**gz, "If-None-Match": etag})
        provider = results[-1].provider
        async with open_store(settings.store_url) as store:
            await store.add_results(_one_run(results, provider, datetime.now(UTC)))
        changed, delta, _ = await get("/fragment", {**gz, "If-None-Match": etag})
        start = time.perf_counter()
        _, details, _ = await get(f"/provider/{provider}/details", gz)
        details_ms = (time.perf_counter() - start) * 1000
    return {
        "first_kb": _kb(len(whole)),
        "first_kb_gzip": _kb(len(body)),
        "first_ms": round(median(first), 1),
        "fragment_kb_gzip": _kb(len(fragment)),
        "refresh_unchanged": {"status": unchanged, "kb_gzip": _kb(len(nothing))},
        "refresh_one_run": {"status": changed, "kb_gzip": _kb(len(delta))},
        "details_kb_gzip": _kb(len(details)),
        "details_ms": round(details_ms, 1),
    }


def _cpu_ms_since(start: float) -> float:
    return round((time.process_time() - start) * 1000, 1)


async def _status_in_process(settings: Settings, repeats: int, now: datetime) -> dict[str, float]:
    """CPU ms of the status document built cold (kept, then gzip), and of its reading
    in full as every request did before (median of ``repeats``)."""
    async with open_store(settings.store_url) as store:
        start = time.process_time()
        text = await LiveStatus(settings).read(store, now=now)
        gzip.compress(text.body)
        cold = _cpu_ms_since(start)
        full = []
        for _ in range(repeats):
            start = time.process_time()
            page = await read_page(store, settings, now=now)
            gzip.compress(json.dumps(status_document(page), indent=2).encode())
            full.append(_cpu_ms_since(start))
    return {"cold_cpu_ms": cold, "read_in_full_cpu_ms": median(full)}


async def _api(
    base: str, settings: Settings, results: list[ProbeResult], repeats: int
) -> dict[str, Any]:
    """``/api/status`` and ``/metrics`` over HTTP (gzip accepted): CPU ms of this
    process per request, medians of ``repeats``, and what is sent."""
    gz = {"Accept-Encoding": "gzip"}
    provider = results[0].provider
    async with aiohttp.ClientSession(auto_decompress=False) as http:

        async def cpu_of(path: str) -> tuple[float, bytes, CIMultiDict[str]]:
            start = time.process_time()
            async with http.get(f"{base}{path}", headers=gz) as response:
                body = await response.read()
            return _cpu_ms_since(start), body, CIMultiDict(response.headers)

        await cpu_of("/api/status")  # the server's warm-up done, whichever came first
        unchanged = [(await cpu_of("/api/status"))[0] for _ in range(repeats)]
        after_run = []
        for _ in range(repeats):
            async with open_store(settings.store_url) as store:
                await store.add_results(_one_run(results, provider, datetime.now(UTC)))
            after_run.append((await cpu_of("/api/status"))[0])
        _, body, headers = await cpu_of("/api/status")
        etag = headers["ETag"]
        async with http.get(f"{base}/api/status", headers={**gz, "If-None-Match": etag}) as again:
            not_modified = again.status
        metrics = [await cpu_of("/metrics") for _ in range(repeats)]
    whole = gzip.decompress(body) if headers.get("Content-Encoding") == "gzip" else body
    _, metrics_body, metrics_headers = metrics[-1]
    metrics_whole = (
        gzip.decompress(metrics_body)
        if metrics_headers.get("Content-Encoding") == "gzip"
        else metrics_body
    )
    return {
        "status_kb": _kb(len(whole)),
        "status_kb_gzip": _kb(len(body)),
        "status_unchanged_cpu_ms": median(unchanged),
        "status_after_one_run_cpu_ms": median(after_run),
        "status_etag_matched": not_modified,
        "metrics_kb": _kb(len(metrics_whole)),
        "metrics_kb_gzip": _kb(len(metrics_body)),
        "metrics_cpu_ms": median([cpu for cpu, _, _ in metrics]),
    }


async def _browser(base: str, provider: str, loads: int) -> dict[str, Any]:
    async def steps(page: Any) -> dict[str, float]:
        figures = {"open_provider_ms": await page.evaluate(OPEN_JS, provider)}
        for name, step in STEPS.items():
            if name != "open_details_ms":
                figures[name] = await page.evaluate(frame_timed(step))
        return figures

    return await browser_loads(f"{base}/", loads, steps)


async def _measure(
    folder: Path, targets: int, repeats: int, loads: int, app: AppFactory
) -> dict[str, Any]:
    settings = Settings(
        data_dir=folder,
        providers={name: ProviderSettings(enabled=False) for name in PROVIDERS},
    )
    now = datetime.now(UTC)
    results = list(fleet_results(fleet(targets), now=now - timedelta(minutes=1)))
    async with open_store(settings.store_url) as store:
        await store.add_results(results)
        statuses, flips = replay(results, Thresholds())
        await store.save_statuses(list(statuses.values()), flips)
    figures: dict[str, Any] = {
        "targets": targets,
        "providers": len({r.provider for r in results}),
        "build_ms": await _build(settings, results, repeats, now),
    }
    runner = web.AppRunner(app(settings), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        base = f"http://{host}:{port}"
        figures["http"] = await _http(base, settings, results, repeats)
        figures["api"] = {
            **await _status_in_process(settings, repeats, now),
            **await _api(base, settings, results, repeats),
        }
        missing = browser_missing()
        if missing is None:
            figures["browser"] = await _browser(base, results[0].provider, loads)
        else:
            figures["browser"] = None
            figures["browser_skipped"] = missing
    finally:
        await runner.cleanup()
    return figures


def page_figures(*, targets: int, repeats: int, loads: int, app: AppFactory) -> dict[str, Any]:
    """The live page of a ``targets``-target fleet served by ``app``: its build (cold,
    unchanged, after one run; with its store reads), what goes over HTTP (first response
    and refreshes, gzip), what ``/api/status`` and ``/metrics`` cost, and where a
    browser is available, ``loads`` loads in Chromium with the time to open a provider.
    Medians where repeated."""
    with tempfile.TemporaryDirectory(prefix="harness-bench-page-") as folder:
        return asyncio.run(_measure(Path(folder), targets, repeats, loads, app))
