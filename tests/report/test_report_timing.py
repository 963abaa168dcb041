"""Timing-suspect results on the page and in status.json: counted, but not timed."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from bs4 import BeautifulSoup

from harness.report import read_page, render_page, status_document
from harness.result import ProbeResult
from harness.settings.config import Settings
from harness.store import open_store


def results(now: datetime) -> list[ProbeResult]:
    calm = [
        ProbeResult(
            "CodeLinkAva",
            "gpt-3.5-turbo",
            "ping",
            now - timedelta(minutes=m),
            ok=True,
            ttfc_ms=100.0,
            total_ms=200.0,
            loop_lag_ms=0.5,
        )
        for m in range(1, 5)
    ]
    busy = [
        ProbeResult(
            "CodeLinkAva",
            "gpt-3.5-turbo",
            "ping",
            now - timedelta(minutes=m),
            ok=True,
            ttfc_ms=900.0,
            total_ms=1000.0,
            loop_lag_ms=40.0,
        )
        for m in range(5, 7)
    ]
    return [*calm, *busy]


async def test_timing_suspect_passes_count_for_uptime_but_not_for_percentiles(
    tmp_path: Path, now: datetime
) -> None:
    async with open_store(tmp_path / "h.db") as store:
        await store.add_results(results(now), lag_budget_ms=5.0)
        page = await read_page(store, Settings(), now=now)
    document = json.loads(json.dumps(status_document(page)))
    model = document["providers"]["CodeLinkAva"]["models"]["gpt-3.5-turbo"]
    assert model["uptime"]["24h"] == {"ok": 6, "total": 6, "ratio": 1.0}
    latency = model["latency"]
    assert (latency["n"], latency["timing_suspect_left_out"]) == (4, 2)
    assert latency["ttfc_p95_ms"] < 110  # the 900 ms of a busy loop are not in it
    assert model["history"][-1]["loop_lag_ms"] == 0.5

    soup = BeautifulSoup(render_page(page), "html.parser")
    card = soup.select_one('[data-provider="CodeLinkAva"] [data-model="gpt-3.5-turbo"]')
    assert card is not None
    facts = card.select_one("dl.facts")
    assert facts is not None
    assert "2 timing-suspect left out" in facts.get_text()
    titles = [title.get_text() for title in card.select("svg.history title")]
    assert any("loop lag 40" in title for title in titles)
