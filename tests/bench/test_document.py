"""The shape of the document ``harness bench --json`` prints: every figure, as numbers.

Sizes are tiny and nothing here judges speed: the figures of a quick run on a busy
CI machine mean nothing, only their presence and types do.
"""

import json
import math
from typing import Any

Number = (int, float)


def is_number(value: Any) -> bool:
    return isinstance(value, Number) and not isinstance(value, bool) and math.isfinite(value)


def test_the_document_is_plain_json(quick_document: dict[str, Any]) -> None:
    assert json.loads(json.dumps(quick_document)) == quick_document


def test_the_machine_is_described(quick_document: dict[str, Any]) -> None:
    machine = quick_document["machine"]
    assert is_number(machine["cpu_count"])
    for key in ("cpu_model", "platform", "python", "aiohttp"):
        assert isinstance(machine[key], str)
    assert quick_document["quick"] is True


def test_fanout_compares_the_harness_with_the_bare_loop(quick_document: dict[str, Any]) -> None:
    fanout = quick_document["fanout"]
    for side in ("harness", "bare"):
        figures = fanout[side]
        for key in ("wall_s", "probes_per_s", "cpu_per_probe_ms"):
            assert is_number(figures[key]), (side, key)
        assert figures["passed"] == fanout["probes"]
        assert len(figures["round_wall_s"]) == fanout["rounds"]
    assert is_number(fanout["ratio"])
    assert is_number(fanout["cpu_ratio"])
    assert fanout["latency"] == {"first_chunk_delay_ms": 50.0, "chunks": 5, "chunk_delay_ms": 10.0}


def test_timing_gives_spreads_and_deltas_per_level(quick_document: dict[str, Any]) -> None:
    timing = quick_document["timing"]
    assert is_number(timing["injected_first_chunk_ms"])
    assert timing["levels"][0]["concurrency"] == 1
    for level in timing["levels"]:
        for side in ("harness", "bare"):
            for spread in ("ttfc_ms", "error_ms"):
                figures = level[side][spread]
                assert all(is_number(figures[k]) for k in ("n", "p50", "p95", "max"))
        assert is_number(level["delta_p50_ms"])
        assert is_number(level["delta_p95_ms"])


def test_store_gives_insert_rate_page_time_and_memory(quick_document: dict[str, Any]) -> None:
    insert, page = quick_document["store"]["insert"], quick_document["store"]["page"]
    keys = ("rows", "insert_s", "rows_per_s", "db_mb", "bytes_per_result")
    assert all(is_number(insert[k]) for k in keys)
    for phase in ("cold", "warm"):
        assert all(is_number(page[phase][k]) for k in ("aggregation_ms", "render_ms", "page_ms"))
    assert all(is_number(page[k]) for k in ("rss_peak_mb", "tracemalloc_peak_mb", "html_kb"))
    assert page["targets"] == 10


def test_store_gives_the_time_a_run_takes_to_record_beside_a_fleet(
    quick_document: dict[str, Any],
) -> None:
    record = quick_document["store"]["record"]
    assert (record["targets"], record["runs"]) == (60, 3)
    assert all(is_number(record["record_ms"][k]) for k in ("median", "max"))


def test_replay_counts_every_shipped_cassette(quick_document: dict[str, Any]) -> None:
    replay = quick_document["replay"]
    assert replay["cassettes"] > 0
    assert replay["passed"] == replay["cassettes"]
    assert is_number(replay["wall_s"])
    assert is_number(replay["per_cassette_ms"])


def test_every_goal_has_a_value_and_a_verdict(quick_document: dict[str, Any]) -> None:
    goals = quick_document["goals"]
    assert len(goals) >= 5
    for goal in goals:
        assert is_number(goal["value"])
        assert isinstance(goal["met"], bool)


def test_timing_runs_auto_concurrency_and_counts_the_suspect(
    quick_document: dict[str, Any],
) -> None:
    timing = quick_document["timing"]
    assert timing["loop"] in ("asyncio", "uvloop")
    assert is_number(timing["lag_budget_ms"])
    for level in timing["levels"]:
        harness = level["harness"]
        assert is_number(harness["timing_suspect"])
        assert all(is_number(harness["loop_lag_ms"][k]) for k in ("p50", "p95", "max"))
        if level["concurrency"] > 1:
            auto = level["auto"]
            assert 1 <= auto["in_flight_limit"]["min"] <= auto["in_flight_limit"]["max"]
            assert auto["in_flight_limit"]["max"] <= level["concurrency"]
            assert is_number(auto["wall_s"])


def test_the_page_figures_keep_template_compilation_apart(
    quick_document: dict[str, Any],
) -> None:
    assert is_number(quick_document["store"]["page"]["templates_ms"])


def test_isolation_prices_a_worker_call_against_a_thread_and_the_loop(
    quick_document: dict[str, Any],
) -> None:
    if "isolation" not in quick_document:  # without the g4f extra, it says why
        assert quick_document["skipped"]["isolation"].startswith("isolation skipped")
        return
    isolation = quick_document["isolation"]
    for way in ("worker", "thread", "direct"):
        assert is_number(isolation[way]["first_ms"]), way
        assert is_number(isolation[way]["total_ms"]), way
    assert set(isolation["overhead_ms"]) == {"worker_vs_thread", "worker_vs_direct"}
    assert all(is_number(v) for v in isolation["overhead_ms"].values())
    assert (isolation["calls"], isolation["runs"]) == (20, 3)


def test_schedule_gives_each_run_s_mean_period_and_their_median(
    quick_document: dict[str, Any],
) -> None:
    schedule = quick_document["schedule"]
    assert (schedule["targets"], schedule["interval_s"]) == (3, 0.5)
    assert len(schedule["runs"]) == 2
    for run in schedule["runs"]:
        assert run["targets_measured"] == 3
        assert is_number(run["mean_gap_s"])
        assert is_number(run["gap_s"]["min"])
        assert isinstance(run["overruns"], int)
    assert is_number(schedule["median_mean_gap_s"])
    assert is_number(schedule["off_by"])
    assert isinstance(schedule["within_goal"], bool)
