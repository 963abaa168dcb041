"""ProbeScheduler: one job per provider, never overlapping, stopped gracefully."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from harness.pipeline.scheduler import ProbeScheduler

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
