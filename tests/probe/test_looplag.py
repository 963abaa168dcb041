"""The loop-lag monitor: how late the event loop ran its callbacks."""

from __future__ import annotations

import asyncio
import time

from harness.probing.looplag import TICK_S, lag_monitor


async def test_a_blocked_loop_shows_as_lag_around_the_moment_it_ended() -> None:
    with lag_monitor() as monitor:
        await asyncio.sleep(TICK_S * 5)  # a few calm ticks first
        time.sleep(0.05)  # noqa: ASYNC251 - the stall under test
        unblocked = time.perf_counter()
        await asyncio.sleep(TICK_S * 5)
        worst = monitor.worst(unblocked)
    assert worst >= 0.04  # the tick due during the stall ran when it ended


async def test_before_any_tick_is_due_the_loop_counts_as_on_time() -> None:
    with lag_monitor() as monitor:
        assert monitor.worst(time.perf_counter()) == 0.0


async def test_a_stall_still_going_on_counts_through_the_overdue_tick() -> None:
    with lag_monitor() as monitor:
        time.sleep(0.03)  # noqa: ASYNC251 - the stall under test: no tick has run yet
        assert monitor.worst(time.perf_counter()) >= 0.02


async def test_one_monitor_serves_every_user_and_stops_with_the_last() -> None:
    with lag_monitor() as first:
        with lag_monitor() as second:
            assert second is first
            assert first.users == 2
        assert first.users == 1
    assert first.users == 0
    with lag_monitor() as later:
        assert later is not first
