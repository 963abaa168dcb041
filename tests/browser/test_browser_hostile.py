"""A hostile upstream's answer on the live page, in a real browser: shown as text,
never run (no dialog, no element made from it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from hostile_answer import MARKUP, SHOWN, hostile_app, hostile_settings, probe_hostile

from harness.web.app import build_app

pytestmark = pytest.mark.browser

AiohttpServer = Callable[[web.Application], Awaitable[TestServer]]


async def test_a_hostile_answer_is_visible_as_text_and_runs_nothing(
    browser: Any, aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    upstream = await aiohttp_server(hostile_app())
    settings = hostile_settings(tmp_path / "data", str(upstream.make_url("")))
    summary = await probe_hostile(settings)
    assert summary.results[0].error is not None
    assert summary.results[0].error.endswith(SHOWN)
    app = build_app(
        settings, settings.store_url, interval=300, sandbox=False, admin_token=None, schedule=False
    )
    server = await aiohttp_server(app)

    context = await browser.new_context()
    page = await context.new_page()
    dialogs: list[str] = []

    async def dismiss(dialog: Any) -> None:
        dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", dismiss)
    await page.goto(str(server.make_url("/")), wait_until="load")
    # The answer is in the provider's details, which open on a click of its row.
    rows = page.locator("#providers > details > summary")
    for index in range(await rows.count()):
        await rows.nth(index).click()
    shown = page.get_by_text(MARKUP, exact=False)
    await shown.first.wait_for(state="visible")
    text = await page.locator("body").inner_text()
    await page.wait_for_timeout(300)  # an onerror handler would have fired by now
    injected = await page.locator("main script, main img").count()
    await context.close()

    assert injected == 0

    assert SHOWN in text
    assert dialogs == []
    assert "\x1b" not in text
