"""``--concurrency auto``: the limit on probes in flight follows the loop's lag, window by
window, one limit per event loop."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.probing.adaptive import (
    DECREASE,
    MIN_TICKS,
    RAMP,
    STALLED_SHARE,
    AdaptiveLimit,
    Window,
    adaptive_limit,
    next_limit,
)
from harness.probing.looplag import LagMonitor

BUDGET_MS = 5.0
CALM = Window([0.0001] * 50, 0.1)
"""50 ticks, each 0.1 ms late: well within a 5 ms budget."""
STALLED = Window([0.0001] * 40 + [0.020], 0.1)
"""One 20 ms stall in 100 ms: a fifth of the window."""
RESTLESS = Window([0.003] * 50, 0.1)
"""Every tick 3 ms late: within the budget, but not well within it."""

lateness = st.lists(st.floats(0, 0.2), max_size=200)
windows = st.builds(Window, lateness, st.floats(0.001, 1.0))


def after(
    limit: float, window: Window, *, saturated: bool = True, ramping: bool = False
) -> tuple[float, bool]:
    return next_limit(limit, window, BUDGET_MS, 500, saturated=saturated, ramping=ramping)


def test_a_calm_window_doubles_the_limit_while_it_ramps_up() -> None:
    assert after(4, CALM, ramping=True) == (4 * RAMP, True)


def test_after_the_ramp_a_calm_window_adds_one_slot() -> None:
    assert after(10, CALM) == (11, False)


def test_a_stalled_window_cuts_the_limit_and_ends_the_ramp() -> None:
    assert after(100, STALLED, ramping=True) == (100 * DECREASE, False)


def test_the_limit_never_falls_below_one() -> None:
    assert after(1, STALLED) == (1, False)


def test_a_limit_never_reached_is_not_raised() -> None:
    assert after(10, CALM, saturated=False) == (10, False)


def test_a_restless_window_holds_the_limit() -> None:
    assert after(10, RESTLESS) == (10, False)


def test_the_ceiling_caps_the_limit() -> None:
    assert next_limit(400, CALM, BUDGET_MS, 500, saturated=True, ramping=True) == (500, True)


def test_a_window_with_few_ticks_is_not_calm() -> None:
    assert not Window([0.0001] * (MIN_TICKS - 1), 0.1).calm(BUDGET_MS / 1000)


def test_the_stalled_share_counts_only_lateness_past_the_budget() -> None:
    window = Window([0.004, 0.010, 0.001], 1.0)

    assert window.stalled_share(0.005) == pytest.approx(0.010)


@given(st.floats(1, 500), windows, st.booleans(), st.booleans())
def test_the_limit_stays_between_one_and_the_ceiling(
    limit: float, window: Window, saturated: bool, ramping: bool
) -> None:
    grown, _ = next_limit(limit, window, BUDGET_MS, 500, saturated=saturated, ramping=ramping)

    assert 1 <= grown <= 500


@given(st.floats(1, 500), windows, st.booleans(), st.booleans())
def test_a_window_stalled_past_its_share_never_raises_the_limit(
    limit: float, window: Window, saturated: bool, ramping: bool
) -> None:
    grown, still_ramping = after(limit, window, saturated=saturated, ramping=ramping)

    if window.stalled_share(BUDGET_MS / 1000) > STALLED_SHARE:
        assert grown <= limit
        assert not still_ramping


@given(st.floats(1, 500), windows, st.booleans())
def test_only_a_calm_saturated_window_raises_the_limit(
    limit: float, window: Window, ramping: bool
) -> None:
    for saturated in (True, False):
        grown, _ = after(limit, window, saturated=saturated, ramping=ramping)
        if grown > limit:
            assert saturated
            assert window.calm(BUDGET_MS / 1000)


@pytest.fixture
async def monitor() -> LagMonitor:
    """A lag monitor that never ticks: every window says nothing."""
    return LagMonitor(asyncio.get_running_loop())


async def test_at_most_limit_holders_are_admitted(monitor: LagMonitor) -> None:
    limit = AdaptiveLimit(ceiling=100, budget_ms=BUDGET_MS, monitor=monitor, start=3)
    inside = peak = 0
    release = asyncio.Event()

    async def hold() -> None:
        nonlocal inside, peak
        async with limit:
            inside += 1
            peak = max(peak, inside)
            await release.wait()
            inside -= 1

    tasks = [asyncio.create_task(hold()) for _ in range(10)]
    await asyncio.sleep(0)
    assert (inside, limit.in_flight) == (3, 3)
    release.set()
    await asyncio.gather(*tasks)
    assert (peak, limit.in_flight) == (3, 0)


async def test_a_waiter_cancelled_while_queued_takes_no_slot(monitor: LagMonitor) -> None:
    limit = AdaptiveLimit(ceiling=1, budget_ms=BUDGET_MS, monitor=monitor)
    async with limit:
        waiter = asyncio.create_task(limit.__aenter__())
        await asyncio.sleep(0)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
    assert limit.in_flight == 0
    async with limit:
        assert limit.in_flight == 1


async def test_a_ceiling_below_one_is_refused(monitor: LagMonitor) -> None:
    with pytest.raises(ValueError, match="ceiling"):
        AdaptiveLimit(ceiling=0, budget_ms=BUDGET_MS, monitor=monitor)


async def test_runs_on_one_loop_share_one_limit_with_their_ceilings_summed() -> None:
    with adaptive_limit(3, BUDGET_MS) as first, adaptive_limit(4, 4.0) as second:
        assert first is second
        assert first.ceiling == 7
        assert first.budget_ms == 4.0
    with adaptive_limit(3, BUDGET_MS) as third:
        assert third is not first
        assert third.ceiling == 3


async def test_a_run_leaving_takes_its_ceiling_with_it() -> None:
    with adaptive_limit(3, BUDGET_MS) as first:
        with adaptive_limit(4, BUDGET_MS):
            pass
        assert first.ceiling == 3


async def test_the_limit_starts_low() -> None:
    with adaptive_limit(500, BUDGET_MS) as limit:
        assert limit.limit < 8
