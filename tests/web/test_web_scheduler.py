"""ProbeScheduler: one job per provider, never overlapping, stopped gracefully."""

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

from harness.pipeline.scheduler import ProbeScheduler, first_runs, period

GUARD_S = 10.0
"""A hang guard for waiting on events, not a timing assertion."""


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

    async def job(provider: str) -> None:
        ran.append(provider)
        if len(ran) == 2:
            both.set()

    scheduler = ProbeScheduler(job, ["A", "B"], interval=3600)
    stopping.append(scheduler)
    scheduler.start()
    await asyncio.wait_for(both.wait(), GUARD_S)

    assert sorted(ran) == ["A", "B"]


async def test_jobs_repeat_every_interval(stopping: list[ProbeScheduler]) -> None:
    runs = 0
    thrice = asyncio.Event()

    async def job(provider: str) -> None:
        nonlocal runs
        runs += 1
        if runs == 3:
            thrice.set()

    scheduler = ProbeScheduler(job, ["A"], interval=0.05)
    stopping.append(scheduler)
    scheduler.start()

    await asyncio.wait_for(thrice.wait(), GUARD_S)


async def test_a_provider_never_runs_twice_at_once(stopping: list[ProbeScheduler]) -> None:
    started, release = asyncio.Event(), asyncio.Event()
    runs = 0

    async def job(provider: str) -> None:
        nonlocal runs
        runs += 1
        started.set()
        await release.wait()

    scheduler = ProbeScheduler(job, ["A"], interval=3600)
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

    async def job(provider: str) -> None:
        runs.append(provider)
        (first if len(runs) == 1 else again).set()

    scheduler = ProbeScheduler(job, ["A"], interval=3600)
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

    async def job(provider: str) -> None:
        started.set()
        await asyncio.sleep(0.2)
        finished.append(provider)

    scheduler = ProbeScheduler(job, ["A"], interval=3600)
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

    async def job(provider: str) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(provider)
            raise

    scheduler = ProbeScheduler(job, ["A"], interval=3600)
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

    async def job(provider: str) -> None:
        nonlocal runs
        runs += 1
        if runs == 2:
            twice.set()
        raise RuntimeError("store unreachable")

    scheduler = ProbeScheduler(job, ["A"], interval=0.05)
    stopping.append(scheduler)
    scheduler.start()

    await asyncio.wait_for(twice.wait(), GUARD_S)
    assert any("probe of A failed" in r.getMessage() for r in caplog.records)


def test_the_interval_must_be_positive() -> None:
    async def job(provider: str) -> None: ...

    with pytest.raises(ValueError, match="interval"):
        ProbeScheduler(job, ["A"], interval=0)


@given(interval=st.floats(0.5, 86_400), jitter=st.floats(0, 3_600), seed=st.integers())
def test_the_period_is_the_interval_and_jitter_only_spreads_first_runs(
    interval: float, jitter: float, seed: int
) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    firsts = first_runs(["A", "B", "C"], now, jitter, random.Random(seed))

    for first in firsts.values():
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
    overran: list[str] = []
    counted = asyncio.Event()

    async def job(provider: str) -> None:
        await release.wait()

    def on_overrun(provider: str) -> None:
        overran.append(provider)
        counted.set()

    scheduler = ProbeScheduler(job, ["A"], interval=0.05, on_overrun=on_overrun)
    stopping.append(scheduler)
    scheduler.start()
    await asyncio.wait_for(counted.wait(), GUARD_S)
    release.set()

    assert overran[0] == "A"
    assert scheduler.overruns["A"] >= 1
    assert any("probe of A overran its 0.05 s period" in r.getMessage() for r in caplog.records)
