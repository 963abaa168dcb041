"""ProbeScheduler: one job per provider and tier, never overlapping, stopped gracefully."""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.pipeline.scheduler import ProbeScheduler, first_run, period, schedule_of
from harness.settings.config import Settings
from harness.settings.tiers import DEFAULT_TIER, Tier

GUARD_S = 10.0
"""A hang guard for waiting on events, not a timing assertion."""


def every(interval: float, *providers: str) -> dict[str, tuple[Tier, ...]]:
    """Each provider in one tier probed every ``interval`` seconds."""
    return {name: (Tier(DEFAULT_TIER, ("ping",), interval),) for name in providers}


@pytest.fixture
async def stopping() -> AsyncIterator[list[ProbeScheduler]]:
    """Schedulers to stop at the end of the test, whatever happened."""
    started: list[ProbeScheduler] = []
    yield started
    for scheduler in started:
        await scheduler.stop(grace=0)


async def test_each_provider_is_probed_once_at_start(stopping: list[ProbeScheduler]) -> None:
    ran: list[str] = []
    both = asyncio.Event()

    async def job(provider: str, tier: Tier) -> None:
        ran.append(provider)
        if len(ran) == 2:
            both.set()

    scheduler = ProbeScheduler(job, every(3600, "A", "B"))
    stopping.append(scheduler)
    scheduler.start()
    await asyncio.wait_for(both.wait(), GUARD_S)

    assert sorted(ran) == ["A", "B"]


async def test_jobs_repeat_every_interval(stopping: list[ProbeScheduler]) -> None:
    runs = 0
    thrice = asyncio.Event()

    async def job(provider: str, tier: Tier) -> None:
        nonlocal runs
        runs += 1
        if runs == 3:
            thrice.set()

    scheduler = ProbeScheduler(job, every(0.05, "A"))
    stopping.append(scheduler)
    scheduler.start()

    await asyncio.wait_for(thrice.wait(), GUARD_S)


async def test_a_provider_never_runs_twice_at_once(stopping: list[ProbeScheduler]) -> None:
    started, release = asyncio.Event(), asyncio.Event()
    runs = 0

    async def job(provider: str, tier: Tier) -> None:
        nonlocal runs
        runs += 1
        started.set()
        await release.wait()

    scheduler = ProbeScheduler(job, every(3600, "A"))
    stopping.append(scheduler)
    scheduler.start()
    await asyncio.wait_for(started.wait(), GUARD_S)

    assert scheduler.trigger() == {"A": "running"}
    assert scheduler.running == {"A"}
    release.set()
    await asyncio.sleep(0.05)
    assert runs == 1


async def test_trigger_runs_a_job_now(stopping: list[ProbeScheduler]) -> None:
    runs: list[str] = []
    first, again = asyncio.Event(), asyncio.Event()

    async def job(provider: str, tier: Tier) -> None:
        runs.append(provider)
        (first if len(runs) == 1 else again).set()

    scheduler = ProbeScheduler(job, every(3600, "A"))
    stopping.append(scheduler)
    scheduler.start()
    await asyncio.wait_for(first.wait(), GUARD_S)
    await scheduler.idle()

    assert scheduler.trigger(["A"]) == {"A": "started"}
    await asyncio.wait_for(again.wait(), GUARD_S)


async def test_stop_lets_an_inflight_probe_finish_within_the_grace(
    caplog: pytest.LogCaptureFixture,
) -> None:
    started = asyncio.Event()
    finished: list[str] = []

    async def job(provider: str, tier: Tier) -> None:
        started.set()
        await asyncio.sleep(0.2)
        finished.append(provider)

    scheduler = ProbeScheduler(job, every(3600, "A"))
    scheduler.start()
    await asyncio.wait_for(started.wait(), GUARD_S)

    await scheduler.stop(grace=GUARD_S)

    assert finished == ["A"]
    assert scheduler.running == frozenset()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_stop_cancels_a_probe_past_the_grace_without_logging_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    started = asyncio.Event()
    cancelled: list[str] = []

    async def job(provider: str, tier: Tier) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(provider)
            raise

    scheduler = ProbeScheduler(job, every(3600, "A"))
    scheduler.start()
    await asyncio.wait_for(started.wait(), GUARD_S)

    with caplog.at_level(logging.INFO):
        await scheduler.stop(grace=0.05)
        await asyncio.sleep(0.05)  # APScheduler's shutdown takes effect a loop step later

    assert cancelled == ["A"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("cancelled at shutdown" in r.getMessage() for r in caplog.records)


async def test_a_failing_probe_is_logged_and_the_schedule_goes_on(
    stopping: list[ProbeScheduler], caplog: pytest.LogCaptureFixture
) -> None:
    runs = 0
    twice = asyncio.Event()

    async def job(provider: str, tier: Tier) -> None:
        nonlocal runs
        runs += 1
        if runs == 2:
            twice.set()
        raise RuntimeError("store unreachable")

    scheduler = ProbeScheduler(job, every(0.05, "A"))
    stopping.append(scheduler)
    scheduler.start()

    await asyncio.wait_for(twice.wait(), GUARD_S)
    assert any("probe of A (default) failed" in r.getMessage() for r in caplog.records)


def test_the_interval_must_be_positive() -> None:
    async def job(provider: str, tier: Tier) -> None: ...

    with pytest.raises(ValueError, match="interval"):
        ProbeScheduler(job, every(0, "A"))


@given(interval=st.floats(0.5, 86_400), jitter=st.floats(0, 3_600), seed=st.integers())
def test_the_period_is_the_interval_and_jitter_only_spreads_first_runs(
    interval: float, jitter: float, seed: int
) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    draw = random.Random(seed)

    for first in [first_run(now, jitter, draw) for _ in range(3)]:
        assert now <= first <= now + timedelta(seconds=jitter)
        fires = [first]
        for _ in range(5):
            fires.append(period(first, interval).get_next_fire_time(fires[-1], fires[-1]))
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(fires)]
        assert gaps == pytest.approx([interval] * 5, abs=1e-3)


