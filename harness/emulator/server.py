"""Running the emulator: in-process (:class:`Emulator`) or in the foreground (:func:`serve`)."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from types import TracebackType
from typing import Any

from aiohttp import web
from yarl import URL

from harness.emulator import gemini
from harness.emulator.app import build_app
from harness.emulator.faults import FaultSpec
from harness.emulator.openai import base_url
from harness.emulator.state import STATE

SHUTDOWN_TIMEOUT = 5.0
"""Handlers end at shutdown on their own; this only bounds a misbehaving one."""
BACKLOG = 1024
"""Pending connections the listening socket queues (aiohttp's default is 128). A burst
of clients (the benchmarks open 500 at once) must not overflow it: the kernel drops
the extra SYNs and each of those clients waits a 1 s retransmit."""


class Emulator:
    """The four upstream emulators and the OpenAI-compatible routes on one local port,
    with faults settable at any time::

    async with Emulator(host="127.0.0.1", port=0, endpoints=["groq"]) as emu:
        emu.set_fault("AutonomousAI", FaultSpec(Fault.http_429, retry_after=3))
        emu.set_fault("groq", FaultSpec(Fault.http_500))  # only /groq/v1/...
        with providers.upstream.redirect(emu.url):
            ...
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Mapping[str, FaultSpec] | None = None,
        *,
        continue_timeout: float = 30.0,
        endpoints: Collection[str] = (),
    ) -> None:
        self.host = host
        self.port = port
        self.app = build_app(faults, continue_timeout=continue_timeout, endpoints=endpoints)
        self._state = self.app[STATE]
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """The base URL to redirect providers to (``http://HOST:PORT``)."""
        if self._runner is None:
            raise RuntimeError("the emulator is not running")
        return str(URL.build(scheme="http", host=self.host, port=self.port))

    def openai_url(self, endpoint: str | None = None) -> str:
        """The OpenAI-compatible base URL: ``URL/v1``, or ``URL/ENDPOINT/v1`` (addressed by
        that name's faults, see :mod:`harness.emulator.openai`)."""
        return base_url(self.url, endpoint)

    def anthropic_url(self, endpoint: str | None = None) -> str:
        """The Anthropic Messages base URL (``URL/v1``, or ``URL/ENDPOINT/v1``): the
        OpenAI-compatible one, as on the real hosts both end in ``/v1``."""
        return base_url(self.url, endpoint)

    def gemini_url(self, endpoint: str | None = None) -> str:
        """The Gemini base URL: ``URL/v1beta``, or ``URL/ENDPOINT/v1beta``."""
        return gemini.base_url(self.url, endpoint)

    @property
    def requests(self) -> Counter[tuple[str, str]]:
        """(provider, path) -> requests received so far."""
        return self._state.requests

    @property
    def bodies(self) -> dict[tuple[str, str], Any]:
        """(provider, path) -> the last JSON body received there."""
        return self._state.bodies

    def set_fault(self, provider: str, spec: FaultSpec) -> None:
        """Inject ``spec`` into ``provider``'s chat requests from now on."""
        self._state.faults.set(provider, spec)

    def clear_fault(self, provider: str) -> None:
        """``provider`` behaves normally again."""
        self._state.faults.clear(provider)

    def clear_faults(self) -> None:
        """Every provider behaves normally again."""
        self._state.faults.clear()

    async def start(self) -> None:
        """Listen on ``host:port`` (port 0: a free one, then in ``port``)."""
        runner = web.AppRunner(self.app, shutdown_timeout=SHUTDOWN_TIMEOUT, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, backlog=BACKLOG)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self.port = runner.addresses[0][1]
        self._runner = runner

    async def stop(self) -> None:
        """Stop listening; hanging and paused handlers close their connections."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()


def serve(
    host: str,
    port: int,
    faults: Mapping[str, FaultSpec],
    on_ready: Callable[[str], None],
    endpoints: Collection[str] = (),
) -> None:
    """Run the emulator until SIGINT or SIGTERM; ``on_ready(url)`` once it listens."""
    asyncio.run(_serve(host, port, faults, on_ready, endpoints))


async def _serve(
    host: str,
    port: int,
    faults: Mapping[str, FaultSpec],
    on_ready: Callable[[str], None],
    endpoints: Collection[str],
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        async with Emulator(host, port, faults, endpoints=endpoints) as emulator:
            on_ready(emulator.url)
            await stop.wait()
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
