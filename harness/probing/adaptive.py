"""``--concurrency auto``: as many probes in flight as the event loop can time well.

A probe is timing-suspect when the loop ran late by more than the lag budget around
its first chunk (:mod:`harness.probing.looplag`). How many are comes down to how much
of the time the loop runs that late, so that is what :class:`AdaptiveLimit` watches:
the loop's own lateness, from the lag monitor's ticks, window by window
(:data:`WINDOW_S`), as the share of the window spent stalled past the budget. A window
stalled more than :data:`STALLED_SHARE` cuts the limit on probes in flight by a
quarter; a calm window in which the limit was reached raises it, doubling while it
ramps up from a low start (:data:`START`) and then by one slot at a time, so it hovers
below where the loop fell behind; anything in between holds it. A window, not a
probe's report: a report comes a whole probe after the stall it tells of (the
previous rule, reacting to each, cut too late and then for stalls long past), and one
stall is seen by every probe in flight.

One limit per event loop (:func:`adaptive_limit`), shared by every run on it at
``auto``: ``harness serve`` runs each provider on its own, a few targets at a time,
hundreds of runs an interval; a limit of each run's own (as before) let every run
start all its probes at once whatever the loop's state, which left 7 % of results
timing-suspect at 310 targets. The shared limit's ceiling is the sum of the runs'.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType

from harness.policy.aggregate import percentile
from harness.probing.looplag import LagMonitor, lag_monitor

START = 2
"""Probes in flight before the first window."""

WINDOW_S = 0.1
"""How often the limit moves, at most: long enough for ~50 ticks of the lag monitor."""

MIN_TICKS = 10
"""A window with fewer ticks (the loop stalled throughout, or it just began) says
only whether it stalled."""

STALLED_SHARE = 0.005
"""The share of a window the loop may spend late past the budget: above it, a cut."""

DECREASE = 0.75
"""The factor the limit shrinks by after a stalled window."""

RAMP = 2.0
"""The factor it grows by per calm window until the first cut."""

HEADROOM = 0.5
"""A window is calm when its ticks' p90 lateness is at most this share of the budget
and none ran past it."""


@dataclass(frozen=True)
class Window:
    """What the loop did during one window: how late each tick ran (seconds), and how
    long the window was (seconds). Pure."""

    lateness: Sequence[float]
    elapsed: float

    def stalled_share(self, budget_s: float) -> float:
        """The share of the window the loop spent late past the budget."""
        if self.elapsed <= 0:
            return 0.0
        return sum(late for late in self.lateness if late > budget_s) / self.elapsed

    def calm(self, budget_s: float) -> bool:
        """Whether the loop kept well within the budget throughout."""
        if len(self.lateness) < MIN_TICKS or max(self.lateness) > budget_s:
            return False
        return percentile(self.lateness, 90) <= budget_s * HEADROOM


def next_limit(
    limit: float,
    window: Window,
    budget_ms: float,
    ceiling: int,
    *,
    saturated: bool,
    ramping: bool,
) -> tuple[float, bool]:
    """The limit (with fractions) after ``window``, and whether it is still ramping up.
    ``saturated``: whether the limit held probes back in the window (a limit that was
    never reached is not raised: it would only allow the next burst). Pure."""
    budget_s = budget_ms / 1000
    if window.stalled_share(budget_s) > STALLED_SHARE:
        return max(1.0, limit * DECREASE), False
    if saturated and window.calm(budget_s):
        grown = limit * RAMP if ramping else limit + 1
        return min(float(ceiling), grown), ramping
    return min(limit, float(ceiling)), ramping


class AdaptiveLimit:
    """An async context manager admitting at most :attr:`limit` holders at once, the
    limit moving between 1 and :attr:`ceiling` with the loop's lag, read from
    ``monitor`` once a window."""

    def __init__(
        self, ceiling: int, budget_ms: float, monitor: LagMonitor, start: int = START
    ) -> None:
        if ceiling < 1:
            raise ValueError(f"ceiling must be at least 1, not {ceiling}")
        self.ceiling = ceiling
        self.budget_ms = budget_ms
        self._monitor = monitor
        self._window = float(max(1, min(start, ceiling)))
        self._ramping = True
        self._window_start = time.perf_counter()
        self._saturated = False
        self.in_flight = 0
        self.lowest = self.highest = self.limit
        self._waiters: deque[asyncio.Future[None]] = deque()
        self.users = 0

    @property
    def limit(self) -> int:
        """Probes allowed in flight now."""
        return int(self._window)

    def _adjust(self) -> None:
        now = time.perf_counter()
        elapsed = now - self._window_start
        if elapsed < WINDOW_S:
            return
        window = Window(self._monitor.lateness_since(self._window_start), elapsed)
        self._window, self._ramping = next_limit(
            self._window,
            window,
            self.budget_ms,
            self.ceiling,
            saturated=self._saturated or bool(self._waiters),
            ramping=self._ramping,
        )
        self._window_start = now
        self._saturated = False
        self.lowest = min(self.lowest, self.limit)
        self.highest = max(self.highest, self.limit)

    def _wake(self) -> None:
        self._adjust()
        while self._waiters and self.in_flight < self.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                self.in_flight += 1

    async def __aenter__(self) -> int:
        """Wait for a slot; the limit in force when it was granted."""
        self._adjust()
        if self.in_flight < self.limit and not self._waiters:
            self.in_flight += 1
            return self.limit
        self._saturated = True
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


_limits: dict[asyncio.AbstractEventLoop, AdaptiveLimit] = {}


@contextmanager
def adaptive_limit(ceiling: int, budget_ms: float) -> Iterator[AdaptiveLimit]:
    """The running loop's limit, shared by every run inside the block: its ceiling
    grows by ``ceiling`` while the block lasts, its budget is the smallest asked."""
    if ceiling < 1:
        raise ValueError(f"ceiling must be at least 1, not {ceiling}")
    loop = asyncio.get_running_loop()
    with lag_monitor() as monitor:
        limit = _limits.get(loop)
        if limit is None:
            limit = _limits[loop] = AdaptiveLimit(ceiling, budget_ms, monitor)
        else:
            limit.ceiling += ceiling
            limit.budget_ms = min(limit.budget_ms, budget_ms)
        limit.users += 1
        try:
            yield limit
        finally:
            limit.users -= 1
            if limit.users == 0:
                del _limits[loop]
            else:
                limit.ceiling -= ceiling
