"""Running untrusted provider code where it can be stopped: in worker processes.

gpt4free's providers are third-party code: some block their event loop
(``time.sleep``, ``requests`` inside ``async def``), some spin, ignore cancellation,
or allocate without end. A thread running such code cannot be stopped; a process can.
So every call runs in a worker process (:mod:`~.worker`) of a small pool,
:class:`Workers`, and the caller's event loop only reads its answer.

Design:

* **Processes, started clean.** A worker is ``python -m providers.gpt4free.worker``,
  started with ``subprocess`` (fork + exec at once): nothing of the caller's running
  event loop, threads or locks is copied into it, as it would be by a bare ``fork``,
  and unlike multiprocessing's ``spawn`` it does not re-import the caller's main
  module. It gets the caller's ``sys.path`` (so a test module's fake providers can be
  imported by reference), its output goes nowhere (gpt4free prints as it loads), and
  it runs in a session of its own (a Ctrl-C at the terminal is the harness's to handle).
* **A socket pair and JSON lines** (:mod:`~.wire`): the call goes one way, the answer
  data comes back line by line as the provider yields it (one write per item, so time
  to first chunk is the provider's, plus a local round trip); only text, finish
  reasons, usage counts and a described error cross. The caller reads through an
  ``asyncio`` stream opened on the running loop for the length of the call, so the
  pool holds no thread and works from any loop, one after another; the socket's
  buffer is the bound on how far a worker may run ahead of its reader.
* **One call per worker at a time**, so a provider that blocks or spins delays nobody
  else, and killing its worker ends nobody else's call. Workers are reused (importing
  gpt4free takes about a second), kept warm up to ``size`` (the runner's concurrency
  for gpt4free; a call beyond it waits for a worker); a dead or killed worker is
  replaced at once, so the next call does not pay for the import, and an idle worker
  that has gpt4free imported goes before one still importing. A call stopped before
  its worker was ready blames nobody: the provider never ran.
* **Stopped at a deadline plus grace.** When the caller stops reading before the
  answer ended (its deadline fired, or it closed the stream), the worker is told to
  cancel the call and given ``grace_s`` to end it. A worker that does not (its loop
  is blocked, it spins, it swallows the cancellation) is killed, and the stream raises
  :class:`~providers.errors.ProviderKilledError` saying so; a worker that dies during
  a call (out of memory, a crash) does the same with its exit code or last words.
* **A memory cap** (``memory_mb``, ``RLIMIT_AS`` in the worker): a provider that
  allocates without end gets ``MemoryError``, and its worker exits and is replaced.
  A worker that grew past half its cap while answering is retired after the call.
* **Loading stays in threads** (:func:`in_thread`, for the catalog): the harness needs
  each provider class's attributes in its own process, to choose and wrap it, so the
  modules are imported here, once per run, each under a deadline; an import that
  hangs leaves its thread behind, but a hang can only happen at start-up, never once
  per probe.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import itertools
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from ..errors import ProviderKilledError, ResponseTooLargeError
from ..messages import Chunk
from . import wire

log = logging.getLogger(__name__)

R = TypeVar("R")

GRACE_S = 3.0
"""How long a call may take to end after being told to stop, before its worker is killed
(below the 5 s the harness's probe gives a stream to close)."""

MEMORY_MB = 1024
"""The default cap on a worker's address space."""

SIZE = 4
"""Workers of the default pool until :func:`configure` says otherwise."""

READY_S = 60.0
"""How long a worker may take to import gpt4free before it is given up as stuck."""

REAP_S = 5.0
"""How long a killed or exiting worker may take to be gone."""


@dataclass(frozen=True)
class Call:
    """One call of a gpt4free provider, as a worker makes it.

    ``ref`` names the provider class (:func:`reference`);
    ``options`` are its keyword arguments (``stream``, ``base_url``, ``api_key``, ...).
    """

    ref: str
    model: str
    messages: list[dict[str, Any]]
    options: dict[str, Any]


def reference(cls: type, name: str) -> str:
    """How a worker finds ``cls``, gpt4free's provider ``name``: by ``module:qualname``
    where that names it, else by ``name`` (gpt4free's loader makes some classes at run
    time, in modules that do not hold them)."""
    found: Any = sys.modules.get(cls.__module__)
    for part in cls.__qualname__.split("."):
        found = getattr(found, part, None)
    return f"{cls.__module__}:{cls.__qualname__}" if found is cls else name


class _Worker:
    """One worker process and the harness's end of its socket."""

    def __init__(self, options: dict[str, Any]) -> None:
        ours, theirs = socket.socketpair()
        paths = [path for path in sys.path if path]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths), "MALLOC_ARENA_MAX": "2"}
        module = __name__.rsplit(".", 1)[0] + ".worker"
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", module, str(theirs.fileno()), json.dumps(options)],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.socket = ours
        self.last_words: str | None = None
        self.born = time.monotonic()
        self.said_ready = False
        """Set by the reader that met the worker's first line, ``{"ready": true}``."""

    def ready(self) -> bool:
        """True once the worker has gpt4free imported: its first line has arrived."""
        if not self.said_ready:
            try:
                peeked = self.socket.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
            except OSError:  # nothing yet, or the socket is closed
                return False
            self.said_ready = bool(peeked)
        return self.said_ready

    def alive(self) -> bool:
        return self.process.poll() is None

    def usable(self) -> bool:
        """Alive, and ready or not yet too long in starting."""
        return self.alive() and (self.ready() or time.monotonic() - self.born < READY_S)

    def rss(self) -> int | None:
        """The worker's resident memory in bytes (where ``/proc`` tells it)."""
        try:
            with open(f"/proc/{self.process.pid}/statm", encoding="ascii") as statm:
                return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            return None

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.socket.close()

    async def gone(self) -> int | None:
        """The exit code, once the process ended (``None`` if it did not in time)."""
        if self.process.poll() is None:
            with contextlib.suppress(TimeoutError, ProcessLookupError):
                async with asyncio.timeout(REAP_S):
                    await _exited(self.process)
        return self.process.poll()

    def death(self, code: int | None) -> str:
        """What ended the worker, in words."""
        if self.last_words:
            return self.last_words
        if code is not None and code < 0:
            return f"exit code {code} ({signal.Signals(-code).name})"
        return f"exit code {code}"


