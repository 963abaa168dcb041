"""Running untrusted provider code off the caller's event loop.

gpt4free's providers are third-party code: some block the event loop (``time.sleep``,
``requests`` inside ``async def``), some ignore cancellation, some do network I/O
when their module is imported. Each call therefore runs in a daemon thread of its
own, with an event loop of its own, and hands its items to the caller's loop
through a bounded queue. The caller's loop never runs provider code, so the
caller's deadlines (``asyncio.timeout`` around each wait) fire on time whatever the
provider does.

What is left running: a thread cannot be killed. When the caller stops reading
(a deadline fired, or the stream was closed), the call's task is cancelled on its
own loop and the caller moves on at once. A provider stuck in ``time.sleep`` sees
the cancellation when the sleep returns; one that swallows ``CancelledError`` may
never end. Such a thread is *lingering*: :class:`Lane` keeps track of them, and a
provider with a lingering call gets no new call until it ends (it fails at once with
:class:`~providers.errors.StuckProviderError`), so one wedged provider holds at most
the threads it had in flight, never one more per probe. Threads are daemons: the
process exits without waiting for them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import Any, Generic, TypeVar

from ..errors import StuckProviderError

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

QUEUE_SIZE = 64
"""Items a call may run ahead of its reader before it waits (bounded memory)."""

STUCK_AFTER_S = 1.0
"""How long a cancelled call may take to end before its provider counts as stuck."""


class Lane:
    """The calls of one provider: starts each in its own thread, tracks the lingering ones."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lingering: dict[threading.Thread, float] = {}
        self._lock = threading.Lock()

    def lingering(self) -> int:
        """How many cancelled calls of this provider are still running."""
        with self._lock:
            for thread in [t for t in self._lingering if not t.is_alive()]:
                del self._lingering[thread]
            return len(self._lingering)

    def _check(self) -> None:
        now = time.monotonic()
        with self._lock:
            self._lingering = {t: at for t, at in self._lingering.items() if t.is_alive()}
            stuck = [at for at in self._lingering.values() if now - at >= STUCK_AFTER_S]
        if stuck:
            since = now - min(stuck)
            raise StuckProviderError(
                f"{len(stuck)} earlier call(s) of {self.name} still running {since:.1f} s "
                "after being cancelled (the provider blocks its event loop or ignores "
                "cancellation); not calling it again until they end"
            )

    def _linger(self, thread: threading.Thread) -> None:
        with self._lock:
            self._lingering.setdefault(thread, time.monotonic())

    async def stream(self, start: Callable[[], AsyncIterator[T]]) -> AsyncIterator[T]:
        """The items of ``start()``'s async iterator, produced in a thread of its own.

        The iterator's exception, if any, is raised here. Closing this generator (or
        cancelling the task reading it) cancels the call without waiting for it.
        """
        self._check()
        call = _Call[T](asyncio.get_running_loop(), start, self.name)
        call.thread.start()
        finished = False
        try:
            while True:
                finished, value = await call.queue.get()
                if finished:
                    if value is not None:
                        raise value
                    return
                yield value
        finally:
            # A call that answered to the end is winding down, not stuck.
            if call.stop() and not finished:
                self._linger(call.thread)


class _Call(Generic[T]):
    """One call in its own thread: the worker side pumps items into the caller's queue."""

    def __init__(
        self, caller: asyncio.AbstractEventLoop, start: Callable[[], AsyncIterator[T]], name: str
    ) -> None:
        self.caller = caller
        self.start = start
        self.queue: asyncio.Queue[tuple[bool, Any]] = asyncio.Queue(QUEUE_SIZE)
        self.thread = threading.Thread(target=self._main, name=f"provider {name}", daemon=True)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopped = False
        self._ended = False

    # --- caller side -------------------------------------------------------------------

    def stop(self) -> bool:
        """Cancel the call if it still runs; True when its thread is still alive."""
        with self._lock:
            self._stopped = True
            if self._loop is not None and self._task is not None and not self._ended:
                with contextlib.suppress(RuntimeError):  # its loop closed meanwhile
                    self._loop.call_soon_threadsafe(self._task.cancel)
        return self.thread.is_alive() and not self._ended

    # --- worker side -------------------------------------------------------------------

    def _main(self) -> None:
        try:
            asyncio.run(self._pump())
        finally:
            with self._lock:
                self._ended = True

    async def _pump(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.current_task()
        # What the provider leaves behind (unretrieved task errors, unclosed sessions)
        # is its own business: logged for debugging, not printed over the caller's output.
        self._loop.set_exception_handler(self._leftover)
        outcome: BaseException | None = None
        try:
            iterator = self.start()
            try:
                async for item in iterator:
                    await self._hand((False, item))
            finally:
                close = getattr(iterator, "aclose", None)
                if close is not None:
                    with contextlib.suppress(Exception):
                        await close()
        except asyncio.CancelledError:
            return  # the caller stopped reading; nobody waits for an answer
        except _CallerGone:
            return
        except BaseException as exc:  # the provider's failure is the answer
            outcome = exc
        with contextlib.suppress(_CallerGone, asyncio.CancelledError):
            await self._hand((True, outcome))

    def _leftover(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        log.debug("%s left behind: %s", self.thread.name, context.get("message"))

    async def _hand(self, entry: tuple[bool, Any]) -> None:
        """Put ``entry`` in the caller's queue, waiting (cancellably) while it is full."""
        put = self.queue.put(entry)
        try:
            future = asyncio.run_coroutine_threadsafe(put, self.caller)
        except RuntimeError:  # the caller's loop is closed
            put.close()
            raise _CallerGone from None
        try:
            await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except concurrent.futures.CancelledError:
            raise _CallerGone from None


class _CallerGone(Exception):
    """The caller's loop stopped while the call was handing it an item."""


async def in_thread(function: Callable[[], R], timeout: float, what: str) -> R:
    """``function()`` in a daemon thread of its own, waited for at most ``timeout`` seconds.

    On expiry ``TimeoutError`` names ``what``; the thread is left to finish on its own
    (imports cannot be interrupted). The caller's loop is never blocked.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[R] = loop.create_future()

    def main() -> None:
        try:
            settle = partial(_settle, future, value=function())
        except Exception as exc:
            settle = partial(_settle, future, error=exc)
        except BaseException as exc:  # SystemExit from a module: not ours to raise
            settle = partial(_settle, future, error=RuntimeError(f"{what} raised {exc!r}"))
        with contextlib.suppress(RuntimeError):  # the caller's loop is closed
            loop.call_soon_threadsafe(settle)

    threading.Thread(target=main, name=f"load {what}", daemon=True).start()
    try:
        async with asyncio.timeout(timeout):
            return await future
    except TimeoutError:
        raise TimeoutError(f"{what} did not finish within {timeout:g} s") from None


def _settle(
    future: asyncio.Future[Any], value: Any = None, error: BaseException | None = None
) -> None:
    if future.done():  # the caller gave up waiting
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)
