"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, never downloaded."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from harness.bench.overview import CHROMIUM, CHROMIUM_FLAGS

REQUIRE_ENV = "HARNESS_REQUIRE_BROWSER"
"""Set (CI sets it) to fail instead of skipping when Chromium is missing."""


@pytest.fixture
def chromium() -> Path:
    """Debian's Chromium, or a skip naming what is missing (a failure under CI)."""
    if not CHROMIUM.is_file():
        reason = f"headless Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(f"{reason}, and {REQUIRE_ENV} is set")
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture
async def browser(chromium: Path) -> AsyncIterator[Any]:
    """A headless Chromium, launched by Playwright from ``chromium``."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(chromium), args=CHROMIUM_FLAGS, headless=True
        )
        try:
            yield launched
        finally:
            await launched.close()
