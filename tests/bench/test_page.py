"""The live page benchmark: shapes of figures, never speeds."""

from __future__ import annotations

import os

import pytest
from aiohttp import web
from rich.console import Console

from harness.bench.goals import goals_of
from harness.bench.page import page_figures
from harness.bench.tables import live_page_table
from harness.settings.config import Settings
from harness.web.app import build_app


def _app(settings: Settings) -> web.Application:
    return build_app(
        settings, settings.store_url, interval=300, sandbox=False, admin_token=None, schedule=False
    )


def test_the_live_page_figures_their_table_and_goals() -> None:
    figures = page_figures(targets=6, repeats=1, loads=1, app=_app)
    console = Console(width=140, record=True)
    console.print(live_page_table([figures]))
    printed = console.export_text()
    goals = {g.name: g for g in goals_of({"overview": {"live": [figures]}})}

    assert figures["targets"] == 6
    assert figures["providers"] == 2
    assert figures["http"]["first_kb_gzip"] > 0
    assert figures["http"]["refresh_unchanged"] == {"status": 304, "kb_gzip": 0.0}
    assert figures["http"]["refresh_one_run"]["status"] == 200
    assert set(figures["build_ms"]) == {"cold", "unchanged", "after_one_run", "store_reads"}
    assert figures["api"]["status_etag_matched"] == 304
    assert figures["api"]["status_kb_gzip"] < figures["api"]["status_kb"]
    assert figures["api"]["metrics_kb"] > 0
    assert "/api/status CPU ms, nothing changed" in printed
    assert "6 targets" in printed
    assert (
        goals["live page at 6 targets: first response, gzip"].value
        == (figures["http"]["first_kb_gzip"])
    )
    if figures["browser"] is None:
        assert "skipped" in printed
        if os.environ.get("HARNESS_REQUIRE_BROWSER"):
            pytest.fail(figures["browser_skipped"])
    else:
        assert figures["browser"]["open_provider_ms"] >= 0
        assert "browser open a provider ms" in printed
