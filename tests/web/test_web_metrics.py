"""The Prometheus metrics of one app."""

from __future__ import annotations

import asyncio
import gzip
from dataclasses import replace
from datetime import UTC, datetime

from prometheus_client.parser import text_string_to_metric_families
from status_samples import failed, passed

from harness.policy.consensus import VantageStatus
from harness.policy.objectives import Objectives, ObjectiveSet
from harness.policy.status import State, TargetStatus
from harness.result import FailureKind
from harness.web.metrics import Metrics, Scrapes

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def samples(metrics: Metrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = metrics.exposition().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def labels(**items: str) -> frozenset[tuple[str, str]]:
    return frozenset(items.items())


def probed(**items: str) -> frozenset[tuple[str, str]]:
    """The labels of a per-probe metric: the target's and the vantage's (status_samples')."""
    return labels(**items, vantage="test-vantage")


def status(provider: str, model: str, state: State) -> TargetStatus:
    return TargetStatus(provider, model, state, T0, 0, 0, T0, None, None, None, (), state)


def test_probes_are_counted_by_outcome_and_kind() -> None:
    metrics = Metrics()
    metrics.observe(passed("P", "m", T0))
    metrics.observe(passed("P", "m", T0))
    metrics.observe(failed("P", "m", T0, FailureKind.HTTP_SERVER, "500"))
    metrics.observe(failed("P", "m", T0, FailureKind.HARNESS_OFFLINE, "offline"))

    values = samples(metrics)

    target = {"provider": "P", "model": "m"}
    assert values[("harness_probes_total", probed(**target, outcome="ok", kind="none"))] == 2
    fail = probed(**target, outcome="fail", kind="http_server")
    assert values[("harness_probes_total", fail)] == 1
    offline = probed(**target, outcome="inconclusive", kind="harness_offline")
    assert values[("harness_probes_total", offline)] == 1


def test_latency_histograms_hold_passing_probes_in_seconds() -> None:
    metrics = Metrics()
    metrics.observe(passed("P", "m", T0, ttfc_ms=400))
    metrics.observe(failed("P", "m", T0, FailureKind.TIMEOUT_TOTAL, "slow"))

    values = samples(metrics)

    target = probed(provider="P", model="m")
    assert values[("harness_probe_ttfc_seconds_count", target)] == 1
    assert values[("harness_probe_ttfc_seconds_sum", target)] == 0.4
    assert values[("harness_probe_total_seconds_sum", target)] == 1.0


def test_the_up_gauge_follows_the_working_states() -> None:
    metrics = Metrics()
    metrics.set_statuses(
        [
            status("P", "a", State.UP),
            status("P", "b", State.DEGRADED),
            status("Q", "c", State.DOWN),
            status("Q", "d", State.THROTTLED),
        ]
    )

    values = samples(metrics)

    up = {
        m: values[("harness_target_up", labels(provider=p, model=m))]
        for p, m in [("P", "a"), ("P", "b"), ("Q", "c"), ("Q", "d")]
    }
    assert up == {"a": 1, "b": 1, "c": 0, "d": 0}
    assert values[("harness_provider_working", labels(provider="P"))] == 1
    assert values[("harness_provider_working", labels(provider="Q"))] == 0
    assert values[("harness_target_state", labels(provider="Q", model="d", state="throttled"))] == 1
    assert values[("harness_target_state", labels(provider="Q", model="d", state="down"))] == 0


def test_the_provider_flag_keeps_working_not_working_and_unknown_apart() -> None:
    metrics = Metrics()
    metrics.set_statuses(
        [
            status("P", "a", State.UP),
            status("Q", "b", State.DOWN),
            status("R", "c", State.UNKNOWN),
        ]
    )

    values = samples(metrics)

    flags = {
        provider: next(
            flag
            for flag in ("working", "not_working", "unknown")
            if values[
                ("harness_provider_flag", labels(provider=provider, harness_provider_flag=flag))
            ]
        )
        for provider in "PQR"
    }
    assert flags == {"P": "working", "Q": "not_working", "R": "unknown"}
    assert values[("harness_provider_working", labels(provider="Q"))] == 0
    assert ("harness_provider_working", labels(provider="R")) not in values


def test_a_provider_whose_flag_becomes_unknown_loses_its_working_series() -> None:
    metrics = Metrics()
    metrics.set_statuses([status("P", "a", State.DOWN)])
    metrics.set_statuses([status("P", "a", State.UNKNOWN)])

    assert ("harness_provider_working", labels(provider="P")) not in samples(metrics)


def test_each_app_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.observe(passed("P", "m", T0))

    assert (
        "harness_probes_total",
        probed(provider="P", model="m", outcome="ok", kind="none"),
    ) not in samples(second)


def test_objectives_are_gauges_and_the_missed_one_is_marked() -> None:
    metrics = Metrics()
    objectives = ObjectiveSet(
        Objectives(max_ttfc_ms=5000.0), {"P/a": {"max_ttfc_ms": 1500.0, "regression": 2.0}}
    )
    slow = replace(status("P", "a", State.DEGRADED), missed=("max_ttfc",))
    metrics.set_statuses([slow, status("P", "b", State.UP)], objectives)

    values = samples(metrics)

    def value(name: str, model: str, objective: str) -> float:
        return values[(name, labels(provider="P", model=model, objective=objective))]

    assert value("harness_objective", "a", "max_ttfc") == 1.5
    assert value("harness_objective", "a", "regression") == 2.0
    assert value("harness_objective", "b", "max_ttfc") == 5.0
    assert value("harness_objective_missed", "a", "max_ttfc") == 1
    assert value("harness_objective_missed", "a", "regression") == 0
    assert value("harness_objective_missed", "b", "max_ttfc") == 0
    assert ("harness_objective", labels(provider="P", model="b", objective="regression")) not in (
        values
    )


def test_each_vantage_has_its_own_up_gauge() -> None:
    metrics = Metrics()
    metrics.set_vantages(
        [
            VantageStatus("a", status("P", "m", State.DOWN), T0, offline=False),
            VantageStatus("b", status("P", "m", State.UP), T0, offline=False),
        ]
    )

    values = samples(metrics)

    assert values[("harness_vantage_target_up", labels(provider="P", model="m", vantage="a"))] == 0
    assert values[("harness_vantage_target_up", labels(provider="P", model="m", vantage="b"))] == 1


def test_a_thinking_pass_feeds_ttft_and_reasoning_tokens() -> None:
    metrics = Metrics()
    thinking = replace(passed("P", "m", T0), ttft_ms=300.0, ttfc_ms=2000.0, reasoning_tokens=40)
    metrics.observe(thinking)
    metrics.observe(failed("P", "m", T0, FailureKind.OVERLOADED, "529"))

    values = samples(metrics)

    target = probed(provider="P", model="m")
    assert values[("harness_probe_ttft_seconds_sum", target)] == 0.3
    assert values[("harness_probe_reasoning_tokens_total", target)] == 40
    throttled = probed(provider="P", model="m", outcome="throttled", kind="overloaded")
    assert values[("harness_probes_total", throttled)] == 1


class Clock:
    """Monotonic seconds that move only when told."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Reads:
    """How often a scrape's ``before`` ran."""

    def __init__(self) -> None:
        self.count = 0

    async def __call__(self) -> None:
        self.count += 1


async def test_a_scrape_within_the_freshness_gets_the_same_writing() -> None:
    metrics, clock, reads = Metrics(), Clock(), Reads()
    scrapes = Scrapes(metrics, fresh_s=1.0, clock=clock)
    first = await scrapes.latest(reads)
    metrics.observe(passed("A", "a", T0))
    clock.now = 0.5

    again = await scrapes.latest(reads)

    assert again is first
    assert reads.count == 1


async def test_a_scrape_after_the_freshness_is_written_again() -> None:
    metrics, clock, reads = Metrics(), Clock(), Reads()
    scrapes = Scrapes(metrics, fresh_s=1.0, clock=clock)
    await scrapes.latest(reads)
    metrics.observe(passed("A", "a", T0))
    clock.now = 1.0

    later = await scrapes.latest(reads)

    assert b'provider="A"' in later.text
    assert reads.count == 2


async def test_scrapes_arriving_together_share_one_writing() -> None:
    scrapes, reads = Scrapes(Metrics(), fresh_s=1.0, clock=Clock()), Reads()

    answers = await asyncio.gather(*(scrapes.latest(reads) for _ in range(5)))

    assert all(answer is answers[0] for answer in answers)
    assert reads.count == 1


async def test_a_writings_gzip_holds_its_text() -> None:
    metrics = Metrics()
    metrics.observe(passed("A", "a", T0))

    written = await Scrapes(metrics).latest(Reads())

    assert gzip.decompress(written.gzipped) == written.text
