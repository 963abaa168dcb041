"""The page on a phone: at 400 px wide nothing is cut off and nothing scrolls sideways,
with incidents, an open provider's strip and models, and flips with long reasons."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from status_samples import fill_store

from harness.policy.consensus import RunDecision
from harness.policy.status import Flip, State
from harness.settings.config import Settings
from harness.store import open_store
from harness.web.app import build_app

pytestmark = pytest.mark.browser

AiohttpServer = Callable[[web.Application], Awaitable[TestServer]]
WIDTH = 400
LONG_REASON = (
    "3 failures in a row: HTTP 502 from upstream " + "x" * 120 + " (and more words after it)"
)

# Every element inside <main> whose right edge passes the viewport, or whose own content
# is wider than its box where that box clips it.
_CUT = """width => {
  const cut = [];
  for (const el of document.querySelectorAll('main *')) {
    if (el.closest('.vh') || el.closest('details:not([open]) > :not(summary)')) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    const style = getComputedStyle(el);
    const clips = style.overflowX !== 'visible';
    if (box.right > width + 0.5 || (clips && el.scrollWidth > el.clientWidth + 1)) {
      cut.push(`${el.tagName.toLowerCase()}.${el.className} right=${box.right}`);
    }
  }
  return cut;
}"""


@pytest.fixture
async def server(aiohttp_server: AiohttpServer, tmp_path: Path) -> TestServer:
    settings = Settings(data_dir=tmp_path / "data")
    now = datetime.now(UTC)
    async with open_store(settings.store_url) as store:
        await fill_store(store, now)
        start, end = now - timedelta(days=2), now - timedelta(days=1)
        flips = [
            Flip("RobocodersAPI", "RepoAgent", start, State.UP, State.DOWN, LONG_REASON),
            Flip("RobocodersAPI", "RepoAgent", end, State.DOWN, State.UP, "2 passes"),
        ]
        decision = RunDecision([], [], flips, {})
        await store.record_vantage_run([], lambda shown, views: decision)
    app = build_app(
        settings, settings.store_url, interval=300, sandbox=False, admin_token=None, schedule=False,
        refresh=600,
    )  # fmt: skip
    return await aiohttp_server(app)


async def test_nothing_is_cut_off_or_scrolls_sideways_at_400_px(
    browser: Any, server: TestServer
) -> None:
    context = await browser.new_context(viewport={"width": WIDTH, "height": 800})
    page = await context.new_page()
    try:
        await page.goto(str(server.make_url("/")), wait_until="load")
        await page.evaluate(
            "() => document.querySelectorAll('details').forEach(d => d.open = true)"
        )
        await page.wait_for_function("() => !document.querySelector('.details-link')")  # fetched
        assert await page.locator("section.open-incidents li.incident").count() == 2
        assert await page.locator("svg.strip").count() >= 1
        scroll = await page.evaluate("() => document.documentElement.scrollWidth")
        assert scroll <= WIDTH
        assert await page.evaluate(_CUT, WIDTH) == []
        reason = page.locator("section.flips td", has_text="and more words after it").first
        box = await reason.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= WIDTH
    finally:
        await context.close()
