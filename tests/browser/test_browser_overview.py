"""The compact overview with 300 targets in a real browser: filter, sort, details, refresh.

The store holds a synthetic fleet (:mod:`harness.bench.fleet`): 300 targets, 100
providers, every state. The static report is loaded from a file; the live page is
served. Render times are printed, never asserted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from harness.bench.fleet import fleet, fleet_results
from harness.policy.status import State, Thresholds, replay
from harness.report import StatusPage, read_page, render_page
from harness.settings.config import ProviderSettings, Settings
from harness.store import open_store
from harness.web.app import build_app
from providers import PROVIDERS

pytestmark = pytest.mark.browser

AiohttpServer = Callable[[web.Application], Awaitable[TestServer]]
TARGETS = 300
REFRESH_S = 1.0
RECORD_CSP_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
"""


@dataclass(frozen=True)
class Fleet:
    """The store of 300 targets, its page as values, and its static report on disk."""

    settings: Settings
    page: StatusPage
    report: Path
    server_render_ms: float


async def _fill(settings: Settings) -> StatusPage:
    now = datetime.now(UTC)
    results = list(fleet_results(fleet(TARGETS), now=now))
    async with open_store(settings.store_url) as store:
        for start in range(0, len(results), 2000):
            await store.add_results(results[start : start + 2000])
        statuses, flips = replay(results, Thresholds())
        await store.save_statuses(list(statuses.values()), flips)
        return await read_page(store, settings, now=now)


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    """A store of 300 synthetic targets (the real providers switched off) and its report."""
    folder = tmp_path_factory.mktemp("fleet")
    settings = Settings(
        data_dir=folder / "data",
        providers={name: ProviderSettings(enabled=False) for name in PROVIDERS},
    )
    page = asyncio.run(_fill(settings))
    start = time.perf_counter()
    html = render_page(page)
    server_render_ms = (time.perf_counter() - start) * 1000
    report = folder / "index.html"
    report.write_text(html, encoding="utf-8")
    return Fleet(settings, page, report, server_render_ms)


