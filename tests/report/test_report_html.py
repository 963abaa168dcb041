"""The HTML page, parsed: content, escaping, self-containment and its CSP."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from bs4 import BeautifulSoup, Tag
from status_samples import HOSTILE_ERROR

from harness.report import StatusPage, content_security_policy, render_fragment, render_page
from harness.report.view import HISTORY_LENGTH


@pytest.fixture
def soup(page: StatusPage) -> BeautifulSoup:
    """The static report's index.html, parsed."""
    return BeautifulSoup(render_page(page), "html.parser")


def provider_row(soup: BeautifulSoup, provider: str) -> Tag:
    row = soup.find("details", attrs={"data-provider": provider})
    assert isinstance(row, Tag), provider
    return row


def model_card(soup: BeautifulSoup, provider: str, model: str) -> Tag:
    card = provider_row(soup, provider).find("article", attrs={"data-model": model})
    assert isinstance(card, Tag), model
    return card


def sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_every_provider_and_model_appears(page: StatusPage, soup: BeautifulSoup) -> None:
    for provider in page.providers:
        for model in provider.models:
            card = model_card(soup, provider.name, model.model)
            assert card.h3 is not None
            assert card.h3.get_text() == model.model


def test_a_provider_shows_its_working_flag(soup: BeautifulSoup) -> None:
    summary = provider_row(soup, "AiChatOnline").summary  # throttled

    assert "working: no" in summary.get_text()


def test_a_provider_with_nothing_conclusive_shows_its_flag_unknown(soup: BeautifulSoup) -> None:
    summary = provider_row(soup, "CodeLinkAva").summary  # inconclusive results only

    assert "working: unknown" in summary.get_text()
    assert "working-unknown" in provider_row(soup, "CodeLinkAva")["data-states"].split()


def test_an_error_with_markup_shows_as_text_and_adds_no_element(soup: BeautifulSoup) -> None:
    card = model_card(soup, "AutonomousAI", "qwen_coder")
    error = card.find(class_="error-text")

    assert error is not None
    assert error.get_text() == HOSTILE_ERROR
    assert error.find_all(True) == []
    assert [s.parent.name for s in soup.find_all("script")] == ["body"]
    assert soup.find_all("img") == []
    assert not any(name.startswith("on") for tag in soup.find_all(True) for name in tag.attrs)


def test_the_history_bar_has_a_cell_per_probe_with_time_kind_and_ttfc(
    soup: BeautifulSoup,
) -> None:
    bar = model_card(soup, "AutonomousAI", "qwen_coder").find("svg", class_="history")
    cells = bar.find_all("rect")
    probes = [c for c in cells if "empty" not in c["class"]]
    failures = [c for c in probes if c["class"] == ["fail"]]

    assert len(cells) == HISTORY_LENGTH
    assert len(probes) == 15
    assert "http_server" in failures[-1].title.get_text()
    assert re.search(r"ttfc \d+ ms", probes[0].title.get_text())
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", probes[0].title.get_text())


def test_inconclusive_probes_are_marked_and_explained(soup: BeautifulSoup) -> None:
    card = model_card(soup, "CodeLinkAva", "gpt-3.5-turbo")
    probes = card.find("svg", class_="history").find_all("rect", class_="inconclusive")

    assert len(probes) == 3
    assert "inconclusive" in card.find(class_="note").get_text()
    assert "0/0 probes" in card.find(class_="facts").get_text()


def test_uptime_latency_and_last_checked_are_shown(soup: BeautifulSoup) -> None:
    facts = model_card(soup, "AutonomousAI", "llama").find(class_="facts").get_text(" ")

    assert "uptime 24h" in facts
    assert "100 %" in facts
    assert "(60/60 probes)" in facts
    assert "ttfc p50/p95" in facts
    assert "n=60" in facts
    assert re.search(r"last checked\s+5 min ago\s+\(2025-03-01 11:55 UTC\)", facts)


def test_the_latency_sparkline_is_inline_svg(soup: BeautifulSoup) -> None:
    spark = model_card(soup, "AutonomousAI", "llama").find("svg", class_="spark")

    assert spark is not None
    assert spark.polyline is not None
    assert len(spark.polyline["points"].split()) == 50


def test_checks_show_each_prompt_with_its_outcome(soup: BeautifulSoup) -> None:
    checks = model_card(soup, "AutonomousAI", "qwen_coder").find(class_="checks")

    assert [(li.get_text(), li["class"]) for li in checks.find_all("li")] == [
        ("ping", ["fail"]),
        ("math", ["ok"]),
    ]


def test_recent_flips_are_listed_with_their_reason(soup: BeautifulSoup) -> None:
    rows = soup.find("section", class_="flips").find_all("tr")[1:]
    texts = [r.get_text(" ") for r in rows]

    assert any("qwen_coder" in t and "3 failures in a row" in t for t in texts)


def test_the_summary_counts_every_state(soup: BeautifulSoup) -> None:
    summary = soup.find("section", class_="summary").get_text(" ")

    for state in ("up", "degraded", "throttled", "down", "unknown"):
        assert state in summary


def test_the_footer_names_time_version_and_vantage(page: StatusPage, soup: BeautifulSoup) -> None:
    footer = soup.footer.get_text(" ")

    assert "2025-03-01 12:00 UTC" in footer
    assert page.version in footer
    assert "test-vantage" in footer


def test_the_static_page_requests_nothing(soup: BeautifulSoup) -> None:
    for tag in soup.find_all(True):
        for attribute in ("src", "href", "action", "data", "poster", "srcset"):
            assert tag.get(attribute, "data:").startswith("data:"), tag
    assert "url(" not in soup.style.get_text()
    assert "@import" not in soup.style.get_text()


def test_the_static_page_carries_a_csp_allowing_only_its_own_style_and_script(
    soup: BeautifulSoup,
) -> None:
    meta = soup.find("meta", attrs={"http-equiv": "Content-Security-Policy"})
    policy = meta["content"]

    assert "default-src 'none'" in policy
    assert f"style-src {sha256(soup.style.string)}" in policy
    assert len(soup.find_all("script")) == 1
    assert f"script-src {sha256(soup.script.string)};" in policy
    assert "connect-src" not in policy


def test_the_live_page_allows_exactly_its_own_script(page: StatusPage) -> None:
    soup = BeautifulSoup(render_page(page, refresh_s=15), "html.parser")
    policy = content_security_policy(live=True)

    scripts = [sha256(s.string) for s in soup.find_all("script")]

    assert soup.find("meta", attrs={"http-equiv": "Content-Security-Policy"}) is None
    assert len(scripts) == 2
    assert f"script-src {' '.join(scripts)};" in policy
    assert f"style-src {sha256(soup.style.string)}" in policy
    assert "connect-src 'self'" in policy
    assert soup.body["data-refresh"] == "15"
    assert soup.body["data-fragment"] == "fragment"


def test_the_fragment_is_the_pages_main_alone(page: StatusPage) -> None:
    fragment = BeautifulSoup(render_fragment(page).html, "html.parser")
    whole = BeautifulSoup(render_page(page), "html.parser")

    assert [t.name for t in fragment.find_all(recursive=False)] == ["main"]
    assert fragment.main == whole.main
