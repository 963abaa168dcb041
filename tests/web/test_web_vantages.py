"""Several vantages on the page, status.json and /metrics; a store that cannot be reached."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from bs4 import BeautifulSoup
from pytest_aiohttp import AiohttpClient

from harness.pipeline.run import store_results
from harness.report import build_page, render_page, status_document
from harness.report.snapshot import read_page
from harness.result import FailureKind, ProbeResult
from harness.settings.config import Settings
from harness.store import open_store
from harness.web.app import build_app
from tests.postgres_cluster import PostgresCluster

NOW = datetime.now(UTC)
PASS = ProbeResult(
    "AutonomousAI", "llama", "ping", NOW, ok=True, ttfc_ms=120.0, total_ms=300.0, vantage="b"
)
FAIL = replace(PASS, ok=False, kind=FailureKind.HTTP_SERVER, ttfc_ms=None, vantage="a")
SETTINGS = Settings(thresholds={"down_after": 1})  # type: ignore[arg-type]


async def _two_vantages(location: str) -> None:
    async with open_store(location) as store:
        await store_results(SETTINGS, store, [replace(PASS, started_at=NOW - timedelta(seconds=2))])
        await store_results(SETTINGS, store, [replace(FAIL, started_at=NOW - timedelta(seconds=1))])
        await store_results(SETTINGS, store, [PASS])


async def test_the_page_shows_the_consensus_and_a_row_per_vantage(tmp_path: Any) -> None:
    location = str(tmp_path / "h.db")
    await _two_vantages(location)
    async with open_store(location) as store:
        page = await read_page(store, SETTINGS, now=NOW)
    model = next(m for m in page.provider("AutonomousAI").models if m.model == "llama")
    assert model.state.value == "degraded"
    assert model.down_from == ("a",)

    soup = BeautifulSoup(render_page(page), "html.parser")
    article = soup.select_one('article[data-model="llama"]')
    assert article.select_one(".down-from").get_text() == "(down from a)"
    rows = {row["data-vantage"]: row for row in article.select("table.vantages tr")}
    assert set(rows) == {"a", "b"}
    assert rows["a"].select_one(".chip").get_text() == "down"
    assert "120 ms" in rows["b"].get_text()

    document = status_document(page)["providers"]["AutonomousAI"]["models"]["llama"]
    assert document["state"] == "degraded"
    assert document["down_from"] == ["a"]
    assert document["vantages"]["a"]["state"] == "down"
    assert document["vantages"]["b"] == {
        "state": "up",
        "voting": True,
        "last_checked": document["vantages"]["b"]["last_checked"],
        "ttfc_p50_ms": 120.0,
    }


def test_one_vantage_shows_no_vantage_rows() -> None:
    page = build_page([], [], now=NOW, version="1")
    assert "vantages" not in render_page(page)


async def test_an_unreachable_store_is_said_so_with_503(
    postgres: PostgresCluster, aiohttp_client: AiohttpClient, tmp_path: Any
) -> None:
    url = postgres.new_schema()
    app = build_app(
        Settings(data_dir=tmp_path),
        url,
        interval=300,
        sandbox=False,
        admin_token=None,
        schedule=False,
    )
    client: TestClient[Any, Any] = await aiohttp_client(app)
    assert (await client.get("/")).status == 200
    postgres.halt()
    try:
        page = await client.get("/")
        assert page.status == 503
        text = BeautifulSoup(await page.text(), "html.parser").select_one("main#status").get_text()
        assert "store is unreachable" in text
        api = await client.get("/api/status")
        assert api.status == 503
        assert "store is unreachable" in (await api.json())["error"]
        assert (await client.get("/healthz")).status == 200
    finally:
        postgres.start()
    assert (await client.get("/")).status == 200
