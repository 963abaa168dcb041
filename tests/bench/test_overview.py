"""The overview benchmark and its synthetic fleet: shapes of figures, never speeds."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from rich.console import Console

from harness.bench.fleet import STEP, Health, fleet, fleet_results
from harness.bench.overview import browser_missing, overview_at_scale
from harness.bench.tables import overview_table

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def test_a_fleet_has_the_targets_asked_for_three_models_to_a_provider() -> None:
    targets = fleet(10)
    providers = [t.provider for t in targets]

    assert len(targets) == 10
    assert len({(t.provider, t.model) for t in targets}) == 10
    assert [providers.count(p) for p in dict.fromkeys(providers)] == [3, 3, 3, 1]
    assert all(p.startswith("g4f.") for p in providers)
    assert fleet(10) == targets  # pure for a seed
    assert {t.health for t in fleet(300)} == set(Health)


def test_fleet_results_fill_a_history_bar_per_target_in_time_order() -> None:
    targets = fleet(6)
    results = list(fleet_results(targets, now=NOW, per_target=8))

    assert len(results) == 6 * 8
    assert [r.started_at for r in results] == sorted(r.started_at for r in results)
    assert max(r.started_at for r in results) == NOW - STEP
    broken = next(t for t in fleet(300) if t.health is Health.BROKEN)
    newest = [
        r for r in fleet_results(fleet(300), now=NOW) if r.target == (broken.provider, broken.model)
    ]
    assert not newest[-1].ok


def test_the_overview_figures_and_their_table() -> None:
    figures = overview_at_scale(targets=6, repeats=1, loads=1)
    server = figures["server"]
    console = Console(width=120, record=True)
    console.print(overview_table(figures))
    printed = console.export_text()

    assert server["targets"] == 6
    assert server["providers"] == 2
    assert server["html_kb"] > 0
    assert set(server["read_ms"]) == set(server["render_ms"]) == {"cold", "warm"}
    assert "Page with 6 targets" in printed
    if figures["browser"] is None:
        assert figures["browser_skipped"] == browser_missing()
        assert "skipped" in printed
        if os.environ.get("HARNESS_REQUIRE_BROWSER"):
            pytest.fail(figures["browser_skipped"])
    else:
        browser = figures["browser"]
        for name in ("dom_content_loaded_ms", "load_ms", "filter_ms", "sort_ms"):
            assert browser[name] >= 0, name
        assert "browser filter ms" in printed
