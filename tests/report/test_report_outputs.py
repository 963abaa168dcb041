"""status.json, status.md, the badges, and the report directory."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from xml.etree import ElementTree

from harness.policy.status import State
from harness.report import (
    StatusPage,
    badge_svg,
    status_document,
    status_markdown,
    with_overruns,
    write_report,
)
from harness.report.badge import COLOURS
from harness.settings.config import Settings
from harness.store import Store, open_store

SVG = "{http://www.w3.org/2000/svg}"


def test_the_json_document_holds_states_uptime_latency_and_history(page: StatusPage) -> None:
    document = json.loads(json.dumps(status_document(page)))
    qwen = document["providers"]["AutonomousAI"]["models"]["qwen_coder"]

    assert document["providers"]["AutonomousAI"]["working"] is True
    assert qwen["state"] == "down"
    assert qwen["last_kind"] == "http_server"
    assert qwen["uptime"]["24h"] == {"ok": 11, "total": 15, "ratio": 11 / 15}
    assert qwen["latency"]["n"] == 11
    assert len(qwen["history"]) == 15
    assert qwen["checks"]["math"]["outcome"] == "ok"
    assert document["summary"]["providers"]["working"] == 2
    assert document["generated_at"] == "2025-03-01T12:00:00+00:00"


def test_the_json_document_keeps_working_not_working_and_unknown_apart(page: StatusPage) -> None:
    providers = json.loads(json.dumps(status_document(page)))["providers"]

    assert providers["AutonomousAI"]["working"] is True
    assert providers["CodeLinkAva"]["working"] is None  # inconclusive only: unknown
    assert providers["CodeLinkAva"]["capability"] == "chat"


def test_the_json_document_has_no_overrun_count_where_no_schedule_runs(page: StatusPage) -> None:
    providers = status_document(page)["providers"]

    assert {p["overruns"] for p in providers.values()} == {None}


def test_the_json_document_counts_the_overruns_of_each_scheduled_provider(
    page: StatusPage,
) -> None:
    providers = status_document(with_overruns(page, {"AutonomousAI": 2}))["providers"]

    assert providers["AutonomousAI"]["overruns"] == 2
    assert providers["CodeLinkAva"]["overruns"] is None


def test_the_json_document_marks_inconclusive_history(page: StatusPage) -> None:
    codelink = status_document(page)["providers"]["CodeLinkAva"]["models"]["gpt-3.5-turbo"]

    assert {c["outcome"] for c in codelink["history"]} == {"inconclusive"}
    assert codelink["uptime"]["30d"]["total"] == 0


def test_the_markdown_table_has_a_row_per_model(page: StatusPage) -> None:
    lines = status_markdown(page).splitlines()
    rows = [line for line in lines if line.startswith("| ")][2:]  # after header, rule

    assert len(rows) == sum(len(p.models) for p in page.providers)
    llama = next(r for r in rows if "| llama |" in r)
    assert llama.startswith("| AutonomousAI | yes | llama | up | 100 % (60) |")


def test_markdown_cells_escape_pipes_and_newlines(page: StatusPage) -> None:
    provider = page.providers[0]
    odd = replace(provider, models=[replace(provider.models[0], model="a|b\nc")])

    text = status_markdown(replace(page, providers=[odd]))

    assert "| a\\|b c |" in text


def test_a_badge_names_the_provider_and_its_state_in_its_colour(page: StatusPage) -> None:
    provider = page.provider("AiChatOnline")
    svg = ElementTree.fromstring(badge_svg(provider.name, provider.state))
    texts = [t.text for t in svg.iter(f"{SVG}text")]

    assert "AiChatOnline" in texts
    assert "throttled" in texts
    assert any(p.get("fill") == COLOURS[State.THROTTLED] for p in svg.iter(f"{SVG}path"))


def test_badge_text_is_escaped() -> None:
    svg = ElementTree.fromstring(badge_svg("<b>x</b>", State.UP))

    assert not list(svg.iter("b"))
    assert "<b>x</b>" in [t.text for t in svg.iter(f"{SVG}text")]


async def test_write_report_writes_every_file(
    filled_store: Store, tmp_path: Path, now: datetime
) -> None:
    out = tmp_path / "reports"

    written = await write_report(filled_store, out, settings=Settings(), now=now)

    expected = {"index.html", "feed.atom", "status.json", "status.md"} | {
        f"badges/{name}.svg"
        for name in ("RobocodersAPI", "AiChatOnline", "AutonomousAI", "CodeLinkAva")
    }
    assert {p.relative_to(out).as_posix() for p in written} == expected
    assert all(p.is_file() for p in written)
    assert sorted(p.name for p in out.iterdir()) == [
        "badges",
        "feed.atom",
        "index.html",
        "status.json",
        "status.md",
    ]
    assert json.loads((out / "status.json").read_text())["version"]


async def test_write_report_replaces_an_older_report(
    filled_store: Store, tmp_path: Path, now: datetime
) -> None:
    out = tmp_path / "reports"
    out.mkdir()
    (out / "index.html").write_text("old")

    await write_report(filled_store, out, settings=Settings(), now=now)

    assert (out / "index.html").read_text().startswith("<!doctype html>")
    assert not [p for p in out.rglob("*.tmp")]


async def test_a_report_of_an_empty_store_shows_every_planned_model_unknown(
    tmp_path: Path, now: datetime
) -> None:
    out = tmp_path / "reports"
    async with open_store(tmp_path / "empty.db") as store:
        await write_report(store, out, settings=Settings(), now=now)

    document = json.loads((out / "status.json").read_text())
    states = {m["state"] for p in document["providers"].values() for m in p["models"].values()}
    assert states == {"unknown"}
    assert len(document["providers"]) == 4
    assert document["summary"]["models"]["states"]["unknown"] == 10
