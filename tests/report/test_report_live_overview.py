"""The live page's overview: the same rows as the full page, kept between reads and read
again only for the providers that changed."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from bs4 import BeautifulSoup
from status_samples import passed

from harness.report import LiveOverview, StatusPage, read_overview, render_page
from harness.report.html import render_rows
from harness.settings.config import Settings
from harness.store import Store


def _summaries(html: str) -> dict[str, str]:
    soup = BeautifulSoup(html, "html.parser")
    return {d["data-provider"]: str(d.summary) for d in soup.find_all("details")}


async def test_the_overview_shows_the_rows_of_the_full_page(
    filled_store: Store, page: StatusPage, now: datetime
) -> None:
    overview = await read_overview(filled_store, Settings(), now=now)

    assert not overview.details
    assert [p.name for p in overview.providers] == [p.name for p in page.providers]
    assert overview.model_counts == page.model_counts
    assert overview.provider_counts == page.provider_counts
    assert overview.incidents == page.incidents
    assert overview.flips == page.flips
    assert _summaries(render_page(overview)) == _summaries(render_page(page))


async def test_an_overview_row_links_to_the_details_instead_of_holding_them(
    filled_store: Store, now: datetime
) -> None:
    overview = await read_overview(filled_store, Settings(), now=now)
    row = BeautifulSoup(render_rows(overview)["AutonomousAI"].markup, "html.parser")

    assert row.find("article") is None
    assert row.find(class_="details-link")["data-details"] == "provider/AutonomousAI/details"


async def test_a_second_read_with_nothing_new_reads_no_provider_again(
    filled_store: Store, now: datetime
) -> None:
    live = LiveOverview(Settings())
    first = await live.read(filled_store, now=now)
    second = await live.read(filled_store, now=now)

    assert first.reread == len(first.page.providers)
    assert second.reread == 0
    assert second.rows == first.rows


async def test_a_new_result_reads_its_provider_alone_again(
    filled_store: Store, now: datetime
) -> None:
    live = LiveOverview(Settings())
    first = await live.read(filled_store, now=now)
    await filled_store.add_results([passed("AiChatOnline", "gpt-4o-mini", now)])
    second = await live.read(filled_store, now=now)

    assert second.reread == 1
    assert second.rows["AiChatOnline"] != first.rows["AiChatOnline"]
    assert {n: r for n, r in second.rows.items() if n != "AiChatOnline"} == {
        n: r for n, r in first.rows.items() if n != "AiChatOnline"
    }


async def test_a_new_hour_reads_every_provider_again(filled_store: Store, now: datetime) -> None:
    live = LiveOverview(Settings())
    await live.read(filled_store, now=now)
    later = await live.read(filled_store, now=now + timedelta(hours=1))

    assert later.reread == len(later.page.providers)


async def test_an_overrun_count_that_moved_renders_its_provider_s_row_again(
    filled_store: Store, now: datetime
) -> None:
    live = LiveOverview(Settings())
    first = await live.read(filled_store, now=now, overruns={"AiChatOnline": 0})
    second = await live.read(filled_store, now=now, overruns={"AiChatOnline": 2})

    assert second.reread == 1
    assert "2 overruns" in second.rows["AiChatOnline"].markup
    assert "overrun" not in first.rows["AiChatOnline"].markup


async def test_reads_waiting_for_an_update_are_answered_by_it(
    filled_store: Store, now: datetime
) -> None:
    live = LiveOverview(Settings())
    await live.read(filled_store, now=now)
    await filled_store.add_results([passed("AutonomousAI", "llama", now)])

    answers = await asyncio.gather(*(live.read(filled_store, now=now) for _ in range(5)))

    assert all(answer is answers[0] for answer in answers)
    assert answers[0].reread == 1


async def test_a_read_after_an_update_reads_the_store_again(
    filled_store: Store, now: datetime
) -> None:
    live = LiveOverview(Settings())
    first = await live.read(filled_store, now=now)
    await filled_store.add_results([passed("AutonomousAI", "llama", now)])

    second = await live.read(filled_store, now=now)

    assert second is not first
    assert second.reread == 1
