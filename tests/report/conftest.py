"""Fixtures for the report tests: a fixed clock and a store holding the sample history."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from status_samples import fill_store

from harness.report import StatusPage, read_page
from harness.settings.config import Settings
from harness.store import Store, open_store

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def now() -> datetime:
    """The fixed time the sample history ends at and the pages are generated at."""
    return NOW


@pytest.fixture
async def filled_store(tmp_path: Path, now: datetime) -> AsyncIterator[Store]:
    """A SQLite store holding the sample history, its statuses and flips."""
    async with open_store(tmp_path / "store" / "harness.db") as store:
        await fill_store(store, now)
        yield store


@pytest.fixture
async def page(filled_store: Store, now: datetime) -> StatusPage:
    """The status page of the sample history, with default settings."""
    return await read_page(filled_store, Settings(), now=now)
