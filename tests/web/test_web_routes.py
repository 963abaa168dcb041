"""The routes of ``harness serve``, against a store holding the sample history."""

from __future__ import annotations

import gzip
from typing import Any
from xml.etree import ElementTree

import pytest
from aiohttp.test_utils import TestClient
from bs4 import BeautifulSoup
from prometheus_client.parser import text_string_to_metric_families
from status_samples import HOSTILE_ERROR

from harness.report import content_security_policy

Client = TestClient[Any, Any]

PATHS = [
    "/",
    "/fragment",
    "/provider/AutonomousAI",
    "/provider/AutonomousAI/details",
    "/provider/Nobody",
    "/api/status",
    "/api/results",
    "/api/results?limit=nope",
    "/badge/AutonomousAI.svg",
    "/badge/Nobody.svg",
    "/metrics",
    "/healthz",
    "/no/such/page",
]


@pytest.mark.parametrize("path", PATHS)
async def test_every_response_carries_the_security_headers(client: Client, path: str) -> None:
    response = await client.get(path)

    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"


async def test_the_live_page_is_the_report_page_with_its_refresh(client: Client) -> None:
    response = await client.get("/")
    soup = BeautifulSoup(await response.text(), "html.parser")

    assert response.status == 200
    assert response.content_type == "text/html"
    assert content_security_policy(live=True) in response.headers["Content-Security-Policy"]
    assert soup.body["data-fragment"] == "fragment"
    assert float(soup.body["data-refresh"]) > 0
    assert soup.find("details", attrs={"data-provider": "AutonomousAI"}) is not None


async def test_the_live_page_shows_upstream_markup_as_text(client: Client) -> None:
    soup = BeautifulSoup(await (await client.get("/")).text(), "html.parser")
    details = await (await client.get("/provider/AutonomousAI/details")).text()

    errors = [e.get_text() for e in BeautifulSoup(details, "html.parser").find_all("span")]
    assert HOSTILE_ERROR in errors
    assert "<script>" not in details
    assert len(soup.find_all("script")) == 2  # the page's own filter and refresh scripts only


async def test_the_fragment_is_the_pages_main(client: Client) -> None:
    soup = BeautifulSoup(await (await client.get("/fragment")).text(), "html.parser")

    assert [t.name for t in soup.find_all(recursive=False)] == ["main"]
    assert soup.main["id"] == "status"


async def test_api_status_is_the_status_document(client: Client) -> None:
    response = await client.get("/api/status")
    document = await response.json()

    assert response.content_type == "application/json"
    assert document["providers"]["AutonomousAI"]["models"]["qwen_coder"]["state"] == "down"
    assert document["providers"]["AutonomousAI"]["models"]["qwen_coder"]["last_error"] == (
        HOSTILE_ERROR
    )


async def test_api_results_lists_the_newest_first_up_to_the_limit(client: Client) -> None:
    response = await client.get("/api/results", params={"provider": "AutonomousAI", "limit": "5"})
    results = (await response.json())["results"]

    assert response.status == 200
    assert len(results) == 5
    assert [r["started_at"] for r in results] == sorted(
        (r["started_at"] for r in results), reverse=True
    )
    assert {r["provider"] for r in results} == {"AutonomousAI"}


async def test_api_results_filters_by_model(client: Client) -> None:
    response = await client.get(
        "/api/results", params={"provider": "AutonomousAI", "model": "qwen_coder"}
    )
    results = (await response.json())["results"]

    assert len(results) == 15
    assert {r["model"] for r in results} == {"qwen_coder"}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": "many"}, "limit must be an integer"),
        ({"limit": "0"}, "limit must be within"),
        ({"limit": "1001"}, "limit must be within"),
        ({"limit": "-3"}, "limit must be within"),
        ({"provider": "Nobody"}, "unknown provider"),
        ({"model": "llama"}, "model needs provider"),
    ],
)
async def test_api_results_rejects_bad_input_with_a_json_error(
    client: Client, params: dict[str, str], message: str
) -> None:
    response = await client.get("/api/results", params=params)

    assert response.status == 400
    assert message in (await response.json())["error"]


async def test_a_badge_is_served_as_svg(client: Client) -> None:
    response = await client.get("/badge/AiChatOnline.svg")
    svg = ElementTree.fromstring(await response.text())

    assert response.status == 200
    assert response.content_type == "image/svg+xml"
    assert "throttled" in [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]


@pytest.mark.parametrize(
    "path",
    [
        "/badge/Nobody.svg",
        "/badge/..%2F..%2Fetc%2Fpasswd.svg",
        "/badge/%2E%2E.svg",
        "/badge/../harness.svg",
        "/badge/autonomousai.svg",
        "/badge/AutonomousAI.png",
    ],
)
async def test_a_badge_of_anything_but_a_known_provider_is_not_found(
    client: Client, path: str
) -> None:
    response = await client.get(path)

    assert response.status == 404


async def test_metrics_start_from_the_stored_statuses(client: Client) -> None:
    response = await client.get("/metrics")
    text = await response.text()
    up = {
        (s.labels["provider"], s.labels["model"]): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "harness_target_up"
    }

    assert response.headers["Content-Type"].startswith("text/plain")
    assert up[("AutonomousAI", "llama")] == 1
    assert up[("AutonomousAI", "qwen_coder")] == 0


async def test_metrics_are_sent_gzip_compressed_to_who_accepts_it(client: Client) -> None:
    zipped = await client.get(
        "/metrics", headers={"Accept-Encoding": "gzip"}, auto_decompress=False
    )
    plain = await client.get("/metrics", headers={"Accept-Encoding": "identity"})

    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(await zipped.read()) == await plain.read()
    assert "Content-Encoding" not in plain.headers


async def test_healthz_answers(client: Client) -> None:
    response = await client.get("/healthz")

    assert response.status == 200
    assert (await response.json())["status"] == "ok"


async def test_probing_on_demand_is_off_without_an_admin_token(client: Client) -> None:
    response = await client.post("/api/probe", headers={"Authorization": "Bearer anything"})

    assert response.status == 404


async def test_probing_on_demand_needs_the_token(admin_client: Client) -> None:
    response = await admin_client.post("/api/probe")

    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("authorization", ["Bearer {token}x", "Bearer s3cret", "Basic {token}"])
async def test_probing_on_demand_refuses_a_wrong_token(
    admin_client: Client, admin_token: str, authorization: str
) -> None:
    header = authorization.format(token=admin_token)

    response = await admin_client.post("/api/probe", headers={"Authorization": header})

    assert response.status in (401, 403)
    assert "error" in await response.json()


@pytest.mark.parametrize(
    ("provider", "state"),
    [("AutonomousAI", "up"), ("RobocodersAPI", "degraded"), ("CodeLinkAva", "unknown")],
)
async def test_a_badge_shows_the_best_state_of_the_providers_models(
    client: Client, provider: str, state: str
) -> None:
    response = await client.get(f"/badge/{provider}.svg")
    svg = ElementTree.fromstring(await response.text())

    assert state in [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
