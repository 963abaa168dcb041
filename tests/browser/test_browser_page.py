"""The live status page in a real browser: content, rendering, no script injection, refresh."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from status_samples import HOSTILE_ERROR, fill_store, passed

from harness.policy.status import Thresholds, replay
from harness.report.view import HISTORY_LENGTH
from harness.settings.config import Settings
from harness.store import open_store
from harness.web.app import build_app
from providers import PROVIDERS

pytestmark = pytest.mark.browser

AiohttpServer = Callable[[web.Application], Awaitable[TestServer]]
REFRESH_S = 1.0


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
async def server(aiohttp_server: AiohttpServer, settings: Settings) -> TestServer:
    """The live page on 127.0.0.1, serving the sample history, refreshing every second."""
    async with open_store(settings.store_url) as store:
        await fill_store(store, datetime.now(UTC))
    app = build_app(
        settings,
        settings.store_url,
        interval=300,
        sandbox=False,
        admin_token=None,
        schedule=False,
        refresh=REFRESH_S,
    )
    return await aiohttp_server(app)


class Visit:
    """A page loaded in the browser, with every console error and uncaught exception."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning"):
            self.errors.append(f"{message.type}: {message.text}")


@pytest.fixture
async def visit(browser: Any, server: TestServer) -> AsyncIterator[Visit]:
    """The served page, loaded."""
    context = await browser.new_context(viewport={"width": 1100, "height": 900})
    page = await context.new_page()
    seen = Visit(page)
    await page.goto(str(server.make_url("/")), wait_until="load")
    yield seen
    await context.close()


async def open_details(row: Any) -> None:
    """Open a provider's details in one step of the page's own script (a click could
    land on the old copy just as the refresh swaps the content), and wait until they
    are fetched."""
    await row.evaluate("details => { details.open = true; }")
    await row.locator(".provider-details").wait_for()


async def test_every_provider_has_a_row_and_every_model_shows_when_opened(visit: Visit) -> None:
    for name, provider in PROVIDERS.items():
        row = visit.page.locator(f'details[data-provider="{name}"]')
        assert await row.locator("summary").is_visible(), name
        await open_details(row)
        for model in provider.all_models():
            card = row.locator(f'article[data-model="{model}"]')
            assert await card.count() == 1, (name, model)
            assert await card.is_visible(), (name, model)


async def test_the_history_bar_renders(visit: Visit) -> None:
    await open_details(visit.page.locator('details[data-provider="AutonomousAI"]'))
    bar = visit.page.locator('article[data-model="llama"] svg.history')
    box = await bar.bounding_box()
    cells = bar.locator("rect.ok")

    assert box is not None
    assert box["width"] > 100
    assert box["height"] > 5
    assert await cells.count() == HISTORY_LENGTH
    cell = await cells.first.bounding_box()
    assert cell is not None
    assert cell["width"] > 0


async def test_the_page_logs_no_console_error(visit: Visit) -> None:
    await visit.page.wait_for_timeout(200)

    assert visit.errors == []


async def test_an_upstream_error_with_a_script_shows_as_text_and_runs_nothing(
    visit: Visit,
) -> None:
    await open_details(visit.page.locator('details[data-provider="AutonomousAI"]'))
    error = visit.page.locator('article[data-model="qwen_coder"] .error-text')

    assert await error.text_content() == HOSTILE_ERROR
    assert await visit.page.evaluate("window.__pwned") is None
    assert await visit.page.locator("article script, article img").count() == 0


async def test_the_page_updates_in_place_as_results_land(visit: Visit, settings: Settings) -> None:
    page = visit.page
    await page.evaluate("window.__loaded_once = true")
    codelink = page.locator('details[data-provider="CodeLinkAva"] summary .chip').first
    assert await codelink.text_content() == "working: unknown"  # inconclusive only

    async with open_store(settings.store_url) as store:
        now = datetime.now(UTC)
        fresh = [passed("CodeLinkAva", "gpt-3.5-turbo", now)]
        await store.add_results(fresh)
        statuses, flips = replay(fresh, Thresholds())
        await store.save_statuses(list(statuses.values()), flips)

    await page.locator("#live", has_text="updated").wait_for(timeout=REFRESH_S * 10_000)
    await codelink.filter(has_text="working: yes").wait_for(timeout=REFRESH_S * 10_000)
    assert await page.evaluate("window.__loaded_once") is True  # no full reload
    assert visit.errors == []


async def test_an_open_provider_whose_row_changed_shows_its_new_details(
    visit: Visit, settings: Settings
) -> None:
    page = visit.page
    row = page.locator('details[data-provider="CodeLinkAva"]')
    await open_details(row)
    card = row.locator('article[data-model="gpt-3.5-turbo"] header .chip')
    assert await card.text_content() == "unknown"

    async with open_store(settings.store_url) as store:
        fresh = [passed("CodeLinkAva", "gpt-3.5-turbo", datetime.now(UTC))]
        await store.add_results(fresh)
        statuses, flips = replay(fresh, Thresholds())
        await store.save_statuses(list(statuses.values()), flips)

    await card.filter(has_text="up").wait_for(timeout=REFRESH_S * 10_000)
    assert await row.evaluate("d => d.open")
    assert visit.errors == []


async def test_the_page_fits_a_phone_screen(browser: Any, server: TestServer) -> None:
    context = await browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = await context.new_page()
    await page.goto(str(server.make_url("/")), wait_until="load")

    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    await context.close()

    assert overflow <= 0
