"""The worker process that makes gpt4free's provider calls, one at a time.

Started by :class:`~.isolation.Workers` as ``python -m providers.gpt4free.worker FD
OPTIONS``: ``FD`` is its end of a socket pair with the harness, ``OPTIONS`` a JSON
object (``memory_bytes``, the cap on its address space; ``setup``, an optional
``module:function`` called first, e.g. by tests to keep the network away). It imports
gpt4free once, says it is ready, then serves calls (:mod:`~.wire`) on one event loop: each call's
provider class is found by reference (:func:`~.isolation.reference`), its items are kept
only when they are answer data (:func:`~.translate.to_chunk`) and sent as they come,
its error is translated (:func:`~.translate.translate_error`) and described. A
``cancel`` cancels the call's task; whether the provider lets it end is for the
harness to watch. Out of memory, the worker says so and exits; when the harness goes
away (end of file on the socket, or, should a provider hold the loop, a new parent
process seen by a watching thread), it exits too.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import logging
import os
import resource
import socket
import sys
import threading
import time
from collections.abc import AsyncIterator
from functools import cache, partial
from typing import Any

from . import wire
from .translate import to_chunk, translate_error

log = logging.getLogger(__name__)

EXIT_OUT_OF_MEMORY = 3
"""The exit code of a worker whose call ran out of memory."""

EXIT_ORPHANED = 4
"""The exit code of a worker whose harness went away."""

ORPHAN_CHECK_S = 1.0
"""How often a worker looks whether its harness is still there."""


@cache
def resolve(ref: str) -> Any:
    """The object ``module:qualname`` names, importing the module; a reference without
    a colon is a gpt4free provider name, loaded by gpt4free's loader."""
    if ":" not in ref:
        return resolve("g4f.Provider:ProviderLoader").from_name(ref)
    module, _, qualname = ref.partition(":")
    found: Any = importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part)
    return found


class _Server:
    """The calls of one worker, served from the harness's socket."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.calls: dict[int, asyncio.Task[None]] = {}

    async def serve(self) -> None:
        while line := await self.reader.readline():
            message = wire.decode(line)
            call_id = int(message["id"])
            if message.get("op") == "call":
                task = asyncio.create_task(self.call(call_id, message))
                self.calls[call_id] = task
                task.add_done_callback(partial(self._done, call_id))
            elif message.get("op") == "cancel" and call_id in self.calls:
                self.calls[call_id].cancel()
        for task in self.calls.values():  # the harness is gone: nobody reads the answers
            task.cancel()

    def _done(self, call_id: int, _: asyncio.Task[None]) -> None:
        self.calls.pop(call_id, None)

    async def send(self, message: wire.Message) -> None:
        self.writer.write(wire.encode(message))
        await self.writer.drain()  # the harness reads as it goes: wait while it lags

    async def call(self, call_id: int, message: wire.Message) -> None:
        try:
            method = resolve("g4f.providers.base_provider:get_async_provider_method")
            items: AsyncIterator[object] = method(resolve(message["ref"]))(
                message["model"], message["messages"], **message["options"]
            )
            try:
                async for item in items:
                    chunk = to_chunk(item)
                    if chunk is not None:
                        await self.send(wire.chunk_message(call_id, chunk))
            finally:
                close = getattr(items, "aclose", None)
                if close is not None:
                    with contextlib.suppress(Exception):
                        await close()
        except asyncio.CancelledError:
            pass  # asked to stop: the end line says it did
        except MemoryError as exc:
            _die_of(self.writer, exc)
        except Exception as exc:  # the provider's failure is the answer
            await self.send({"id": call_id, "error": wire.describe_error(translate_error(exc))})
            return
        await self.send({"id": call_id, "end": True})


def _die_of(writer: asyncio.StreamWriter, exc: BaseException) -> None:
    """Say why, straight onto the socket, and exit: after a ``MemoryError`` nothing this
    process holds can be trusted."""
    described = f"{type(exc).__name__}: {exc}".rstrip(": ")
    sock = writer.get_extra_info("socket")
    with contextlib.suppress(OSError):
        os.write(sock.fileno(), wire.encode({"fatal": described}))
    os._exit(EXIT_OUT_OF_MEMORY)


def _leftover(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    # What a provider leaves behind (unclosed sessions, unretrieved task errors) is
    # its own business: logged for debugging, never printed over the harness's output.
    log.debug("left behind: %s", context.get("message"))


async def _main(sock: socket.socket) -> None:
    asyncio.get_running_loop().set_exception_handler(_leftover)
    reader, writer = await asyncio.open_unix_connection(sock=sock, limit=wire.LINE_LIMIT)
    await _Server(reader, writer).serve()


def _orphan_watch(parent: int) -> None:
    """Exit once the harness is gone, even while a provider blocks or spins the loop
    (which then never sees the end of file on its socket)."""
    while os.getppid() == parent:
        time.sleep(ORPHAN_CHECK_S)
    os._exit(EXIT_ORPHANED)


def main(argv: list[str]) -> int:
    """Serve calls on the socket ``argv[1]`` with the options ``argv[2]``."""
    fd, options = int(argv[1]), json.loads(argv[2])
    memory = options.get("memory_bytes")
    if memory:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    sock = socket.socket(fileno=fd)
    sock.set_inheritable(False)  # a browser a provider starts must not hold it open
    watch = threading.Thread(target=_orphan_watch, args=(os.getppid(),), daemon=True)
    watch.start()
    if options.get("setup"):
        resolve(options["setup"])()
    resolve("g4f.providers.base_provider:get_async_provider_method")  # the import, paid now
    sock.sendall(wire.encode({"ready": True}))
    asyncio.run(_main(sock))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
