"""``--concurrency auto``: the limit on probes in flight follows the loop's lag."""

from __future__ import annotations

import asyncio

import pytest

from harness.adaptive import DECREASE, AdaptiveLimit, next_limit


def test_a_report_well_under_budget_adds_one_slot_up_to_the_ceiling() -> None:
    assert next_limit(10, 1.0, 5.0, ceiling=50, may_cut=True) == 11
    assert next_limit(50, 1.0, 5.0, ceiling=50, may_cut=True) == 50


def test_a_report_over_budget_cuts_the_limit_but_never_below_one() -> None:
    assert next_limit(100, 6.0, 5.0, ceiling=500, may_cut=True) == int(100 * DECREASE)
    assert next_limit(1, 60.0, 5.0, ceiling=500, may_cut=True) == 1
    assert next_limit(100, 6.0, 5.0, ceiling=500, may_cut=False) == 100  # cooling down


def test_a_report_near_the_budget_holds_the_limit() -> None:
    assert next_limit(10, 4.0, 5.0, ceiling=50, may_cut=True) == 10


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
