"""How late the event loop runs callbacks: the error bar on every timing the harness takes.

A probe's timestamps are taken by code the event loop runs; when the loop is busy
(hundreds of streams at once, a slow callback), the data has been waiting on the
socket before that code runs, and ``ttfc_ms`` is too large by that much. A
:class:`LagMonitor` measures the delay: while probes are in flight it keeps a timer
running every :data:`TICK_S` and records how late each one ran (lateness = the time
it ran minus the time it was due). :meth:`LagMonitor.worst` gives the largest
lateness of the ticks due or run around a moment (a stall that held up the probe's
first chunk held up the tick due then too), which the probe stores as ``loop_lag_ms``.

One monitor serves every probe on a loop (:func:`lag_monitor` counts its users and
stops the timer when the last one leaves), so the cost does not grow with the number
of probes: about :data:`TICK_S`\\ :sup:`-1` tiny callbacks a second while probing,
none while idle.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

DEFAULT_BUDGET_MS = 5.0
"""Results whose ``loop_lag_ms`` is over the budget are timing-suspect: they count for
pass/fail but not for latency percentiles (configurable: ``timing.lag_budget_ms``)."""

TICK_S = 0.002
"""How often the monitor's timer is due while probes are in flight."""

HISTORY = 4096
"""Samples kept (about 8 s at :data:`TICK_S`): enough to look around a first chunk
from the end of any but very long probes."""

WINDOW_S = 2 * TICK_S
"""How far either side of a moment :meth:`LagMonitor.worst` looks by default: a stall
that delayed the moment's callback delayed the ticks due within a tick of it too."""


class LagMonitor:
    """Lateness samples of a repeating timer on one event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, tick_s: float = TICK_S) -> None:
        self._loop = loop
        self.tick_s = tick_s
        # Per tick, oldest first, on ``time.perf_counter`` (the probes' clock): when it
        # was due and when it ran (both ascending), and how late it ran (seconds).
        self._due: deque[float] = deque(maxlen=HISTORY)
        self._ran: deque[float] = deque(maxlen=HISTORY)
        self._late: deque[float] = deque(maxlen=HISTORY)
        # The pending tick, and when it is due on ``time.perf_counter``: the loop's own
        # clock has only millisecond resolution on uvloop.
        self._handle: asyncio.Handle | None = None
        self._due_at = 0.0
        self.users = 0

    def _schedule(self) -> None:
        self._due_at = time.perf_counter() + self.tick_s
        self._handle = self._loop.call_later(self.tick_s, self._tick)

    def start(self) -> None:
        """Start ticking (no-op when already ticking)."""
        if self._handle is None:
            self._schedule()

    def stop(self) -> None:
        """Stop ticking; the samples taken so far stay readable."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _tick(self) -> None:
        ran = time.perf_counter()
        late = max(0.0, ran - self._due_at)
        self._due.append(ran - late)
        self._ran.append(ran)
        self._late.append(late)
        self._schedule()

    def worst(self, at: float, window: float = WINDOW_S) -> float:
        """The largest lateness (seconds) of the ticks due or run within ``window`` of
        ``at`` (``time.perf_counter`` seconds), counting the pending tick if it is
        overdue; 0.0 when none was late then (the loop was on time to within a tick)."""
        worst = 0.0
        # A deque indexes its middle in O(n / 64): a bisection over 4096 samples is cheap.
        i = bisect.bisect_left(self._ran, at - window)
        while i < len(self._due) and self._due[i] <= at + window:
            worst = max(worst, self._late[i])
            i += 1
        if self._handle is not None:
            overdue = time.perf_counter() - self._due_at
            if overdue > 0 and self._due_at <= at + window:
                worst = max(worst, overdue)
        return worst

    def lateness_since(self, since: float) -> list[float]:
        """How late (seconds) each tick that ran at or after ``since`` ran, oldest first,
        the pending tick counted when it is overdue (``time.perf_counter`` seconds)."""
        i = bisect.bisect_left(self._ran, since)
        late = [self._late[j] for j in range(i, len(self._late))]
        if self._handle is not None:
            overdue = time.perf_counter() - self._due_at
            if overdue > 0:
                late.append(overdue)
        return late


_monitors: dict[asyncio.AbstractEventLoop, LagMonitor] = {}


@contextmanager
def lag_monitor() -> Iterator[LagMonitor]:
    """The running loop's monitor, ticking for as long as any user is inside the block."""
    loop = asyncio.get_running_loop()
    monitor = _monitors.get(loop)
    if monitor is None:
        monitor = _monitors[loop] = LagMonitor(loop)
    monitor.users += 1
    monitor.start()
    try:
        yield monitor
    finally:
        monitor.users -= 1
        if monitor.users == 0:
            monitor.stop()
            del _monitors[loop]
