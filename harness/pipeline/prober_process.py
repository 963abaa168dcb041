"""The prober of ``harness serve`` in a process of its own.

A prober on a thread of the server (:mod:`harness.pipeline.prober`) waits for no
request, but shares the interpreter lock with every one: at a thousand targets, ten
people refreshing the page, its JSON, the feed and the metrics keep the web thread
busy for most of each second, and every probe's callbacks queue behind that Python
for the lock, so the latencies the page shows grew with the number of people looking
at it (README, "A thousand targets"). In a process of its own the prober has an
interpreter to itself; the two meet only where they must:

- the **store**, which the prober writes and the server reads (as two servers sharing
  one store already do), and
- two **pipes** (:func:`multiprocessing.Pipe`): the prober tells the server what its
  metrics count as it happens (:class:`~harness.pipeline.serving.ProbeEvents`), and
  the server asks the prober what only the schedule knows (the providers running,
  the overruns), to run providers now, and to set the sandbox's faults.

The process is started with ``spawn`` (a fresh interpreter: forking a process whose
threads and event loop are running copies them half-way). It is given the
:class:`~harness.pipeline.serving.ProbingSpec` and opens everything itself. It ignores
SIGINT and SIGTERM, which a terminal sends the whole process group: the server stops
it, gracefully, when the server stops, and it stops by itself when the server is gone
(its pipe closes).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import multiprocessing
import pickle
import signal
import threading
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AsyncExitStack, suppress
from multiprocessing.connection import Connection
from typing import Any

from harness.emulator import FaultSpec
from harness.errors import HarnessError
from harness.pipeline.prober import ProberStopped
from harness.pipeline.serving import ProbeEvents, ProbingSpec, open_probing
from harness.policy.consensus import VantageStatus
from harness.policy.objectives import ObjectiveSet
from harness.policy.status import TargetStatus
from harness.probing import eventloop
from harness.result import ProbeResult
from harness.targets.endpoints import install_endpoints
from harness.targets.g4f import install

log = logging.getLogger(__name__)

EVENTS = frozenset({"observe", "set_statuses", "set_vantages", "overran"})
"""The :class:`~harness.pipeline.serving.ProbeEvents` the prober reports."""

EXIT_WAIT_S = 5.0
"""How long a process whose pipe closed is given to end, for its exit code."""

START_TIMEOUT_S = 300.0
"""How long the prober may take to start (gpt4free's providers load within it)."""


class ProberLost(HarnessError):
    """The prober's process ended while the server was running."""


class ProberProcess:
    """``harness serve``'s prober, run in a process of its own; what it hears of the runs
    goes to ``events`` (called on the loop that started it)."""

    def __init__(self, spec: ProbingSpec, events: ProbeEvents, *, grace: float) -> None:
        self._spec = spec
        self._events = events
        self._grace = grace
        self._process: Any = None  # multiprocessing's SpawnProcess
        self._orders: Connection | None = None
        self._answers: dict[int, asyncio.Future[Any]] = {}
        self._numbers = itertools.count()
        self._ready: asyncio.Future[tuple[str, ...]] | None = None
        self._stopping = False
        self._losing: asyncio.Task[None] | None = None
        self.lost: asyncio.Future[ProberLost] | None = None
        """Set when the process ended without being asked to: the server should stop."""
        self.providers: tuple[str, ...] = ()
        """The providers probed on the schedule."""

    @property
    def pid(self) -> int | None:
        """The prober's process id (``None`` until it starts)."""
        return self._process.pid if self._process is not None else None

    @property
    def exitcode(self) -> int | None:
        """How the prober's process ended (``None`` while it runs)."""
        return self._process.exitcode if self._process is not None else None

    async def start(self) -> None:
        """Start the process and wait until its schedule runs; an error while it opens
        what it needs (its store, gpt4free) is raised here."""
        if self._process is not None:
            raise RuntimeError("a prober starts once")
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        self.lost = loop.create_future()
        context = multiprocessing.get_context("spawn")
        orders_in, orders_out = context.Pipe(duplex=False)
        events_in, events_out = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_main,
            args=(self._spec, self._grace, orders_in, events_out),
            name="harness-prober",
        )
        await asyncio.to_thread(self._process.start)
        # The child holds its ends now; once it is gone, reading finds the pipe closed.
        orders_in.close()
        events_out.close()
        self._orders = orders_out
        threading.Thread(
            target=_read,
            args=(events_in, loop, self._heard),
            name="harness-prober-events",
            daemon=True,
        ).start()
        try:
            self.providers = await asyncio.wait_for(asyncio.shield(self._ready), START_TIMEOUT_S)
        except BaseException:
            await self.stop()
            raise
        if self._spec.settings.g4f.enabled and not self._spec.sandbox:
            # The page shows gpt4free's providers (their names, what they can do) as the
            # prober registered them: the same ones, registered here too, without workers.
            chosen = [
                name.removeprefix("g4f.") for name in self.providers if name.startswith("g4f.")
            ]
            await install(self._spec.settings.g4f, names=chosen)

    def _heard(self, message: tuple[Any, ...] | None) -> None:
        """One message from the prober (``None``: its pipe closed), on the server's loop."""
        if message is None:
            self._ended()
            return
        kind = message[0]
        if kind == "event" and message[1] in EVENTS:
            getattr(self._events, message[1])(*message[2])
        elif kind == "answer":
            future = self._answers.pop(message[1], None)
            if future is not None and not future.done():
                if message[3] is not None:
                    future.set_exception(message[3])
                else:
                    future.set_result(message[2])
        elif kind == "ready" and self._ready is not None and not self._ready.done():
            self._ready.set_result(tuple(message[1]))
        elif kind == "failed" and self._ready is not None and not self._ready.done():
            self._ready.set_exception(message[1])

    def _ended(self) -> None:
        gone = ProberStopped("the prober is not running")
        for future in self._answers.values():
            if not future.done():
                future.set_exception(gone)
        self._answers.clear()
        if not self._stopping:
            self._losing = asyncio.create_task(self._lose())

    async def _lose(self) -> None:
        """Say how the process ended (its pipe closes before it is reaped)."""
        process = self._process
        await asyncio.to_thread(process.join, EXIT_WAIT_S)
        lost = ProberLost(f"the prober's process ended unexpectedly (exit code {process.exitcode})")
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(lost)
        elif not self._stopping and self.lost is not None and not self.lost.done():
            log.error("%s", lost)
            self.lost.set_result(lost)

    async def _ask(self, name: str, *args: Any) -> Any:
        orders = self._orders
        if orders is None or self._stopping or (self.lost is not None and self.lost.done()):
            raise ProberStopped("the prober is not running")
        number = next(self._numbers)
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._answers[number] = answer
        try:
            orders.send(("ask", number, name, args))
        except OSError:
            self._answers.pop(number, None)
            raise ProberStopped("the prober is not running") from None
        return await answer

    async def running(self) -> frozenset[str]:
        """The providers being probed right now."""
        return frozenset(await self._ask("running"))

    async def trigger(self, providers: list[str] | None = None) -> dict[str, str]:
        """Run providers now (default: all): :meth:`ProbeScheduler.trigger`'s answer."""
        answer: dict[str, str] = await self._ask("trigger", providers)
        return answer

    async def overruns(self) -> dict[str, int]:
        """Each scheduled provider's overruns so far."""
        answer: dict[str, int] = await self._ask("overruns")
        return answer

    async def set_fault(self, provider: str, spec: FaultSpec) -> None:
        """Set a fault of the sandbox's emulators (which run in the prober's process)."""
        await self._ask("set_fault", provider, spec)

    async def idle(self) -> None:
        """Return once no run is in flight on the prober."""
        with suppress(ProberStopped):
            await self._ask("idle")

    async def stop(self) -> None:
        """Stop the schedule gracefully (in-flight probes get the grace period), close
        what the prober opened, and return once its process has ended."""
        process, orders = self._process, self._orders
        if process is None or self._stopping:
            return
        self._stopping = True
        if orders is not None:
            with suppress(OSError):
                orders.send(("stop",))
        await asyncio.to_thread(process.join, self._grace + START_TIMEOUT_S)
        if process.is_alive():
            log.error("the prober's process did not stop in time: killed")
            process.kill()
            await asyncio.to_thread(process.join)
        if orders is not None:
            orders.close()


