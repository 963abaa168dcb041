"""`harness serve` with ``[g4f] enabled``: gpt4free's providers are scheduled like the
others, and show on the page's JSON, their badge and /metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from harness.emulator import Emulator
from harness.emulator.openai import base_url
from harness.settings.config import Settings
from harness.web.app import PROBER, build_app
from providers.registry import BUILTIN

# gpt4free's own code leaves some client sessions unclosed (aiohttp reports them when
# they are collected): its bug, not the behaviour under test.
pytestmark = [
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

AiohttpClient = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]
GUARD_S = 30.0
"""A hang guard for waiting on the store, not a timing assertion."""


@pytest.mark.parametrize("prober_process", [False, True], ids=["prober-thread", "prober-process"])
async def test_serve_schedules_the_g4f_providers(
    aiohttp_client: AiohttpClient,
    emulator: Emulator,
    tmp_path: Path,
    no_network: list[str],
    prober_process: bool,
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        serve={"jitter": 0},
        providers={name: {"enabled": False} for name in BUILTIN},
        g4f={
            "enabled": True,
            "include": ["Groq"],
            "providers": {"Groq": {"base_url": base_url(emulator.url), "models": ["m1"]}},
        },
    )
    app = build_app(
        settings,
        settings.store_url,
        interval=3600,
        sandbox=False,
        admin_token=None,
        prober_process=prober_process,
    )
    client = await aiohttp_client(app)
    assert app[PROBER].providers == ("g4f.Groq",)

    async def up() -> None:
        while True:
            document = await (await client.get("/api/status")).json()
            model = document["providers"].get("g4f.Groq", {}).get("models", {}).get("m1")
            if model and model["state"] == "up":
                return
            await asyncio.sleep(0.05)

    await asyncio.wait_for(up(), GUARD_S)
    badge = await client.get("/badge/g4f.Groq.svg")
    assert badge.status == 200
    assert "g4f.Groq" in await badge.text()
    metrics = await (await client.get("/metrics")).text()
    assert 'provider="g4f.Groq"' in metrics
