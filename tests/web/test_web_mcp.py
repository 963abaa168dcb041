"""The MCP server at ``/mcp`` of ``harness serve``, driven by the SDK's own client over
streamable HTTP: its tools, their readable errors, and answers free of secrets."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from mcp import Client
from status_samples import failed, fill_store

from harness.policy.status import Thresholds, replay
from harness.result import FailureKind
from harness.settings.config import Settings
from harness.store import open_store
from harness.web.app import build_app

TOOLS = {"list_targets", "working_now", "get_status", "get_history", "list_incidents"}
KEY = "sk-mcpTestKey0123456789abcdef"
HOOK = "json://hooks.example/alert-token-0123456789"

AiohttpServer = Callable[[web.Application], Awaitable[TestServer]]


@pytest.fixture
async def mcp_url(
    aiohttp_server: AiohttpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """The /mcp URL of an app serving the sample history, whose settings hold an
    endpoint key and an alert URL that a stored error and reason quote."""
    monkeypatch.setenv("HARNESS_TEST_MCP_KEY", KEY)
    monkeypatch.setenv("HARNESS_ALERT_URLS", HOOK)
    settings = Settings.model_validate(
        {
            "data_dir": tmp_path / "data",
            "endpoints": {
                "leaky": {
                    "base_url": "http://127.0.0.1:9/v1",
                    "api_key_env": "HARNESS_TEST_MCP_KEY",
                    "models": ["m"],
                }
            },
        }
    )
    now = datetime.now(UTC)
    async with open_store(Path(settings.store_url)) as store:
        await fill_store(store, now)
        leak = f"HTTP 401: bad key {KEY} (alerts to {HOOK})"
        results = [failed("leaky", "m", now, FailureKind.HTTP_AUTH, leak, 401) for _ in range(3)]
        await store.add_results(results)
        statuses, flips = replay(results, Thresholds())
        await store.save_statuses(list(statuses.values()), flips)
    app = build_app(
        settings, settings.store_url, interval=300, sandbox=False, admin_token=None, schedule=False
    )
    server = await aiohttp_server(app)
    return str(server.make_url("/mcp"))


async def call(url: str, tool: str, **arguments: Any) -> dict[str, Any]:
    """One tool call on a client of its own (an SDK client is entered and left in one
    task, which a fixture's setup and teardown are not)."""
    async with Client(url) as client:
        result = await client.call_tool(tool, arguments)
    assert not result.is_error
    answer: dict[str, Any] = result.structured_content or {}
    return answer


async def test_the_server_offers_the_five_read_only_tools(mcp_url: str) -> None:
    async with Client(mcp_url) as client:
        tools = (await client.list_tools()).tools
    assert {t.name for t in tools} == TOOLS


async def test_list_targets_gives_protocol_working_and_state(mcp_url: str) -> None:
    targets = (await call(mcp_url, "list_targets"))["targets"]
    row = next(t for t in targets if (t["provider"], t["model"]) == ("AiChatOnline", "gpt-4o-mini"))
    assert row == {
        "provider": "AiChatOnline",
        "model": "gpt-4o-mini",
        "protocol": "seed",
        "working": False,
        "state": "throttled",
    }


async def test_working_now_is_fastest_first_and_filters(mcp_url: str) -> None:
    working = (await call(mcp_url, "working_now"))["working"]
    assert [(w["provider"], w["model"]) for w in working] == [
        ("AutonomousAI", "llama"),
        ("RobocodersAPI", "RepoAgent"),
    ]
    assert working[0]["ttfc_p50_ms"] < working[1]["ttfc_p50_ms"]
    assert working[0]["uptime"]["ok"] == 60
    only = (await call(mcp_url, "working_now", model="REPO"))["working"]
    assert [w["model"] for w in only] == ["RepoAgent"]
    assert (await call(mcp_url, "working_now", protocol="openai"))["working"] == []


async def test_get_status_of_a_provider_and_a_target(mcp_url: str) -> None:
    provider = await call(mcp_url, "get_status", provider="AutonomousAI")
    assert provider["state"] == "up"
    states = {m["model"]: m["state"] for m in provider["models"]}
    assert (states["llama"], states["qwen_coder"]) == ("up", "down")
    target = await call(mcp_url, "get_status", provider="AutonomousAI", model="qwen_coder")
    assert target["state"] == "down"
    assert target["since"]
    assert target["reason"]


async def test_get_history_gives_utc_days(mcp_url: str) -> None:
    history = await call(mcp_url, "get_history", provider="AiChatOnline", days=3)
    assert len(history["days"]) == 3
    assert sum(d["probes"] for d in history["days"]) == 8


async def test_list_incidents_open_only(mcp_url: str) -> None:
    incidents = (await call(mcp_url, "list_incidents", open_only=True))["incidents"]
    assert {i["provider"] for i in incidents} == {"AutonomousAI", "AiChatOnline", "leaky"}


@pytest.mark.parametrize(
    ("tool", "arguments", "error"),
    [
        ("get_history", {"provider": "AutonomousAI", "days": 400}, "days must be a whole number"),
        ("get_history", {"provider": "Nobody"}, "unknown provider 'Nobody'"),
        ("get_status", {"provider": "Nobody"}, "unknown provider 'Nobody'"),
        ("get_status", {"provider": "AutonomousAI", "model": "x"}, "unknown model 'x'"),
        ("list_incidents", {"limit": 0}, "limit must be within 1-500"),
    ],
)
async def test_a_bad_argument_is_answered_with_a_readable_error(
    mcp_url: str, tool: str, arguments: dict[str, Any], error: str
) -> None:
    answer = await call(mcp_url, tool, **arguments)
    assert error in answer["error"]


async def test_no_key_or_alert_url_appears_in_any_answer(mcp_url: str) -> None:
    answers = [
        await call(mcp_url, "list_targets"),
        await call(mcp_url, "get_status", provider="leaky"),
        await call(mcp_url, "get_status", provider="leaky", model="m"),
        await call(mcp_url, "list_incidents"),
    ]
    text = json.dumps(answers)
    assert "leaky" in text
    assert KEY not in text
    assert HOOK not in text
    assert "alert-token-0123456789" not in text
