"""Objectives, missed objectives, the state's reason and p99 on the page, in status.json
and in status.md."""

from __future__ import annotations

import json
import tomllib
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Tag
from status_samples import passed

from harness.policy.status import Thresholds, replay
from harness.report import read_page, render_page, status_document, status_markdown
from harness.settings.config import Settings
from harness.store import Store, open_store
from tests.store_shortcuts import record_run

SETTINGS = Settings.model_validate(
    tomllib.loads(
        """
[objectives."AutonomousAI/llama"]
max_ttfc = "1.5s"
min_chars_per_s = 2
regression = 2.5
"""
    )
)


def model_card(html: str, provider: str, model: str) -> Tag:
    soup = BeautifulSoup(html, "html.parser")
    holder = soup.find(attrs={"data-provider": provider})
    assert isinstance(holder, Tag), provider
    card = holder.find("article", attrs={"data-model": model})
    assert isinstance(card, Tag), model
    return card


async def test_objectives_stand_beside_the_figures_and_the_missed_one_is_marked(
    filled_store: Store, now: datetime
) -> None:
    html = render_page(await read_page(filled_store, SETTINGS, now=now))

    llama = model_card(html, "AutonomousAI", "llama")
    shown = {o["data-objective"]: o for o in llama.select(".objective")}
    assert set(shown) == {"max_ttfc", "min_chars_per_s", "regression"}
    assert "≤ 1.5 s" in shown["max_ttfc"].get_text()
    assert "≥ 2 chars/s" in shown["min_chars_per_s"].get_text()
    assert "2.5x 7-day p50" in shown["regression"].get_text()
    assert not llama.select(".objective.missed")

    slow = model_card(html, "RobocodersAPI", "RepoAgent")
    (missed,) = slow.select(".objective.missed")
    assert missed["data-objective"] == "max_ttfc"
    assert "≤ 8 s" in missed.get_text()
    assert "missed" in missed.get_text()
    reason = slow.select_one(".reason")
    assert reason is not None
    assert reason.get_text() == "first result: passed, slow: ttfc 9.5 s > 8 s"


async def test_status_json_carries_objectives_missed_and_reason(
    filled_store: Store, now: datetime
) -> None:
    document = json.loads(
        json.dumps(status_document(await read_page(filled_store, SETTINGS, now=now)))
    )
    models = document["providers"]
    llama = models["AutonomousAI"]["models"]["llama"]
    assert llama["objectives"]["max_ttfc_ms"] == 1500.0
    assert llama["objectives"]["regression"] == 2.5
    assert llama["objectives"]["max_total_ms"] is None
    assert llama["missed"] == []
    repo = models["RobocodersAPI"]["models"]["RepoAgent"]
    assert repo["objectives"]["max_ttfc_ms"] == 8000.0
    assert repo["missed"] == ["max_ttfc"]
    assert repo["reason"].endswith("slow: ttfc 9.5 s > 8 s")
    throttled = models["AiChatOnline"]["models"]["gpt-4o-mini"]
    assert throttled["reason"] == "3 rate limits in a row (429)"


@pytest.mark.parametrize(("passes", "with_p99"), [(99, False), (100, True)])
async def test_p99_is_shown_from_a_hundred_samples(
    tmp_path: Path, now: datetime, passes: int, with_p99: bool
) -> None:
    results = [
        passed("AutonomousAI", "llama", now - timedelta(minutes=i + 1), ttfc_ms=100.0 + i)
        for i in range(passes)
    ]
    async with open_store(tmp_path / "h.db") as store:
        statuses, flips = replay(results, Thresholds())
        await record_run(store, results, list(statuses.values()), flips)
        page = await read_page(store, Settings(), now=now)

    facts = model_card(render_page(page), "AutonomousAI", "llama").select_one(".facts")
    assert facts is not None
    text = facts.get_text(" ")
    assert ("ttfc p50/p95/p99" in text) is with_p99
    assert ("total p50/p95/p99" in text) is with_p99
    latency = status_document(page)["providers"]["AutonomousAI"]["models"]["llama"]["latency"]
    assert (latency["ttfc_p99_ms"] is not None) is with_p99
    assert (latency["total_p99_ms"] is not None) is with_p99
    (row,) = [line for line in status_markdown(page).splitlines() if "| llama |" in line]
    assert row.count(" ms / ") == (2 if with_p99 else 1)
