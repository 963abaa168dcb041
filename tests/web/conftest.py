"""Fixtures for the web tests: a store holding the sample history and apps serving it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from status_samples import fill_store

from harness.settings.config import Settings
from harness.store import open_store
from harness.web.app import build_app

ADMIN_TOKEN = "s3cret-token"
"""The admin token of ``admin_client`` (and the sandbox apps)."""

AiohttpClient = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]


@pytest.fixture
def admin_token() -> str:
    """The admin token the admin apps are built with."""
    return ADMIN_TOKEN


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Default settings with the data directory (flags file) in the test's directory."""
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
async def store_path(settings: Settings) -> Path:
    """A SQLite file holding the sample history, ending now."""
    path = Path(settings.store_url)
    async with open_store(path) as store:
        await fill_store(store, datetime.now(UTC))
    return path


@pytest.fixture
async def client(
    aiohttp_client: AiohttpClient, settings: Settings, store_path: Path
) -> TestClient[Any, Any]:
    """A client of an app serving the sample history, without probing."""
    app = build_app(
        settings, str(store_path), interval=300, sandbox=False, admin_token=None, schedule=False
    )
    return await aiohttp_client(app)


@pytest.fixture
async def admin_client(
    aiohttp_client: AiohttpClient, settings: Settings, store_path: Path
) -> TestClient[Any, Any]:
    """Like ``client``, with an admin token (and so ``POST /api/probe``), still not probing."""
    app = build_app(
        settings,
        str(store_path),
        interval=300,
        sandbox=False,
        admin_token=ADMIN_TOKEN,
        schedule=False,
    )
    return await aiohttp_client(app)
