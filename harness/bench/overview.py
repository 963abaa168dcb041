"""The page with hundreds of targets: rendered by the harness, then shown by a real browser.

1. A fresh store in a temporary directory gets a synthetic fleet
   (:mod:`harness.bench.fleet`: ``targets`` targets, three models to a provider,
   a full history bar each); the page is read from it and rendered, once cold and
   ``repeats`` times warm.
2. When Playwright and Debian's Chromium are both installed (they come with the
   test extra and ``apt-get install chromium``), the static report is opened
   ``loads`` times from its file, each in a fresh browser context: the navigation's
   DOMContentLoaded, load and first contentful paint, then how long a text filter,
   a sort by latency and opening a provider's details take to reach the next frame.
   Without them, the browser figures are left out with the reason.
"""

from __future__ import annotations

import asyncio
import importlib.util
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.bench.distribution import median
from harness.bench.fleet import fleet, fleet_results
from harness.policy.status import Thresholds, replay
from harness.report import read_page, render_page
from harness.settings.config import ProviderSettings, Settings
from harness.store import open_store
from providers import PROVIDERS

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
"""As the browser tests launch it: no sandbox for root, and no reaching out."""


def frame_timed(step: str) -> str:
    """A page function running ``step`` (a JS function) and returning the milliseconds
    until the second frame after it: the change laid out and painted."""
    return f"""async () => {{
  const frame = () => new Promise((done) => requestAnimationFrame(() => done()));
  const start = performance.now();
  ({step})();
  await frame();
  await frame();
  return performance.now() - start;
}}"""


LOAD_JS = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const paint = performance.getEntriesByType("paint")
    .find(p => p.name === "first-contentful-paint");
  return {dom_content_loaded_ms: nav.domContentLoadedEventEnd, load_ms: nav.loadEventEnd,
          first_contentful_paint_ms: paint ? paint.startTime : null};
}"""
STEPS = {
    "filter_ms": """() => { const q = document.getElementById("filter-text");
        q.value = "ba"; q.dispatchEvent(new Event("input", {bubbles: true})); }""",
    "sort_ms": """() => { const s = document.getElementById("sort-key");
        s.value = "latency"; s.dispatchEvent(new Event("input", {bubbles: true})); }""",
    "open_details_ms": """() => {
        document.querySelector("#providers > details:not([hidden])").open = true; }""",
}


def browser_missing() -> str | None:
    """Why the browser half cannot run here, or None when it can."""
    if importlib.util.find_spec("playwright") is None:
        return "Playwright is not installed (pip install -e '.[test]')"
    if not CHROMIUM.is_file():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


async def _fleet_page(folder: Path, targets: int, repeats: int) -> tuple[str, dict[str, Any]]:
    settings = Settings(
        data_dir=folder,
        providers={name: ProviderSettings(enabled=False) for name in PROVIDERS},
    )
    now = datetime.now(UTC)
    results = list(fleet_results(fleet(targets), now=now))
    read: list[float] = []
    render: list[float] = []
    async with open_store(settings.store_url) as store:
        await store.add_results(results)
        statuses, flips = replay(results, Thresholds())
        await store.save_statuses(list(statuses.values()), flips)
        for _ in range(1 + repeats):
            start = time.perf_counter()
            page = await read_page(store, settings, now=now)
            middle = time.perf_counter()
            html = render_page(page)
            read.append((middle - start) * 1000)
            render.append((time.perf_counter() - middle) * 1000)
    return html, {
        "targets": targets,
        "providers": len(page.providers),
        "html_kb": round(len(html.encode()) / 1024, 1),
        "read_ms": {"cold": round(read[0], 1), "warm": round(median(read[1:] or read), 1)},
        "render_ms": {"cold": round(render[0], 1), "warm": round(median(render[1:] or render), 1)},
    }


PageSteps = Callable[[Any], Awaitable[dict[str, float]]]
"""Timed steps on a loaded page (a Playwright ``Page``): figure name -> milliseconds."""


async def browser_loads(url: str, loads: int, steps: PageSteps) -> dict[str, Any]:
    """Load ``url`` ``loads`` times in Chromium, each in a fresh context, timing the load
    and then ``steps``; the medians of every figure, with the number of loads."""
    from playwright.async_api import async_playwright

    samples: list[dict[str, float]] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
        )
        try:
            for _ in range(loads):
                context = await browser.new_context(viewport={"width": 1280, "height": 900})
                page = await context.new_page()
                await page.goto(url, wait_until="load")
                figures = {k: v for k, v in (await page.evaluate(LOAD_JS)).items() if v is not None}
                figures.update(await steps(page))
                samples.append(figures)
                await context.close()
        finally:
            await browser.close()
    names = dict.fromkeys(name for sample in samples for name in sample)
    return {
        "loads": loads,
        **{n: round(median([s[n] for s in samples if n in s]), 1) for n in names},
    }


async def _steps(page: Any) -> dict[str, float]:
    return {name: await page.evaluate(frame_timed(step)) for name, step in STEPS.items()}


def overview_at_scale(*, targets: int, repeats: int, loads: int) -> dict[str, Any]:
    """Render the page of a ``targets``-target fleet and, where a browser is available,
    load it ``loads`` times; the figures (medians for the warm and browser ones)."""
    with tempfile.TemporaryDirectory(prefix="harness-bench-overview-") as folder:
        html, server = asyncio.run(_fleet_page(Path(folder), targets, repeats))
        missing = browser_missing()
        if missing is not None:
            return {"server": server, "browser": None, "browser_skipped": missing}
        report = Path(folder) / "index.html"
        report.write_text(html, encoding="utf-8")
        return {
            "server": server,
            "browser": asyncio.run(browser_loads(report.as_uri(), loads, _steps)),
        }
