"""The prober of ``harness serve`` on an event loop of its own, in a thread of its own.

Every probe's timing is taken by callbacks of the loop it runs on (its first chunk,
the loop-lag ticks of :mod:`harness.probing.looplag`). On the web server's loop, each
request for the page, the JSON API, a feed or the metrics holds those callbacks back
for as long as it reads the store and renders: with a few viewers of a page of
hundreds of targets, that is tens of milliseconds at a time, and the latencies the
page shows grew with the number of people looking at it. Here the scheduler, the
runner and the store they write to (a store of their own: stores are per loop) run
on a second loop in a thread, so that web requests wait for the prober, never the
reverse.

A thread shares the interpreter lock with the requests, though: a thread busy in
Python (rendering a page, the store's thread deciding a run) holds it until the
interpreter's switch interval asks it to let go, 5 ms by default, the whole default
lag budget. So :meth:`Prober.start` shortens the switch interval to
:data:`SWITCH_INTERVAL_S`; and ``harness serve`` runs its prober in a process of its
own instead (:mod:`harness.pipeline.prober_process`), where a thousand targets and ten
people looking showed the difference (README, "A thousand targets"). The thread stays
for an app built in a process that also holds what it probes (tests, whose providers
are registered in the test's process).

Everything crossing between the threads goes through the prober loop's own queue
(:func:`asyncio.run_coroutine_threadsafe`): :meth:`Prober.call` runs a function on it
and hands the answer back to the caller's loop. Stopping is graceful as before: the
scheduler's :meth:`~harness.pipeline.scheduler.ProbeScheduler.stop` runs on the
prober's loop, then what the setup opened (its store, the emulators) closes there.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from contextlib import AsyncExitStack, suppress
from typing import TypeVar

from harness.emulator import FaultSpec
from harness.errors import HarnessError
from harness.pipeline.scheduler import ProbeScheduler
from harness.pipeline.serving import Probing
from harness.probing import eventloop

T = TypeVar("T")

SWITCH_INTERVAL_S = 0.0005
"""How long a thread holding the interpreter lock keeps it when another asks for it
(Python's default: 5 ms): the most a busy web thread delays a probe's callback."""

Setup = Callable[[AsyncExitStack], Awaitable[Probing]]
"""Run on the prober's loop: open what probing needs (entered in the stack, closed
after the scheduler stops) and return it, its scheduler not yet started."""


class ProberStopped(HarnessError):
    """The prober is not running (it never started, failed, or was stopped)."""


class Prober:
    """A :class:`~harness.pipeline.scheduler.ProbeScheduler` and what it needs, made by
    ``setup`` and run on an event loop in a thread of its own."""

    def __init__(self, setup: Setup, *, grace: float, name: str = "harness-prober") -> None:
        self._setup = setup
        self._grace = grace
        self._name = name
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._scheduler: ProbeScheduler | None = None
        self._probing: Probing | None = None
        self.providers: tuple[str, ...] = ()
        """The providers probed on the schedule."""

    async def start(self) -> None:
        """Start the thread and wait (without blocking the caller's loop) until its
        scheduler runs; an error of the setup is raised here."""
        if self._thread is not None:
            raise RuntimeError("a prober starts once")
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
        self._thread = threading.Thread(target=self._main, name=self._name, daemon=True)
        self._thread.start()
        await asyncio.to_thread(self._ready.wait)
        if self._failure is not None:
            await asyncio.to_thread(self._thread.join)
            raise self._failure

    def _main(self) -> None:
        try:
            eventloop.run(self._probe())
        except BaseException as exc:  # handed to start(), which raises it
            if not self._ready.is_set():
                self._failure = exc
        finally:
            self._ready.set()

    async def _probe(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        async with AsyncExitStack() as stack:
            probing = await self._setup(stack)
            scheduler = probing.scheduler
            scheduler.start()
            self._scheduler, self._probing = scheduler, probing
            self.providers = scheduler.providers
            self._ready.set()
            try:
                await self._stopping.wait()
            finally:
                await scheduler.stop(grace=self._grace)

    async def call(self, function: Callable[[ProbeScheduler], T]) -> T:
        """``function(scheduler)`` run on the prober's loop; its answer (or error)."""
        loop, scheduler = self._loop, self._scheduler
        if loop is None or scheduler is None or loop.is_closed():
            raise ProberStopped("the prober is not running")

        async def on_prober_loop() -> T:
            return function(scheduler)

        future: Future[T] = asyncio.run_coroutine_threadsafe(on_prober_loop(), loop)
        return await asyncio.wrap_future(future)

    async def running(self) -> frozenset[str]:
        """The providers being probed right now."""
        return await self.call(lambda scheduler: scheduler.running)

    async def trigger(self, providers: list[str] | None = None) -> dict[str, str]:
        """Run providers now (default: all): :meth:`ProbeScheduler.trigger`'s answer."""
        return await self.call(lambda scheduler: scheduler.trigger(providers))

    async def overruns(self) -> dict[str, int]:
        """Each scheduled provider's overruns so far."""
        return await self.call(lambda s: {name: s.overruns_of(name) for name in s.providers})

    async def set_fault(self, provider: str, spec: FaultSpec) -> None:
        """Set a fault of the sandbox's emulators (which answer on the prober's loop)."""
        emulator = self._probing.emulator if self._probing is not None else None
        if emulator is None:
            raise ProberStopped("the prober probes no emulators")
        await self.call(lambda _: emulator.set_fault(provider, spec))

    async def idle(self) -> None:
        """Return once no run is in flight on the prober."""
        loop, scheduler = self._loop, self._scheduler
        if loop is None or scheduler is None:
            return
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(scheduler.idle(), loop))

    async def stop(self) -> None:
        """Stop the schedule gracefully (in-flight probes get the grace period) and
        close what the setup opened; return once the thread has ended."""
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None:
            return
        if loop is not None and stopping is not None and not loop.is_closed():
            # A loop closed meanwhile raises RuntimeError: its thread is ending anyway.
            with suppress(RuntimeError):
                loop.call_soon_threadsafe(stopping.set)
        await asyncio.to_thread(thread.join)