def _read(
    pipe: Connection,
    loop: asyncio.AbstractEventLoop,
    heard: Callable[[tuple[Any, ...] | None], None],
) -> None:
    """Hand every message of ``pipe`` to ``heard`` on ``loop``, then ``None`` once it
    closes (a thread: the pipe is read by blocking)."""
    while True:
        try:
            message = pipe.recv()
        except (EOFError, OSError):
            message = None
        try:
            loop.call_soon_threadsafe(heard, message)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            return
        if message is None:
            pipe.close()
            return


# --- in the prober's process -------------------------------------------------------------


def _main(spec: ProbingSpec, grace: float, orders: Connection, events: Connection) -> None:
    """The prober's process: until told to stop (or the server is gone)."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    eventloop.run(_probe(spec, grace, orders, events))


class _Reporter:
    """:class:`~harness.pipeline.serving.ProbeEvents` sent to the server."""

    def __init__(self, pipe: Connection) -> None:
        self._pipe = pipe

    def _send(self, name: str, *args: Any) -> None:
        with suppress(OSError):  # the server is gone: this process is stopping
            self._pipe.send(("event", name, args))

    def observe(self, result: ProbeResult) -> None:
        self._send("observe", result)

    def set_statuses(
        self, statuses: Iterable[TargetStatus], objectives: ObjectiveSet | None = None
    ) -> None:
        self._send("set_statuses", list(statuses), objectives)

    def set_vantages(self, views: Iterable[VantageStatus]) -> None:
        self._send("set_vantages", list(views))

    def overran(self, provider: str, tier: str) -> None:
        self._send("overran", provider, tier)


async def _probe(spec: ProbingSpec, grace: float, orders: Connection, events: Connection) -> None:
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[tuple[Any, ...] | None] = asyncio.Queue()
    threading.Thread(
        target=_read,
        args=(orders, loop, inbox.put_nowait),
        name="harness-prober-orders",
        daemon=True,
    ).start()
    async with AsyncExitStack() as stack:
        try:
            install_endpoints(spec.settings)
            probing = await open_probing(stack, spec, _Reporter(events))
        except Exception as exc:
            events.send(("failed", _sendable(exc)))
            return
        scheduler = probing.scheduler
        scheduler.start()
        events.send(("ready", scheduler.providers))

        answers: dict[str, Callable[..., Any]] = {
            "running": lambda: sorted(scheduler.running),
            "trigger": scheduler.trigger,
            "overruns": lambda: {name: scheduler.overruns_of(name) for name in scheduler.providers},
            "set_fault": (
                probing.emulator.set_fault if probing.emulator is not None else _no_emulators
            ),
            "idle": scheduler.idle,
        }
        pending: set[asyncio.Task[None]] = set()
        try:
            while (order := await inbox.get()) is not None and order[0] == "ask":
                _, number, name, args = order
                task = asyncio.create_task(_answer(events, number, answers[name], args))
                pending.add(task)
                task.add_done_callback(pending.discard)
        finally:
            await scheduler.stop(grace=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)


def _no_emulators(provider: str, spec: FaultSpec) -> None:
    raise ProberStopped("the prober probes no emulators")


async def _answer(
    events: Connection, number: int, function: Callable[..., Any], args: tuple[Any, ...]
) -> None:
    try:
        value = function(*args)
        if isinstance(value, Awaitable):
            value = await value
    except Exception as exc:
        reply: tuple[Any, ...] = ("answer", number, None, _sendable(exc))
    else:
        reply = ("answer", number, value, None)
    with suppress(OSError):
        events.send(reply)


def _sendable(exc: Exception) -> Exception:
    """``exc`` if it survives the pipe (pickling), else a :class:`HarnessError` saying it."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return HarnessError(f"{type(exc).__name__}: {exc}")
    return exc
