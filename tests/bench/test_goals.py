"""Goals: each limit checked against the figure the issue names."""

from typing import Any

import pytest

from harness.bench.goals import Goal, goals_of


def level(
    concurrency: int,
    error_p95: float,
    delta_p50: float,
    delta_p95: float,
    auto_error_p95: float = 3.0,
) -> dict[str, Any]:
    spread = {"n": 10, "p50": 50.0, "p95": 50.0, "max": 50.0}
    return {
        "concurrency": concurrency,
        "harness": {"ttfc_ms": spread, "error_ms": {**spread, "p95": error_p95}},
        "auto": {"ttfc_ms": spread, "error_ms": {**spread, "p95": auto_error_p95}},
        "delta_p50_ms": delta_p50,
        "delta_p95_ms": delta_p95,
    }


def document(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "fanout": {"ratio": 1.1, "cpu_ratio": 1.2},
        "timing": {
            "levels": [
                level(1, 1.5, 0.1, 0.2),
                level(100, 9.0, -1.0, 6.5),
                level(500, 9.0, 1, 1, 7),
            ]
        },
        "store": {
            "page": {"cold": {"page_ms": 250.0}, "warm": {"page_ms": 310.0}, "rss_peak_mb": 80.0}
        },
    }
    return {**base, **overrides}


def test_a_value_at_the_limit_meets_it() -> None:
    assert Goal("x", 1.25, 1.25, "x").met is True
    assert Goal("x", 1.2501, 1.25, "x").met is False


def test_an_absolute_goal_bounds_a_difference_either_way() -> None:
    assert Goal("d", -1.9, 2.0, "ms", absolute=True).met is True
    assert Goal("d", -2.1, 2.0, "ms", absolute=True).met is False


def test_an_unmeasured_value_is_neither_met_nor_missed() -> None:
    assert Goal("x", None, 1.0, "ms").met is None


def test_concurrency_one_is_judged_on_the_error_and_the_rest_on_the_deltas() -> None:
    verdicts = {g.name: g.met for g in goals_of(document())}
    assert verdicts["ttfc error p95 at concurrency 1"] is True
    assert verdicts["ttfc p50 minus bare's at concurrency 100"] is True
    assert verdicts["ttfc p95 minus bare's at concurrency 100"] is False


def test_fanout_is_judged_on_wall_time_and_cpu_per_probe() -> None:
    verdicts = {g.name: g.met for g in goals_of(document())}
    assert verdicts["fan-out wall time, harness / bare"] is True
    assert verdicts["fan-out CPU per probe, harness / bare"] is False


def test_auto_concurrency_is_judged_on_its_error_at_every_level_but_one() -> None:
    verdicts = {g.name: g.met for g in goals_of(document()) if "auto" in g.name}
    assert verdicts == {
        "ttfc error p95 with --concurrency auto (ceiling 100)": True,
        "ttfc error p95 with --concurrency auto (ceiling 500)": False,
    }


def test_the_larger_store_is_judged_against_the_smaller() -> None:
    large = {
        "insert": {"rows": 10_000_000},
        "page": {"cold": {"page_ms": 330.0}, "warm": {"page_ms": 300.0}},
    }
    (goal,) = [g for g in goals_of(document(store_large=large)) if "10,000,000" in g.name]
    assert goal.value == round(330 / 310, 3)
    assert goal.met is True


def test_the_page_is_judged_on_the_slower_of_cold_and_warm() -> None:
    page = next(g for g in goals_of(document()) if g.name.startswith("page time"))
    assert page.value == 310.0
    assert page.met is False


@pytest.mark.parametrize("missing", ["fanout", "timing", "store"])
def test_only_benchmarks_that_ran_have_goals(missing: str) -> None:
    partial = {k: v for k, v in document().items() if k != missing}
    names = " ".join(g.name for g in goals_of(partial))
    word = {"fanout": "fan-out", "timing": "ttfc", "store": "page"}[missing]
    assert word not in names
