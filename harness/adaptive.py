"""``--concurrency auto``: as many probes in flight as the event loop can time well.

Every probe reports how late the loop ran callbacks around its first chunk
(``loop_lag_ms``, :mod:`harness.looplag`). :class:`AdaptiveLimit` turns those
reports into a limit on probes in flight, the way TCP sizes its window: one more
slot for every report well under the budget, a quarter fewer when one is over it
(at most once per :data:`COOLDOWN_S`, since one stall is seen by every probe in
flight). Timings then stay within the budget whatever concurrency was asked for,
at the cost of some wall time when the machine cannot keep up.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from types import TracebackType

START = 8
"""Probes in flight before the first report."""

DECREASE = 0.75
"""The factor the limit shrinks by when a report is over the budget."""

COOLDOWN_S = 0.1
"""The least time between two decreases: reports of the same stall do not compound."""

HEADROOM = 0.5
"""A report at most this fraction of the budget lets the limit grow."""


def next_limit(limit: int, lag_ms: float, budget_ms: float, ceiling: int, may_cut: bool) -> int:
    """The limit after one report of ``lag_ms``. Pure."""
    if lag_ms > budget_ms:
        return max(1, int(limit * DECREASE)) if may_cut else limit
    if lag_ms <= budget_ms * HEADROOM:
        return min(ceiling, limit + 1)
    return limit


class AdaptiveLimit:
    """An async context manager admitting at most :attr:`limit` holders at once, the
    limit moving between 1 and ``ceiling`` with the reports given to :meth:`observe`."""

    def __init__(self, ceiling: int, budget_ms: float, start: int = START) -> None:
        if ceiling < 1:
            raise ValueError(f"ceiling must be at least 1, not {ceiling}")
        self.ceiling = ceiling
        self.budget_ms = budget_ms
        self.limit = max(1, min(start, ceiling))
        self.in_flight = 0
        self.lowest = self.highest = self.limit
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._last_cut = -COOLDOWN_S

    def observe(self, lag_ms: float | None) -> None:
        """Take one probe's lag into account (``None``: it never saw a first chunk)."""
        if lag_ms is None:
            return
        now = time.monotonic()
        limit = next_limit(
            self.limit, lag_ms, self.budget_ms, self.ceiling, now - self._last_cut >= COOLDOWN_S
        )
        if limit < self.limit:
            self._last_cut = now
        self.limit = limit
        self.lowest = min(self.lowest, limit)
        self.highest = max(self.highest, limit)
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self.in_flight < self.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                self.in_flight += 1

    async def __aenter__(self) -> int:
        """Wait for a slot; the limit in force when it was granted."""
        if self.in_flight < self.limit and not self._waiters:
            self.in_flight += 1
            return self.limit
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.in_flight -= 1  # granted just as we were cancelled: hand it on
                self._wake()
            raise
        return self.limit

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.in_flight -= 1
        self._wake()
