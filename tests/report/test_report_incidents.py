"""Incidents on the page, in status.json and in the Atom feed; the daily uptime strip."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from harness.policy.status import Flip, State
from harness.report import read_page, render_page, status_document, write_report
from harness.report.feed import incident_feed
from harness.settings.config import Settings
from harness.store import Store
from tests.store_shortcuts import record_run

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
async def resolved(filled_store: Store, now: datetime) -> Store:
    """The sample history plus an incident of RobocodersAPI resolved 3 days before now."""
    start = now - timedelta(days=3, hours=2)
    await record_run(
        filled_store,
        [],
        [],
        [
            Flip("RobocodersAPI", "RepoAgent", start, State.UP, State.DOWN, "3 failures"),
            Flip(
                "RobocodersAPI",
                "RepoAgent",
                start + timedelta(hours=1),
                State.DOWN,
                State.UP,
                "2 passes",
            ),
        ],
    )
    return filled_store


async def test_the_page_lists_open_incidents_above_the_providers(
    resolved: Store, now: datetime
) -> None:
    soup = BeautifulSoup(render_page(await read_page(resolved, Settings(), now=now)), "html.parser")
    section = soup.select_one("section.open-incidents")
    assert section is not None
    assert section.find_next("section", class_="overview") is not None
    providers = {li.strong.text for li in section.select("li.incident")}
    assert providers == {"AutonomousAI", "AiChatOnline"}


async def test_the_page_lists_resolved_incidents_under_the_providers(
    resolved: Store, now: datetime
) -> None:
    soup = BeautifulSoup(render_page(await read_page(resolved, Settings(), now=now)), "html.parser")
    section = soup.select_one("section.past-incidents")
    assert section is not None
    assert section.find_previous("section", class_="overview") is not None
    (item,) = section.select("li.incident")
    assert item.strong.text == "RobocodersAPI"
    assert "lasted 1 h 0 min" in item.text


async def test_status_json_carries_the_open_incidents(resolved: Store, now: datetime) -> None:
    document = status_document(await read_page(resolved, Settings(), now=now))
    incidents = {i["provider"]: i for i in document["incidents"]}
    assert set(incidents) == {"AutonomousAI", "AiChatOnline"}
    throttled = incidents["AiChatOnline"]
    assert set(throttled) == {
        "id", "provider", "models", "state", "reason", "started_at", "resolved_at",
        "duration_s", "vantages",
    }  # fmt: skip
    assert (throttled["models"], throttled["state"]) == (["gpt-4o-mini"], "throttled")
    assert throttled["resolved_at"] is None
    assert throttled["duration_s"] == 5 * 60  # the third 429 in a row, 5 min ago


async def test_a_provider_shows_a_90_day_strip_titled_by_day(
    filled_store: Store, now: datetime
) -> None:
    soup = BeautifulSoup(
        render_page(await read_page(filled_store, Settings(), now=now)), "html.parser"
    )
    rects = soup.select("#provider-AiChatOnline svg.strip rect")
    assert len(rects) == 90
    today = rects[-1].title.text
    assert today.startswith(f"{now.date().isoformat()}: uptime 62.5 %, 8 probes, 1 incident")
    assert rects[0].title.text.endswith("0 probes, 0 incidents")


async def test_the_feed_is_atom_with_an_entry_per_opening_and_resolving(
    resolved: Store, now: datetime
) -> None:
    incidents = await resolved.incidents()
    root = ET.fromstring(incident_feed(incidents, page_url="https://status.example/", now=now))
    assert root.tag == f"{ATOM}feed"
    entries = root.findall(f"{ATOM}entry")
    titles = [e.findtext(f"{ATOM}title") for e in entries]
    assert len(entries) == 4
    assert "RobocodersAPI: resolved after 1 h 0 min (RepoAgent)" in titles
    assert "RobocodersAPI: down (RepoAgent)" in titles
    links = {e.find(f"{ATOM}link").get("href") for e in entries}  # type: ignore[union-attr]
    assert "https://status.example/#provider-RobocodersAPI" in links
    updated = [e.findtext(f"{ATOM}updated") for e in entries]
    assert updated == sorted(updated, reverse=True)


async def test_a_provider_s_feed_holds_only_its_incidents(resolved: Store, now: datetime) -> None:
    feed = incident_feed(
        await resolved.incidents(), page_url="index.html", now=now, provider="AiChatOnline"
    )
    entries = ET.fromstring(feed).findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [
        "AiChatOnline: throttled (gpt-4o-mini)"
    ]
    content = entries[0].findtext(f"{ATOM}content") or ""
    assert "Models: gpt-4o-mini" in content
    assert "Reason: " in content


async def test_the_report_writes_the_feed_beside_the_page(
    resolved: Store, tmp_path: Path, now: datetime
) -> None:
    await write_report(resolved, tmp_path, settings=Settings(), now=now)
    root = ET.parse(tmp_path / "feed.atom").getroot()
    assert len(root.findall(f"{ATOM}entry")) == 4
    assert json.loads((tmp_path / "status.json").read_text())["incidents"]


async def test_the_report_s_feed_links_to_the_public_page_when_there_is_one(
    resolved: Store, tmp_path: Path, now: datetime
) -> None:
    settings = Settings.model_validate({"alerts": {"public_url": "https://status.example.org/"}})
    await write_report(resolved, tmp_path, settings=settings, now=now)
    root = ET.parse(tmp_path / "feed.atom").getroot()
    hrefs = {link.get("href") for link in root.iter(f"{ATOM}link")}
    assert "https://status.example.org/#provider-RobocodersAPI" in hrefs
