"""``harness bench --only scale``: the served fleet, alone and looked at (shape, not timings)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from harness.bench.goals import goals_of
from harness.bench.scale import (
    CONDITIONS,
    FIGURES,
    endpoint_name,
    fleet_config,
    medians,
    result_figures,
    run_walls_s,
)
from harness.cli.bench import bench
from harness.result import ProbeResult, Source

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def result(
    *, run_id: str = "r", at: float = 0.0, lag: float | None = 1.0, ttfc: float = 50.0
) -> ProbeResult:
    return ProbeResult(
        provider="p",
        model="m",
        prompt="ping",
        started_at=T0 + timedelta(seconds=at),
        ok=True,
        ttfc_ms=ttfc,
        total_ms=100.0,
        loop_lag_ms=lag,
        source=Source.SANDBOX,
        run_id=run_id,
    )


@pytest.fixture(scope="module")
def scale_document() -> dict[str, Any]:
    """``harness bench --only scale --quick --json``."""
    outcome = CliRunner().invoke(bench, ["--only", "scale", "--quick", "--json"])
    assert outcome.exit_code == 0, outcome.output
    document: dict[str, Any] = json.loads(outcome.stdout)
    return document


def test_the_quick_scale_document_holds_both_conditions_and_one_run(
    scale_document: dict[str, Any],
) -> None:
    scale = scale_document["scale"]
    assert set(scale) >= {"targets", "viewers", "one_run", *CONDITIONS}
    for condition in CONDITIONS:
        assert set(scale[condition]) >= {"runs", *FIGURES}
    assert scale["one_run"]["wall_s"] > 0
    assert scale["page"]["targets"] == scale["targets"]


def test_the_viewers_were_answered(scale_document: dict[str, Any]) -> None:
    views = scale_document["scale"]["views"]
    assert views
    assert all(v["answered"] > 0 for v in views)


def test_the_scale_goals_are_in_the_document(scale_document: dict[str, Any]) -> None:
    names = [goal["name"] for goal in scale_document["goals"]]
    assert any("timing-suspect share, one run" in name for name in names)
    assert any("viewers minus none" in name for name in names)


def test_the_fleet_becomes_endpoints_with_every_target(tmp_path: Path) -> None:
    config = fleet_config(tmp_path, "http://127.0.0.1:1", 10, 8.0)

    assert sum(len(e["models"]) for e in config["endpoints"].values()) == 10
    assert all("." not in name for name in config["endpoints"])
    assert config["concurrency"] == "auto"


def test_an_endpoint_name_drops_the_g4f_prefix() -> None:
    assert endpoint_name("g4f.Balo3") == "Balo3"


def test_the_suspect_share_counts_results_over_the_budget() -> None:
    results = [result(lag=1.0), result(lag=9.0), result(lag=None), result(lag=2.0)]

    figures = result_figures(results, budget_ms=5.0)

    assert figures["timing_suspect_pct"] == pytest.approx(100 / 3, abs=0.01)
    assert figures["results"] == 4


def test_a_runs_wall_time_spans_its_first_start_to_its_last_end() -> None:
    walls = run_walls_s([result(at=0.0), result(at=0.5), result(run_id="other", at=3.0)])

    assert sorted(walls) == pytest.approx([0.1, 0.6])


def test_medians_keep_the_run_to_run_range() -> None:
    figures = medians([{"x": 1.0}, {"x": 4.0}, {"x": 2.0}], ["x"])

    assert figures == {"runs": 3, "x": 2.0, "x_range": 3.0}


def test_viewer_goals_take_the_noise_as_their_limit() -> None:
    side = {name: 10.0 for name in FIGURES} | {f"{name}_range": 3.0 for name in FIGURES}
    looked_at = side | {"loop_lag_p95_ms": 12.0}
    scale = {
        "targets": 10,
        "viewers": 2,
        "one_run": {"timing_suspect_pct": 1.0},
        "no_viewers": side,
        "with_viewers": looked_at,
    }

    goals = {goal.name: goal for goal in goals_of({"scale": scale})}

    lag = next(g for name, g in goals.items() if name.startswith("loop-lag p95"))
    assert (lag.value, lag.limit, lag.met) == (2.0, 3.0, True)
