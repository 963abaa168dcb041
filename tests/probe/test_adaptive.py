"""``--concurrency auto``: the limit on probes in flight follows the loop's lag."""

from __future__ import annotations

import asyncio

import pytest

from harness.probing.adaptive import DECREASE, AdaptiveLimit, next_window


def grow(window: float, cut_before: bool = False, ceiling: int = 50) -> float:
    return next_window(window, 1.0, 5.0, ceiling, may_cut=True, cut_before=cut_before)


def test_a_report_well_under_budget_adds_a_slot_until_the_first_cut() -> None:
    assert grow(10) == 11
    assert grow(50) == 50  # the ceiling


def test_after_a_cut_a_report_adds_only_a_slot_per_round() -> None:
    assert grow(10, cut_before=True) == 10.1
    window = 10.0
    for _ in range(10):
        window = grow(window, cut_before=True)
    assert 10.9 < window < 11.0  # about one more per ten reports at ten in flight


def test_a_report_over_budget_cuts_the_window_but_never_below_one() -> None:
    def cut(window: float, may_cut: bool = True) -> float:
        return next_window(window, 6.0, 5.0, 500, may_cut=may_cut, cut_before=False)

    assert cut(100) == 100 * DECREASE
    assert cut(1) == 1
    assert cut(100, may_cut=False) == 100  # cooling down


def test_a_report_near_the_budget_holds_the_window() -> None:
    assert next_window(10, 4.0, 5.0, 50, may_cut=True, cut_before=True) == 10


async def test_at_most_limit_holders_are_admitted() -> None:
    limit = AdaptiveLimit(ceiling=100, budget_ms=5.0, start=3)
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
    limit.observe(0.1)  # room for one more
    await asyncio.sleep(0)
    assert inside == 4
    release.set()
    await asyncio.gather(*tasks)
    assert (peak, limit.in_flight) == (4, 0)


async def test_one_stall_seen_by_every_probe_cuts_once() -> None:
    limit = AdaptiveLimit(ceiling=100, budget_ms=5.0, start=40)
    for _ in range(20):
        limit.observe(30.0)
    assert limit.limit == int(40 * DECREASE)
    assert (limit.lowest, limit.highest) == (limit.limit, 40)
    limit.observe(None)  # a probe without a first chunk says nothing
    assert limit.limit == int(40 * DECREASE)


async def test_a_waiter_cancelled_while_queued_takes_no_slot() -> None:
    limit = AdaptiveLimit(ceiling=1, budget_ms=5.0)
    async with limit:
        waiter = asyncio.create_task(limit.__aenter__())
        await asyncio.sleep(0)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
    assert limit.in_flight == 0
    async with limit:
        assert limit.in_flight == 1


def test_a_ceiling_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="ceiling"):
        AdaptiveLimit(ceiling=0, budget_ms=5.0)