def test_a_late_run_does_not_shift_the_next_ones() -> None:
    first = datetime(2026, 1, 1, tzinfo=UTC)
    late = first + timedelta(seconds=75)  # the run due at +60 s started 15 s late

    due = first + timedelta(seconds=60)

    assert period(first, 60).get_next_fire_time(due, late) == first + timedelta(seconds=120)


async def test_a_run_due_while_the_last_is_still_going_is_counted_as_an_overrun(
    stopping: list[ProbeScheduler], caplog: pytest.LogCaptureFixture
) -> None:
    release = asyncio.Event()
    overran: list[tuple[str, str]] = []
    counted = asyncio.Event()

    async def job(provider: str, tier: Tier) -> None:
        await release.wait()

    def on_overrun(provider: str, tier: str) -> None:
        overran.append((provider, tier))
        counted.set()

    scheduler = ProbeScheduler(job, every(0.05, "A"), on_overrun=on_overrun)
    stopping.append(scheduler)
    scheduler.start()
    await asyncio.wait_for(counted.wait(), GUARD_S)
    release.set()

    assert overran[0] == ("A", DEFAULT_TIER)
    assert scheduler.overruns[("A", DEFAULT_TIER)] >= 1
    assert scheduler.overruns_of("A") == sum(scheduler.overruns.values())
    message = "probe of A (default) overran its 0.05 s period"
    assert any(message in r.getMessage() for r in caplog.records)


async def test_each_tier_of_a_provider_runs_as_a_job_of_its_own_with_its_prompts(
    stopping: list[ProbeScheduler],
) -> None:
    ran: list[tuple[str, str, tuple[str, ...]]] = []
    both = asyncio.Event()

    async def job(provider: str, tier: Tier) -> None:
        ran.append((provider, tier.name, tier.prompts))
        if len(ran) == 2:
            both.set()

    tiers = (Tier(DEFAULT_TIER, ("ping",), 3600), Tier("suite", ("math", "system"), 3600))
    scheduler = ProbeScheduler(job, {"A": tiers})
    stopping.append(scheduler)
    scheduler.start()
    await asyncio.wait_for(both.wait(), GUARD_S)

    assert sorted(ran) == [("A", DEFAULT_TIER, ("ping",)), ("A", "suite", ("math", "system"))]


async def test_a_fast_tier_repeats_while_a_slow_tier_of_the_same_provider_waits(
    stopping: list[ProbeScheduler],
) -> None:
    ran: list[str] = []
    thrice = asyncio.Event()

    async def job(provider: str, tier: Tier) -> None:
        ran.append(tier.name)
        if ran.count("fast") == 3:
            thrice.set()

    tiers = (Tier("fast", ("ping",), 0.05), Tier("slow", ("math",), 3600))
    scheduler = ProbeScheduler(job, {"A": tiers})
    stopping.append(scheduler)
    scheduler.start()
    await asyncio.wait_for(thrice.wait(), GUARD_S)

    assert ran.count("slow") == 1


async def test_an_overrun_is_counted_for_its_tier_only(stopping: list[ProbeScheduler]) -> None:
    release = asyncio.Event()
    counted = asyncio.Event()
    ran: list[str] = []

    async def job(provider: str, tier: Tier) -> None:
        ran.append(tier.name)
        if tier.name == "slow":
            await release.wait()

    tiers = (Tier("fast", ("ping",), 3600), Tier("slow", ("math",), 0.05))
    scheduler = ProbeScheduler(job, {"A": tiers}, on_overrun=lambda p, t: counted.set())
    stopping.append(scheduler)
    scheduler.start()
    await asyncio.wait_for(counted.wait(), GUARD_S)
    release.set()

    assert scheduler.overruns[("A", "slow")] >= 1
    assert scheduler.overruns[("A", "fast")] == 0


async def test_trigger_runs_every_tier_of_the_provider(stopping: list[ProbeScheduler]) -> None:
    ran: list[str] = []
    first, again = asyncio.Event(), asyncio.Event()

    async def job(provider: str, tier: Tier) -> None:
        ran.append(tier.name)
        if len(ran) == 2:
            first.set()
        if len(ran) == 4:
            again.set()

    tiers = (Tier("fast", ("ping",), 3600), Tier("slow", ("math",), 3600))
    scheduler = ProbeScheduler(job, {"A": tiers})
    stopping.append(scheduler)
    scheduler.start()
    await asyncio.wait_for(first.wait(), GUARD_S)
    await scheduler.idle()

    assert scheduler.trigger(["A"]) == {"A": "started"}
    await asyncio.wait_for(again.wait(), GUARD_S)
    assert sorted(ran[2:]) == ["fast", "slow"]


def test_the_schedule_of_settings_holds_each_provider_s_tiers() -> None:
    settings = Settings.model_validate(
        {
            "prompts": ["ping", "math"],
            "serve": {"interval": 60, "tiers": {"suite": {"prompts": ["math"], "interval": "1h"}}},
        }
    )

    schedule = schedule_of(settings, ["CodeLinkAva"])

    assert schedule == {
        "CodeLinkAva": (Tier(DEFAULT_TIER, ("ping",), 60.0), Tier("suite", ("math",), 3600.0))
    }
