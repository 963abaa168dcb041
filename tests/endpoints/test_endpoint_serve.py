"""``harness serve --sandbox`` schedules declared endpoints like the seed providers: their
states, badges and metrics, and faults addressed by the endpoint's name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.settings.config import Settings
from harness.targets.endpoints import install_endpoints
from harness.web.app import PROBER, build_app
from tests.live_app import AiohttpClient, Client, eventually, states

TOKEN = "endpoint-admin-token"


async def rows(client: Client) -> list[dict[str, Any]]:
    document = await (await client.get("/api/results", params={"limit": "1000"})).json()
    results: list[dict[str, Any]] = document["results"]
    return results


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings(
        data_dir=tmp_path / "data",
        serve={"jitter": 0},
        endpoints={
            "groq": {
                "base_url": "https://api.groq.com/openai/v1",
                "models": ["llama-3.3-70b-versatile"],
            },
            "ollama": {"base_url": "http://127.0.0.1:11434/v1", "models": "discover"},
        },
    )
    install_endpoints(settings)
    return settings


async def test_endpoints_are_scheduled_shown_badged_and_faulted_by_name(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    app = build_app(settings, settings.store_url, interval=3600, sandbox=True, admin_token=TOKEN)
    client = await aiohttp_client(app)

    async def endpoints_up() -> bool:
        now = await states(client)
        return now.get("groq") == {"llama-3.3-70b-versatile": "up"} and set(
            now.get("ollama", {}).values()
        ) == {"up"}

    await eventually(endpoints_up)
    assert set((await states(client))["ollama"]) == {
        "emulated-chat",
        "emulated-mini",
        "emulated-reasoning",
    }
    badge = await client.get("/badge/groq.svg")
    assert badge.status == 200
    assert "up" in (await badge.text()).lower()
    metrics = await (await client.get("/metrics")).text()
    assert 'provider="groq"' in metrics
    page = await (await client.get("/")).text()
    assert "ollama" in page
    details = await (await client.get("/provider/ollama")).text()
    assert "tokens/s" in details

    response = await client.post(
        "/api/sandbox/fault",
        json={"fault": "groq=http_429:9"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status == 200
    prober = client.app[PROBER]
    await prober.idle()
    before = await rows(client)
    await prober.trigger(["groq", "ollama"])

    async def landed() -> bool:
        now = await rows(client)
        return all(
            sum(r["provider"] == p for r in now) > sum(r["provider"] == p for r in before)
            for p in ("groq", "ollama")
        )

    await eventually(landed)
    await prober.idle()
    newest: dict[str, dict[str, Any]] = {}
    for row in await rows(client):
        newest.setdefault(row["provider"], row)
    assert newest["groq"]["kind"] == "rate_limited"
    assert "retry after 9 s" in newest["groq"]["error"]
    assert newest["ollama"]["ok"] is True
    # One rate-limited answer is no outage: the working endpoint shows degraded.
    assert (await states(client))["groq"] == {"llama-3.3-70b-versatile": "degraded"}