class Visit:
    """A page in the browser, collecting console errors, uncaught exceptions and CSP
    violations (recorded by an init script, which the page's CSP does not govern)."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning"):
            self.errors.append(f"{message.type}: {message.text}")

    async def csp_violations(self) -> list[str]:
        violations: list[str] = await self.page.evaluate("window.__csp")
        return violations

    async def shown(self) -> list[dict[str, str]]:
        """The data attributes of the overview rows not hidden, in page order."""
        rows: list[dict[str, str]] = await self.page.eval_on_selector_all(
            "#providers > details:not([hidden])", "rows => rows.map(r => ({...r.dataset}))"
        )
        return rows


async def _open(browser: Any, url: str) -> tuple[Any, Visit]:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    await context.add_init_script(RECORD_CSP_VIOLATIONS)
    page = await context.new_page()
    page.set_default_timeout(10_000)
    seen = Visit(page)
    await page.goto(url, wait_until="load")
    return context, seen


@pytest.fixture
async def static(browser: Any, many: Fleet) -> AsyncIterator[Visit]:
    """The static report of the fleet, opened from its file."""
    context, seen = await _open(browser, many.report.as_uri())
    yield seen
    await context.close()


@pytest.fixture
async def live(browser: Any, many: Fleet, aiohttp_server: AiohttpServer) -> AsyncIterator[Visit]:
    """The live page of the fleet, refreshing every second."""
    app = build_app(
        many.settings,
        many.settings.store_url,
        interval=300,
        sandbox=False,
        admin_token=None,
        schedule=False,
        refresh=REFRESH_S,
    )
    server = await aiohttp_server(app)
    context, seen = await _open(browser, str(server.make_url("/")))
    yield seen
    await context.close()


async def test_the_overview_has_one_row_per_provider_and_every_target(
    static: Visit, many: Fleet, capsys: pytest.CaptureFixture[str]
) -> None:
    page = static.page
    timing = await page.evaluate(
        """() => {
          const nav = performance.getEntriesByType("navigation")[0];
          const paint = performance.getEntriesByType("paint");
          return {
            dom_content_loaded_ms: nav.domContentLoadedEventEnd,
            load_ms: nav.loadEventEnd,
            first_paint_ms: paint.find(p => p.name === "first-contentful-paint")?.startTime,
          };
        }"""
    )
    rows = page.locator("#providers > details")
    providers = {p.name for p in many.page.providers}

    assert sum(len(p.models) for p in many.page.providers) == TARGETS
    assert await rows.count() == len(providers) == 100
    assert await page.locator("#providers article[data-model]").count() == TARGETS
    assert await page.locator("#shown").text_content() == "100 of 100 providers shown"
    assert await page.locator("#providers > details[open]").count() == 0
    with capsys.disabled():
        kb = many.report.stat().st_size / 1024
        print(
            f"\n[page with {TARGETS} targets] html {kb:.0f} KiB, server render "
            f"{many.server_render_ms:.0f} ms, browser: "
            + ", ".join(f"{k} {v:.0f}" for k, v in timing.items() if v is not None)
        )


async def test_the_text_filter_matches_provider_and_model_names(static: Visit, many: Fleet) -> None:
    page = static.page
    some = many.page.providers[17]
    await page.get_by_label("Filter", exact=True).fill(some.name.upper())

    assert [r["provider"] for r in await static.shown()] == [some.name]
    assert await page.locator("#shown").text_content() == "1 of 100 providers shown"

    await page.get_by_label("Filter", exact=True).fill("mistral")
    expected = {
        p.name for p in many.page.providers if any(m.model == "mistral-large" for m in p.models)
    }
    assert {r["provider"] for r in await static.shown()} == expected

    await page.get_by_label("Filter", exact=True).fill("no such provider")
    assert await static.shown() == []
    assert await page.locator("#no-match").is_visible()


FLAGS = {"working": True, "not-working": False, "working-unknown": None}


@pytest.mark.parametrize("state", [*FLAGS, *(s.value for s in State)])
async def test_the_state_filter_shows_the_providers_with_that_state(
    static: Visit, many: Fleet, state: str
) -> None:
    def matches(provider: Any) -> bool:
        if state in FLAGS:
            return provider.working is FLAGS[state]
        return any(m.state.value == state for m in provider.models)

    await static.page.get_by_label("State", exact=True).select_option(state)

    assert {r["provider"] for r in await static.shown()} == {
        p.name for p in many.page.providers if matches(p)
    }


async def test_the_fleet_shows_every_common_state(many: Fleet) -> None:
    present = {m.state for p in many.page.providers for m in p.models}

    assert {State.UP, State.DEGRADED, State.THROTTLED, State.DOWN} <= present


def _order_key(row: dict[str, str], key: str) -> Any:
    if key == "name":
        return row["name"]
    if key == "state":
        return (int(row["rank"]), row["name"])
    ttfc = row["ttfc"]
    return (ttfc == "", float(ttfc) if ttfc else 0.0, row["name"])


@pytest.mark.parametrize("key", ["name", "state", "latency"])
async def test_sorting_orders_the_rows_by_each_key(static: Visit, key: str) -> None:
    await static.page.get_by_label("Sort by", exact=True).select_option(key)
    rows = await static.shown()

    assert rows == sorted(rows, key=lambda r: _order_key(r, key))
    assert len({r["name"] for r in rows}) == 100


async def test_reversed_sorting_keeps_unmeasured_latency_last(static: Visit) -> None:
    await static.page.get_by_label("Sort by", exact=True).select_option("latency")
    await static.page.get_by_label("reversed", exact=True).check()
    rows = await static.shown()
    measured = [float(r["ttfc"]) for r in rows if r["ttfc"]]

    assert measured == sorted(measured, reverse=True)
    assert all(not r["ttfc"] for r in rows[len(measured) :])


async def test_filters_and_sort_combine(static: Visit) -> None:
    page = static.page
    await page.get_by_label("State", exact=True).select_option("down")
    await page.get_by_label("Sort by", exact=True).select_option("latency")
    await page.get_by_label("Filter", exact=True).fill("g4f")
    rows = await static.shown()

    assert rows
    assert all("down" in r["states"].split() for r in rows)
    assert rows == sorted(rows, key=lambda r: _order_key(r, "latency"))


async def test_details_open_from_the_keyboard_with_every_model(static: Visit, many: Fleet) -> None:
    page = static.page
    provider = many.page.providers[3]
    row = page.locator(f'details[data-provider="{provider.name}"]')
    await row.locator("summary").focus()
    await page.keyboard.press("Enter")

    assert await row.evaluate("d => d.open") is True
    for model in provider.models:
        card = row.locator(f'article[data-model="{model.model}"]')
        assert await card.is_visible()
        facts = await card.locator(".facts").inner_text()
        for label in ("uptime 24h", "uptime 7d", "uptime 30d", "ttfc p50/p95", "total p50/p95"):
            assert label in facts
        assert await card.locator("svg.history rect").count() == 50

    await page.keyboard.press("Space")
    assert await row.evaluate("d => d.open") is False


async def test_a_link_to_a_provider_opens_its_details(browser: Any, many: Fleet) -> None:
    name = many.page.providers[5].name
    context, seen = await _open(browser, f"{many.report.as_uri()}#provider-{name}")
    opened = await seen.page.eval_on_selector_all("details[open]", "ds => ds.map(d => d.id)")
    await context.close()

    assert opened == [f"provider-{name}"]


async def test_using_every_control_logs_no_error_and_violates_no_policy(static: Visit) -> None:
    page = static.page
    await page.get_by_label("Filter", exact=True).fill("ba")
    # Enter submits the form; sent, CSP's form-action would refuse it with an error.
    await page.get_by_label("Filter", exact=True).press("Enter")
    await page.get_by_label("State", exact=True).select_option("up")
    for key in ("state", "latency", "name"):
        await page.get_by_label("Sort by", exact=True).select_option(key)
    await page.get_by_label("reversed", exact=True).check()
    await page.locator("#providers > details:not([hidden]) summary").first.click()
    await page.wait_for_timeout(100)

    assert static.errors == []
    assert await static.csp_violations() == []


async def test_filter_sort_and_open_details_survive_the_live_refresh(live: Visit) -> None:
    page = live.page
    await page.get_by_label("Filter", exact=True).fill("ba")
    await page.get_by_label("Sort by", exact=True).select_option("latency")
    before = await live.shown()
    opened = page.locator("#providers > details:not([hidden])").first
    name = await opened.get_attribute("data-provider")
    await opened.evaluate("details => { details.open = true; }")  # a click may race a swap
    await page.evaluate("window.__no_reload = true")

    for _ in range(2):  # two swaps of <main>, not one lucky timing
        await page.evaluate("document.getElementById('live').textContent = ''")
        await page.locator("#live", has_text="updated").wait_for(timeout=REFRESH_S * 20_000)

    assert await page.evaluate("window.__no_reload") is True
    assert await page.get_by_label("Filter", exact=True).input_value() == "ba"
    assert [r["provider"] for r in await live.shown()] == [r["provider"] for r in before]
    assert await page.locator(f'details[data-provider="{name}"]').evaluate("d => d.open")
    assert live.errors == []
    assert await live.csp_violations() == []


async def test_opening_a_provider_on_the_live_page_fetches_every_model(
    live: Visit, many: Fleet
) -> None:
    page = live.page
    provider = many.page.providers[7]
    row = page.locator(f'details[data-provider="{provider.name}"]')
    assert await row.locator("article").count() == 0
    await row.evaluate("details => { details.open = true; }")
    await row.locator(".provider-details").wait_for()

    assert sorted(
        await row.locator("article").evaluate_all("as => as.map(a => a.dataset.model)")
    ) == sorted(m.model for m in provider.models)
    assert await row.locator("article svg.history").first.locator("rect").count() == 50
    assert live.errors == []
    assert await live.csp_violations() == []


async def test_fetched_details_stay_across_refreshes_that_change_nothing(live: Visit) -> None:
    page = live.page
    row = page.locator("#providers > details").first
    await row.evaluate("details => { details.open = true; }")
    await row.locator(".provider-details").wait_for()
    await row.locator(".provider-details").evaluate("d => { d.dataset.mine = '1'; }")

    for _ in range(2):
        await page.evaluate("document.getElementById('live').textContent = ''")
        await page.locator("#live", has_text="updated").wait_for(timeout=REFRESH_S * 20_000)

    assert await row.locator(".provider-details[data-mine]").count() == 1  # not re-fetched
    assert await row.evaluate("d => d.open")


async def test_without_scripts_a_providers_link_leads_to_its_models(
    browser: Any, many: Fleet, aiohttp_server: AiohttpServer
) -> None:
    app = build_app(
        many.settings,
        many.settings.store_url,
        interval=300,
        sandbox=False,
        admin_token=None,
        schedule=False,
    )
    server = await aiohttp_server(app)
    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()
    provider = many.page.providers[11]
    await page.goto(str(server.make_url("/")), wait_until="load")
    row = page.locator(f'details[data-provider="{provider.name}"]')
    await row.locator("summary").click()
    await row.locator(".details-link a").click()
    await page.wait_for_load_state("load")
    models = await page.locator("article[data-model]").evaluate_all(
        "as => as.map(a => a.dataset.model)"
    )
    await context.close()

    assert sorted(models) == sorted(m.model for m in provider.models)
