"""Helpers for tests that drive a live ``harness serve`` app through its HTTP API."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

Client = TestClient[Any, Any]
AiohttpClient = Callable[[web.Application], Awaitable[Client]]

GUARD_S = 30.0
"""A hang guard for waiting on the store, not a timing assertion."""


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    """Wait until ``check()`` holds (the store has no change notification to wait on)."""

    async def poll() -> None:
        while not await check():  # noqa: ASYNC110
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), GUARD_S)


async def states(client: Client) -> dict[str, dict[str, str]]:
    """Provider -> model -> state, as ``/api/status`` shows them."""
    document = await (await client.get("/api/status")).json()
    return {
        name: {model: m["state"] for model, m in p["models"].items()}
        for name, p in document["providers"].items()
    }
