"""``/api/incidents``, ``/api/history`` and the Atom feeds of ``harness serve``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree

import pytest
from aiohttp.test_utils import TestClient

Client = TestClient[Any, Any]
ATOM = "{http://www.w3.org/2005/Atom}"
FIELDS = {
    "id", "provider", "models", "state", "reason", "started_at", "resolved_at", "duration_s",
    "vantages",
}  # fmt: skip


async def test_api_incidents_lists_them_newest_first_with_their_fields(client: Client) -> None:
    response = await client.get("/api/incidents")
    assert response.status == 200
    incidents = (await response.json())["incidents"]
    assert {i["provider"] for i in incidents} == {"AutonomousAI", "AiChatOnline"}
    assert all(set(i) == FIELDS for i in incidents)
    starts = [i["started_at"] for i in incidents]
    assert starts == sorted(starts, reverse=True)


async def test_api_incidents_filters_by_provider_open_and_limit(client: Client) -> None:
    response = await client.get("/api/incidents?provider=AiChatOnline&open=1&limit=5")
    (incident,) = (await response.json())["incidents"]
    assert (incident["provider"], incident["resolved_at"]) == ("AiChatOnline", None)
    one = await client.get("/api/incidents?limit=1")
    assert len((await one.json())["incidents"]) == 1


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("provider=Nobody", "unknown provider 'Nobody'"),
        ("open=maybe", "open must be 1 or 0"),
        ("limit=0", "limit must be within 1-1000"),
        ("limit=x", "limit must be an integer"),
    ],
)
async def test_api_incidents_refuses_bad_arguments(client: Client, query: str, error: str) -> None:
    response = await client.get(f"/api/incidents?{query}")
    assert response.status == 400
    assert error in (await response.json())["error"]


async def test_api_history_gives_each_utc_day_of_a_provider(client: Client) -> None:
    response = await client.get("/api/history?provider=AiChatOnline&days=7")
    assert response.status == 200
    history = await response.json()
    days = history["days"]
    assert len(days) == 7
    today = days[-1]
    assert set(today) == {"day", "probes", "passes", "uptime", "ttfc_p50_ms", "ttfc_p95_ms"}
    # The sample history ends now; it may straddle midnight UTC.
    assert sum(d["probes"] for d in days) == 8
    assert sum(d["passes"] for d in days) == 5
    assert today["day"] == datetime.now(UTC).date().isoformat()


async def test_api_history_of_one_model(client: Client) -> None:
    response = await client.get("/api/history?provider=AutonomousAI&model=llama&days=2")
    days = (await response.json())["days"]
    assert sum(d["probes"] for d in days) == 60


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("days=7", "provider is required"),
        ("provider=Nobody&days=7", "unknown provider 'Nobody'"),
        ("provider=AutonomousAI&model=nope&days=7", "no results stored for model 'nope'"),
        ("provider=AutonomousAI&days=91", "days must be a whole number from 1 to 90"),
        ("provider=AutonomousAI&days=x", "days must be a whole number from 1 to 90"),
    ],
)
async def test_api_history_refuses_bad_arguments(client: Client, query: str, error: str) -> None:
    response = await client.get(f"/api/history?{query}")
    assert response.status == 400
    assert error in (await response.json())["error"]


async def test_the_feed_is_atom_linking_to_the_page(client: Client) -> None:
    response = await client.get("/feed.atom")
    assert response.status == 200
    assert response.content_type == "application/atom+xml"
    root = ElementTree.fromstring(await response.read())
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 2
    base = str(client.make_url("/"))
    hrefs = {e.find(f"{ATOM}link").get("href") for e in entries}  # type: ignore[union-attr]
    assert f"{base}#provider-AiChatOnline" in hrefs


async def test_a_provider_s_feed_and_an_unknown_one(client: Client) -> None:
    response = await client.get("/feed/AutonomousAI.atom")
    root = ElementTree.fromstring(await response.read())
    titles = [e.findtext(f"{ATOM}title") for e in root.findall(f"{ATOM}entry")]
    assert titles == ["AutonomousAI: down (qwen_coder)"]
    assert (await client.get("/feed/Nobody.atom")).status == 404
