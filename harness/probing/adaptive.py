"""``--concurrency auto``: as many probes in flight as the event loop can time well.

Every probe reports how late the loop ran callbacks around its first chunk
(``loop_lag_ms``, :mod:`harness.probing.looplag`). :class:`AdaptiveLimit` turns those
reports into a limit on probes in flight, the way TCP sizes its window: at first one
more slot for every report well under the budget (the limit doubles each round of
probes), a quarter fewer when one is over it (at most once per :data:`COOLDOWN_S`,
since one stall is seen by every probe in flight), and after the first cut only one
more slot per round (``1/limit`` per report), so it hovers below the point where the
loop fell behind instead of overshooting it again. Timings then stay within the
budget whatever concurrency was asked for, at the cost of some wall time when the
machine cannot keep up.
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


def next_window(
    window: float, lag_ms: float, budget_ms: float, ceiling: int, *, may_cut: bool, cut_before: bool
) -> float:
    """The window (the limit, with fractions) after one report of ``lag_ms``. Pure."""
    if lag_ms > budget_ms:
        return max(1.0, window * DECREASE) if may_cut else window
    if lag_ms <= budget_ms * HEADROOM:
        return min(float(ceiling), window + (1 / window if cut_before else 1.0))
    return window


class AdaptiveLimit:
    """An async context manager admitting at most :attr:`limit` holders at once, the
    limit moving between 1 and ``ceiling`` with the reports given to :meth:`observe`."""

    def __init__(self, ceiling: int, budget_ms: float, start: int = START) -> None:
        if ceiling < 1:
            raise ValueError(f"ceiling must be at least 1, not {ceiling}")
        self.ceiling = ceiling
        self.budget_ms = budget_ms
        self._window = float(max(1, min(start, ceiling)))
        self.in_flight = 0
        self.lowest = self.highest = self.limit
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._last_cut: float | None = None

    @property
    def limit(self) -> int:
        """Probes allowed in flight now."""
        return int(self._window)

    def observe(self, lag_ms: float | None) -> None:
        """Take one probe's lag into account (``None``: it never saw a first chunk)."""
        if lag_ms is None:
            return
        now = time.monotonic()
        window = next_window(
            self._window,
            lag_ms,
            self.budget_ms,
            self.ceiling,
            may_cut=self._last_cut is None or now - self._last_cut >= COOLDOWN_S,
            cut_before=self._last_cut is not None,
        )
        if window < self._window:
            self._last_cut = now
        self._window = window
        self.lowest = min(self.lowest, self.limit)
        self.highest = max(self.highest, self.limit)
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
