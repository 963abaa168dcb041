"""The live page at scale: the overview first, a provider's details when opened, a refresh
that sends only what changed, and compressed answers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from bs4 import BeautifulSoup
from status_samples import passed

from harness.policy.status import Thresholds, replay
from harness.report import content_security_policy
from harness.store import open_store
from harness.web.app import OVERVIEW
from tests.live_app import eventually

Client = TestClient[Any, Any]


def _soup(text: str) -> BeautifulSoup:
    return BeautifulSoup(text, "html.parser")


async def _land(store_path: Path, provider: str, model: str) -> None:
    """A new passing result of ``provider``/``model``, stored with its status."""
    async with open_store(store_path) as store:
        fresh = [passed(provider, model, datetime.now(UTC))]
        await store.add_results(fresh)
        statuses, flips = replay(fresh, Thresholds())
        await store.save_statuses(list(statuses.values()), flips)


async def _fragment(client: Client, etag: str | None = None) -> Any:
    headers = {"If-None-Match": f'"{etag}"'} if etag is not None else {}
    return await client.get("/fragment", headers=headers)


async def test_the_live_page_has_every_providers_row_and_no_model_in_full(client: Client) -> None:
    soup = _soup(await (await client.get("/")).text())

    assert soup.find("details", attrs={"data-provider": "AutonomousAI"}) is not None
    assert soup.find_all("article", class_="model") == []


async def test_a_row_links_to_its_providers_details(client: Client) -> None:
    soup = _soup(await (await client.get("/")).text())
    row = soup.find("details", attrs={"data-provider": "AutonomousAI"})

    link = row.find(class_="details-link")
    assert link["data-details"] == "provider/AutonomousAI/details"
    assert link.a["href"] == "provider/AutonomousAI#provider-AutonomousAI"


async def test_a_providers_details_are_its_strip_and_every_model(client: Client) -> None:
    response = await client.get("/provider/AutonomousAI/details")
    soup = _soup(await response.text())

    assert response.status == 200
    assert soup.find(class_="strip") is not None
    assert {a["data-model"] for a in soup.find_all("article")} >= {"llama", "qwen_coder"}


async def test_a_providers_page_shows_it_in_full_with_a_way_back(client: Client) -> None:
    response = await client.get("/provider/AutonomousAI")
    soup = _soup(await response.text())

    assert content_security_policy(live=False) in response.headers["Content-Security-Policy"]
    assert [d["data-provider"] for d in soup.find_all("details")] == ["AutonomousAI"]
    assert soup.find("article", attrs={"data-model": "llama"}) is not None
    assert soup.footer.a["href"] == "../"


@pytest.mark.parametrize("path", ["/provider/Nobody", "/provider/Nobody/details"])
async def test_an_unknown_providers_details_are_not_found(client: Client, path: str) -> None:
    assert (await client.get(path)).status == 404


async def test_the_fragment_is_not_sent_again_when_nothing_changed(client: Client) -> None:
    first = await _fragment(client)
    etag = first.headers["ETag"].strip('"')
    again = await _fragment(client, etag)

    assert again.status == 304
    assert await again.read() == b""


async def test_the_live_page_names_its_content_for_the_refresh(client: Client) -> None:
    soup = _soup(await (await client.get("/")).text())
    again = await _fragment(client, soup.main["data-etag"])

    assert again.status == 304


async def test_the_refresh_sends_only_the_rows_that_changed(
    client: Client, store_path: Path
) -> None:
    etag = (await _fragment(client)).headers["ETag"].strip('"')
    await _land(store_path, "AiChatOnline", "gpt-4o-mini")
    response = await _fragment(client, etag)
    rows = _soup(await response.text()).find(id="providers").find_all("details", recursive=False)

    assert response.status == 200
    assert [r["data-provider"] for r in rows if not r.has_attr("data-kept")] == ["AiChatOnline"]
    assert all(r.contents == [] for r in rows if r.has_attr("data-kept"))
    assert len(rows) > 1


async def test_an_unknown_etag_gets_every_row(client: Client) -> None:
    response = await _fragment(client, "not-one-of-ours")
    rows = _soup(await response.text()).find(id="providers").find_all("details", recursive=False)

    assert response.status == 200
    assert rows
    assert not any(r.has_attr("data-kept") for r in rows)


async def test_a_changed_status_alone_changes_the_row(client: Client, store_path: Path) -> None:
    etag = (await _fragment(client)).headers["ETag"].strip('"')
    async with open_store(store_path) as store:  # qwen_coder, down, is up again: no new result
        up, _ = replay([passed("AutonomousAI", "qwen_coder", datetime.now(UTC))], Thresholds())
        await store.save_statuses(list(up.values()), [])
    response = await _fragment(client, etag)
    rows = _soup(await response.text()).find(id="providers").find_all("details", recursive=False)

    assert [r["data-provider"] for r in rows if not r.has_attr("data-kept")] == ["AutonomousAI"]


@pytest.mark.parametrize("path", ["/", "/fragment", "/api/status", "/provider/AutonomousAI"])
async def test_pages_and_json_are_sent_gzip_compressed(client: Client, path: str) -> None:
    response = await client.get(path, headers={"Accept-Encoding": "gzip"})

    assert response.headers["Content-Encoding"] == "gzip"
    assert await response.text()  # and decompress


async def test_a_small_answer_is_sent_as_it_is(client: Client) -> None:
    response = await client.get("/healthz", headers={"Accept-Encoding": "gzip"})

    assert "Content-Encoding" not in response.headers


async def test_the_overview_is_read_in_full_before_the_first_viewer_asks(client: Client) -> None:
    overview = client.app[OVERVIEW]

    async def warm() -> bool:
        return overview.warm

    await eventually(warm)
