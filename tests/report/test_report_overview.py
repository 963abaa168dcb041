"""The one-row-per-provider overview: its figures as values, and its markup parsed."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from bs4 import BeautifulSoup, Tag
from status_samples import HOSTILE_ERROR

from harness.policy.aggregate import HistoryCell, LatencySummary, Uptime
from harness.policy.status import Outcome, State
from harness.report import StatusPage, render_fragment, render_page, status_document
from harness.report.bars import history_rects
from harness.report.view import (
    HISTORY_LENGTH,
    ModelCell,
    ModelView,
    Throughput,
    provider_view,
)
from harness.result import FailureKind, ProbeResult

T0 = datetime(2025, 1, 1, tzinfo=UTC)
NOTHING = Uptime(0, 0)


def model(
    name: str,
    state: State,
    *,
    ttfc_p50: float | None = None,
    day: Uptime = NOTHING,
    history: Sequence[HistoryCell] = (),
) -> ModelView:
    return ModelView(
        provider="P",
        model=name,
        state=state,
        since=None,
        uptime={"24h": day, "7d": day, "30d": day},
        latency=LatencySummary(1 if ttfc_p50 else 0, ttfc_p50, ttfc_p50, None, None),
        history=history,
        ttfc_sparkline=None,
        last_checked=None,
        last_outcome=None,
        last_kind=None,
        last_error=None,
        checks=[],
        throughput=Throughput(0, None),
    )


def cells(minutes: Sequence[int], outcome: Outcome = Outcome.OK) -> list[HistoryCell]:
    return [HistoryCell(outcome, T0 + timedelta(minutes=m), None, 500.0) for m in minutes]


def test_a_provider_counts_its_models_per_state_best_first() -> None:
    view = provider_view(
        "P", [model("a", State.DOWN), model("b", State.UP), model("c", State.DOWN)]
    )

    assert list(view.model_states.items()) == [(State.UP, 1), (State.DOWN, 2)]
    assert view.state is State.UP
    assert view.state_rank == 0
    assert view.working


def test_uptime_pools_the_probes_of_every_model() -> None:
    view = provider_view(
        "P", [model("a", State.UP, day=Uptime(9, 10)), model("b", State.DOWN, day=Uptime(1, 10))]
    )

    assert view.uptime == Uptime(10, 20)


def test_latency_is_the_fastest_working_models_p50() -> None:
    view = provider_view(
        "P",
        [
            model("slow", State.UP, ttfc_p50=900.0),
            model("fast-but-down", State.DOWN, ttfc_p50=100.0),
            model("fast", State.DEGRADED, ttfc_p50=400.0),
        ],
    )

    assert view.ttfc_p50 == 400.0


def test_latency_falls_back_to_any_model_when_none_works_and_is_none_unmeasured() -> None:
    down = provider_view("P", [model("a", State.DOWN, ttfc_p50=700.0), model("b", State.DOWN)])
    unmeasured = provider_view("P", [model("a", State.UP)])

    assert down.ttfc_p50 == 700.0
    assert not down.working
    assert unmeasured.ttfc_p50 is None


def test_the_history_merges_every_models_probes_newest_fifty_oldest_first() -> None:
    a = model("a", State.UP, history=cells(range(0, 60, 2)))
    b = model("b", State.DOWN, history=cells(range(1, 61, 2), Outcome.FAIL))
    view = provider_view("P", [a, b])

    assert len(view.history) == HISTORY_LENGTH
    assert [c.cell.at for c in view.history] == sorted(c.cell.at for c in view.history)
    assert view.history[-1] == ModelCell("b", b.history[-1])
    assert view.history[0].cell.at == T0 + timedelta(minutes=10)


def test_history_rects_pad_to_the_length_and_escape_every_title() -> None:
    hostile = HistoryCell(Outcome.FAIL, T0, FailureKind.HTTP_SERVER, None)
    svg = BeautifulSoup(
        f"<svg>{history_rects([ModelCell('<b>x</b>', hostile)], length=4)}</svg>", "html.parser"
    )
    rects = svg.find_all("rect")

    assert [r["class"] for r in rects] == [["empty"]] * 3 + [["fail"]]
    assert [r["x"] for r in rects] == ["0", "6", "12", "18"]
    assert rects[-1].title.get_text() == "<b>x</b> · 2025-01-01 00:00 UTC · fail (http_server)"
    assert rects[-1].find_all("b") == []


def test_throughput_is_the_median_over_passes_that_measured_it() -> None:
    def run(chars: int, ttfc: float | None, total: float, ok: bool = True) -> ProbeResult:
        return ProbeResult(
            provider="P", model="m", prompt="ping", started_at=T0, ok=ok,
            chars=chars, ttfc_ms=ttfc, total_ms=total,
        )  # fmt: skip

    results = [run(10, 0, 1000), run(30, 500, 1500), run(99, 0, 100, ok=False), run(5, None, 9)]

    assert Throughput.of(results) == Throughput(2, 20.0)
    assert Throughput.of([]) == Throughput(0, None)


def test_the_details_show_the_speed_of_recent_passes(soup: BeautifulSoup) -> None:
    facts = row(soup, "AutonomousAI").select_one('article[data-model="llama"] .facts')
    speed = " ".join(facts.find("dt", string="speed").find_next_sibling("dd").get_text(" ").split())

    assert re.match(r"[\d.]+ chars/s \(median of \d+ recent passes\)", speed)


@pytest.fixture
def soup(page: StatusPage) -> BeautifulSoup:
    return BeautifulSoup(render_page(page), "html.parser")


def row(soup: BeautifulSoup, provider: str) -> Tag:
    found = soup.select_one(f'#providers > details[data-provider="{provider}"]')
    assert isinstance(found, Tag), provider
    return found


def test_one_collapsed_row_per_provider_in_page_order(
    page: StatusPage, soup: BeautifulSoup
) -> None:
    rows = soup.select("#providers > details")

    assert [r["data-provider"] for r in rows] == [p.name for p in page.providers]
    assert all(r.get("open") is None for r in rows)
    assert all(r.summary is not None for r in rows)


def test_the_summary_shows_working_model_states_uptime_latency_and_history(
    soup: BeautifulSoup,
) -> None:
    summary = row(soup, "AutonomousAI").summary
    text = summary.get_text(" ")
    bar = summary.find("svg", class_="history")

    assert summary.h2.get_text() == "AutonomousAI"
    assert "working: yes" in summary.get_text()
    assert [c.get_text() for c in summary.select(".states .chip")] == [
        "1 up",
        "1 down",
        "3 unknown",
    ]
    assert "uptime 24h:" in text
    assert "ttfc p50:" in text
    assert len(bar.find_all("rect")) == HISTORY_LENGTH
    assert bar["aria-label"].startswith("last 50 probes")
    assert any(t.get_text().startswith("qwen_coder · ") for t in bar.find_all("title"))


def test_the_row_carries_what_the_script_filters_and_sorts_on(
    page: StatusPage, soup: BeautifulSoup
) -> None:
    provider = page.provider("AutonomousAI")
    data = row(soup, "AutonomousAI")

    assert data["data-name"] == "autonomousai"
    assert data["data-search"].split() == [
        "autonomousai",
        *(m.model.lower() for m in provider.models),
    ]
    assert data["data-states"].split() == ["working", "up", "down", "unknown"]
    assert data["data-rank"] == "0"
    assert float(data["data-ttfc"]) == pytest.approx(provider.ttfc_p50, abs=0.05)
    assert row(soup, "CodeLinkAva")["data-ttfc"] == ""
    assert "working-unknown" in row(soup, "CodeLinkAva")["data-states"].split()  # never measured


def test_every_model_card_sits_in_its_providers_details(
    page: StatusPage, soup: BeautifulSoup
) -> None:
    for provider in page.providers:
        cards = row(soup, provider.name).select(".models > article[data-model]")
        assert [c["data-model"] for c in cards] == [m.model for m in provider.models]


def test_an_upstream_error_stays_text_inside_the_details(soup: BeautifulSoup) -> None:
    error = row(soup, "AutonomousAI").select_one('article[data-model="qwen_coder"] .error-text')

    assert error.get_text() == HOSTILE_ERROR


def test_every_control_is_labelled_and_hidden_until_the_script_runs(soup: BeautifulSoup) -> None:
    form = soup.find("form", id="controls")
    fields = form.find_all(["input", "select"])

    assert form.has_attr("hidden")
    assert form["role"] == "search"
    assert [f["name"] for f in fields] == ["q", "state", "sort", "reverse"]
    for field in fields:
        assert soup.find("label", attrs={"for": field["id"]}) is not None, field["name"]
    assert [o["value"] for o in form.find("select", attrs={"name": "sort"}).find_all("option")] == [
        "name",
        "state",
        "latency",
    ]
    states = [o["value"] for o in form.find("select", attrs={"name": "state"}).find_all("option")]
    assert states == ["", "working", "not-working", "working-unknown", *(s.value for s in State)]
    assert form.find("output", id="shown")["aria-live"] == "polite"


def test_the_controls_stay_outside_the_refreshed_fragment(page: StatusPage) -> None:
    fragment = BeautifulSoup(render_fragment(page).html, "html.parser")

    assert fragment.find("form") is None
    assert fragment.find(id="providers") is not None
    assert fragment.find(id="no-match").has_attr("hidden")


def test_a_provider_without_models_results_is_unknown_and_unmeasured() -> None:
    view = provider_view("P", [model("a", State.UNKNOWN)])

    assert view.state is State.UNKNOWN
    assert view.uptime.ratio is None
    assert view.history == []


def test_samples_feed_the_overview(page: StatusPage) -> None:
    autonomous = page.provider("AutonomousAI")
    assert autonomous is not None
    llama = next(m for m in autonomous.models if m.model == "llama")

    assert autonomous.uptime.total >= llama.uptime["24h"].total
    assert autonomous.ttfc_p50 == llama.latency.ttfc_p50


def test_status_json_carries_the_speed(page: StatusPage) -> None:
    llama = status_document(page)["providers"]["AutonomousAI"]["models"]["llama"]

    assert llama["throughput"]["n"] > 0
    assert llama["throughput"]["chars_per_s"] > 0


def test_a_media_provider_shows_what_it_makes_beside_its_name(page: StatusPage) -> None:
    painter = dataclasses.replace(page.provider("CodeLinkAva"), capability="image")
    shown = dataclasses.replace(page, providers=[painter])

    summary = row(BeautifulSoup(render_fragment(shown).html, "html.parser"), "CodeLinkAva").summary

    assert summary.find(class_="capability").get_text() == "image"


def test_a_chat_provider_shows_no_capability_chip(soup: BeautifulSoup) -> None:
    assert soup.find(class_="capability") is None
