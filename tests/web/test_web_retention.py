"""``/api/status`` and ``/api/history`` give the same figures before and after the raw
results behind them are pruned (they read the rollups)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from conftest import AiohttpClient

from harness.pipeline.prune import prune_expired
from harness.policy.retention import Retention
from harness.result import FailureKind, ProbeResult
from harness.settings.config import Settings
from harness.store import open_store
from harness.web.app import build_app


def spread(now: datetime) -> list[ProbeResult]:
    """Results of one target from 29 to 8 days ago, one every 3 hours at 10 past, so no
    window's edge (the top of an hour) comes near one while the test runs."""
    first = (now - timedelta(days=29)).replace(minute=10, second=0, microsecond=0)
    results = []
    for n in range(21 * 8):
        at = first + timedelta(hours=3 * n)
        if n % 9 == 4:
            results.append(
                ProbeResult("CodeLinkAva", "old", "ping", at, ok=False, kind=FailureKind.CONNECT)
            )
        else:
            passed = ProbeResult("CodeLinkAva", "old", "ping", at, ok=True)
            results.append(replace(passed, ttfc_ms=90.0 + (n * 31) % 500, total_ms=900.0))
    return results


async def figures(client: Any) -> tuple[Any, Any]:
    status = await (await client.get("/api/status")).json()
    history = await (
        await client.get("/api/history", params={"provider": "CodeLinkAva", "model": "old"})
    ).json()
    model = status["providers"]["CodeLinkAva"]["models"]["old"]
    return (model["uptime"], model["latency"]), history


async def test_status_and_history_are_the_same_after_the_raw_results_are_pruned(
    aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    url = settings.store_url
    async with open_store(url) as store:
        await store.add_results(spread(datetime.now(UTC)))
    app = build_app(settings, url, interval=300, sandbox=False, admin_token=None, schedule=False)
    client = await aiohttp_client(app)
    before = await figures(client)
    async with open_store(url) as store:
        assert await prune_expired(store, Retention(raw=timedelta(days=14))) > 0
        assert len(await store.results(provider="CodeLinkAva")) < len(spread(datetime.now(UTC)))
    assert before[0][0]["30d"]["total"] > 0
    assert await figures(client) == before
