"""The prober of ``harness serve``: its scheduler on a loop and thread of its own."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack

import pytest

from harness.pipeline.prober import SWITCH_INTERVAL_S, Prober, ProberStopped
from harness.pipeline.scheduler import ProbeScheduler
from harness.pipeline.serving import Probing
from harness.probing.looplag import lag_monitor
from harness.settings.tiers import DEFAULT_TIER, Tier

GUARD_S = 30.0
"""A hang guard for waiting on the prober, not a timing assertion."""


class Seen:
    """What the jobs saw: on which thread and loop they ran, and which providers."""

    def __init__(self) -> None:
        self.threads: set[int] = set()
        self.loops: set[asyncio.AbstractEventLoop] = set()
        self.lag_loops: set[asyncio.AbstractEventLoop] = set()
        self.providers: list[str] = []
        self.closed = threading.Event()
        self._changed = threading.Condition()

    def ran(self, provider: str) -> None:
        with self._changed:
            self.providers.append(provider)
            self._changed.notify_all()

    async def until(self, condition: Callable[[], bool]) -> None:
        """Wait (off the caller's loop) until the jobs have made ``condition`` true."""

        def wait() -> None:
            with self._changed:
                assert self._changed.wait_for(condition, GUARD_S)

        await asyncio.to_thread(wait)


@pytest.fixture
async def seen() -> Seen:
    return Seen()


def scheduler_of(seen: Seen, providers: list[str]) -> Prober:
    async def setup(stack: AsyncExitStack) -> Probing:
        stack.callback(seen.closed.set)

        async def job(provider: str, tier: Tier) -> None:
            seen.threads.add(threading.get_ident())
            seen.loops.add(asyncio.get_running_loop())
            with lag_monitor():
                seen.lag_loops.add(asyncio.get_running_loop())
            seen.ran(provider)

        ping = (Tier(DEFAULT_TIER, ("ping",), 3600),)
        return Probing(ProbeScheduler(job, {name: ping for name in providers}))

    return Prober(setup, grace=1.0)


@pytest.fixture
async def prober(seen: Seen) -> AsyncIterator[Prober]:
    started = scheduler_of(seen, ["A", "B"])
    await started.start()
    try:
        yield started
    finally:
        await started.stop()


async def test_jobs_run_on_a_thread_and_loop_other_than_the_callers(
    prober: Prober, seen: Seen
) -> None:
    await seen.until(lambda: len(seen.providers) == 2)

    assert seen.threads
    assert threading.get_ident() not in seen.threads
    assert seen.loops
    assert asyncio.get_running_loop() not in seen.loops


async def test_loop_lag_is_measured_on_the_probers_loop(prober: Prober, seen: Seen) -> None:
    await seen.until(lambda: len(seen.providers) == 2)

    assert seen.lag_loops == seen.loops


async def test_the_providers_are_known_once_started(prober: Prober) -> None:
    assert prober.providers == ("A", "B")


async def test_trigger_crosses_to_the_probers_loop(prober: Prober, seen: Seen) -> None:
    await seen.until(lambda: len(seen.providers) == 2)
    await prober.idle()

    assert await prober.trigger(["A"]) == {"A": "started"}
    await seen.until(lambda: seen.providers.count("A") == 2)


async def test_running_is_read_on_the_probers_loop(prober: Prober, seen: Seen) -> None:
    await seen.until(lambda: len(seen.providers) == 2)
    await prober.idle()

    assert await prober.running() == frozenset()


async def test_stop_closes_what_the_setup_opened(seen: Seen) -> None:
    started = scheduler_of(seen, ["A"])
    await started.start()

    await started.stop()

    assert seen.closed.is_set()


async def test_a_stopped_prober_refuses_calls(seen: Seen) -> None:
    started = scheduler_of(seen, ["A"])
    await started.start()
    await started.stop()

    with pytest.raises(ProberStopped):
        await started.running()


async def test_an_error_of_the_setup_is_raised_by_start() -> None:
    async def setup(stack: AsyncExitStack) -> Probing:
        raise ValueError("no store here")

    prober = Prober(setup, grace=0.0)

    with pytest.raises(ValueError, match="no store here"):
        await prober.start()


async def test_a_started_prober_waits_at_most_the_short_switch_interval(prober: Prober) -> None:
    assert sys.getswitchinterval() <= SWITCH_INTERVAL_S