async def _exited(process: subprocess.Popen[bytes]) -> None:
    """Wait for ``process`` to end, on the loop (a pidfd) where the system has them."""
    if not hasattr(os, "pidfd_open"):
        await asyncio.to_thread(process.wait)
        return
    loop = asyncio.get_running_loop()
    fd = os.pidfd_open(process.pid)
    ended: asyncio.Future[None] = loop.create_future()

    def readable() -> None:
        if not ended.done():
            ended.set_result(None)

    loop.add_reader(fd, readable)
    try:
        await ended
    finally:
        loop.remove_reader(fd)
        os.close(fd)


async def _readable(sock: socket.socket) -> None:
    """Wait until ``sock`` has something to read (or is closed)."""
    loop = asyncio.get_running_loop()
    readable: asyncio.Future[None] = loop.create_future()

    def ready() -> None:
        if not readable.done():
            readable.set_result(None)

    loop.add_reader(sock.fileno(), ready)
    try:
        await readable
    finally:
        loop.remove_reader(sock.fileno())


class Workers:
    """A pool of worker processes making gpt4free calls (see the module docstring).

    Used from one event loop at a time (any loop, one after another).
    """

    def __init__(
        self,
        size: int = SIZE,
        *,
        memory_mb: int = MEMORY_MB,
        grace_s: float = GRACE_S,
        setup: str | None = None,
    ) -> None:
        if size < 1:
            raise ValueError(f"a pool needs at least one worker, got {size}")
        self.size = size
        self.memory_mb = memory_mb
        self.grace_s = grace_s
        self._options = {"memory_bytes": memory_mb * 1024 * 1024, "setup": setup}
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._waiting: deque[asyncio.Future[_Worker]] = deque()
        self._dying: list[_Worker] = []
        self._ids = itertools.count(1)
        self._closed = False
        self.replaced = 0
        """Workers replaced: killed for outliving a call's deadline, dead, or grown too big."""

    def warm(self) -> None:
        """Start workers until ``size`` are running, so no call waits for an import."""
        while not self._closed and len(self._idle) + len(self._busy) < self.size:
            self._idle.append(self._start())

    async def until_ready(self, timeout: float) -> None:
        """Wait, at most ``timeout`` seconds, until the idle workers have gpt4free imported."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                for worker in list(self._idle):
                    if not worker.ready():
                        await _readable(worker.socket)

    def grow(self, size: int) -> None:
        """Keep at least ``size`` workers from now on, started now."""
        self.size = max(self.size, size)
        self.warm()

    def pids(self) -> list[int]:
        """The process ids of the running workers."""
        return [w.process.pid for w in [*self._idle, *self._busy]]

    def close(self) -> None:
        """Kill every worker and wait for them to be gone; calls in flight end with
        their worker gone."""
        self._closed = True
        for worker in [*self._idle, *self._busy]:
            self._kill(worker)
        self._idle.clear()
        for waiter in self._waiting:
            if not waiter.done():
                waiter.set_exception(ProviderKilledError("the gpt4free workers were shut down"))
        for worker in self._dying:
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.process.wait(REAP_S)
        self._reap()

    def _kill(self, worker: _Worker) -> None:
        """Kill ``worker``; it is reaped later (:meth:`_reap`), never waited for here."""
        worker.kill()
        self._dying.append(worker)

    def _reap(self) -> None:
        self._dying = [worker for worker in self._dying if worker.process.poll() is None]

    def _start(self) -> _Worker:
        return _Worker(self._options)

    async def _acquire(self) -> _Worker:
        if self._closed:
            raise ProviderKilledError("the gpt4free workers were shut down")
        self._reap()
        for worker in [w for w in self._idle if not w.usable()]:
            self._idle.remove(worker)
            self._kill(worker)
        if self._idle:
            # A worker still importing gpt4free would add that second to the call's
            # time to first chunk: one that is ready goes first.
            ready = [w for w in self._idle if w.ready()]
            worker = ready[-1] if ready else self._idle[-1]
            self._idle.remove(worker)
            self._busy.add(worker)
            return worker
        if len(self._busy) < self.size:
            worker = self._start()
            self._busy.add(worker)
            return worker
        waiter: asyncio.Future[_Worker] = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            return await waiter
        finally:
            with contextlib.suppress(ValueError):
                self._waiting.remove(waiter)

    def _release(self, worker: _Worker, healthy: bool) -> None:
        self._busy.discard(worker)
        rss = worker.rss() if healthy else None
        if rss is not None and rss > self.memory_mb * 1024 * 1024 // 2:
            log.info("retiring a gpt4free worker grown to %d MiB", rss // (1024 * 1024))
            healthy = False
        if not healthy or self._closed:
            self._kill(worker)
            if self._closed:
                return
            self.replaced += 1
            worker = self._start()  # the replacement imports while nobody waits for it
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                self._busy.add(worker)
                waiter.set_result(worker)
                return
        self._idle.append(worker)

    async def stream(self, call: Call) -> AsyncIterator[Chunk]:
        """The answer data of ``call``, made in a worker, as it comes.

        The call's error (translated) is raised here; a worker that had to be killed,
        or died, raises :class:`~providers.errors.ProviderKilledError`. Closing the
        stream early, or cancelling its reader, stops the call (see the module docstring).
        """
        worker = await self._acquire()
        loop = asyncio.get_running_loop()
        started = loop.time()
        call_id = next(self._ids)
        healthy = False
        try:
            reader, writer = await asyncio.open_unix_connection(
                sock=worker.socket.dup(), limit=wire.LINE_LIMIT
            )
        except BaseException:
            self._release(worker, healthy=False)
            raise
        over = False
        try:
            writer.write(wire.encode({"op": "call", "id": call_id, **vars(call)}))
            while True:
                message = await self._next(worker, reader, call_id)
                if "end" in message:
                    over = healthy = True
                    return
                if "error" in message:
                    over = healthy = True
                    raise wire.error_of(message["error"])
                yield wire.chunk_of(message)
        except ResponseTooLargeError:
            over = True
            raise
        except _WorkerGone as gone:
            over = True
            death = worker.death(await worker.gone())
            if death.startswith("MemoryError"):
                death += f" (its cap: {self.memory_mb} MiB)"
            raise ProviderKilledError(
                f"the gpt4free worker died during the call: {death}; replaced"
            ) from gone.__cause__
        finally:
            try:
                if not over:
                    healthy = await self._stop(worker, reader, writer, call_id, started)
            finally:
                writer.close()
                self._release(worker, healthy)

    async def _next(
        self, worker: _Worker, reader: asyncio.StreamReader, call_id: int
    ) -> wire.Message:
        """The next line of call ``call_id``; :class:`_WorkerGone` when the worker ended."""
        while True:
            try:
                line = await reader.readline()
            except ValueError as exc:  # a line over the limit: the stream is out of step
                worker.kill()
                raise ResponseTooLargeError(f"a line over {wire.LINE_LIMIT} bytes") from exc
            except ConnectionError as exc:
                raise _WorkerGone from exc
            if not line:
                raise _WorkerGone
            message = wire.decode(line)
            if message.get("ready") is True:
                worker.said_ready = True
            elif "fatal" in message:
                worker.last_words = str(message["fatal"])
            elif message.get("id") == call_id:
                return message

    async def _stop(
        self,
        worker: _Worker,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        call_id: int,
        started: float,
    ) -> bool:
        """Cancel the call; True when it ended within the grace, else the worker is
        killed and :class:`~providers.errors.ProviderKilledError` raised."""
        loop = asyncio.get_running_loop()
        stopped = loop.time()
        writer.write(wire.encode({"op": "cancel", "id": call_id}))
        if not worker.ready():
            # Still importing gpt4free: the provider never ran, so it is not to blame. The
            # worker cancels the call once it reads it; the next call skips its end line.
            return True
        try:
            async with asyncio.timeout(self.grace_s):
                while True:  # the answer data still on its way is dropped
                    message = await self._next(worker, reader, call_id)
                    if "end" in message or "error" in message:
                        return True
        except TimeoutError:
            pass
        except (_WorkerGone, ConnectionError, ResponseTooLargeError):
            return False
        except BaseException:  # cancelled while waiting: no time to wait for it
            worker.kill()
            raise
        worker.kill()
        await worker.gone()
        raise ProviderKilledError(
            f"killed the gpt4free worker: the call outlived its {stopped - started:.3g} s "
            f"deadline by {self.grace_s:g} s grace"
        )


class _WorkerGone(Exception):
    """The worker's end of the socket closed: the process ended."""


_pool: Workers | None = None


def workers() -> Workers:
    """The pool every wrapped gpt4free provider calls through."""
    global _pool
    if _pool is None:
        _pool = Workers()
    return _pool


def configure(
    size: int = SIZE,
    *,
    memory_mb: int = MEMORY_MB,
    grace_s: float = GRACE_S,
    setup: str | None = None,
) -> Workers:
    """Replace the pool (its workers are killed) with a warm one of ``size`` workers."""
    global _pool
    if _pool is not None:
        _pool.close()
    _pool = Workers(size, memory_mb=memory_mb, grace_s=grace_s, setup=setup)
    _pool.warm()
    return _pool


@atexit.register
def _shut_down() -> None:
    if _pool is not None:
        _pool.close()


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
