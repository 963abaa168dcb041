"""Waits inside handlers that end when the server stops or the client leaves.

A hanging handler that ignored shutdown would hold ``runner.cleanup()`` for its whole
shutdown timeout; these waits raise :class:`ServerStopping` instead, and the app's
middleware turns that into a closed connection.
"""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

from harness.emulator.state import STATE

CLIENT_CHECK_INTERVAL = 0.5
"""How often an endless wait looks whether its client is still connected."""


class ServerStopping(Exception):
    """The emulator is shutting down: the handler must close its connection now."""


class ClientGone(ConnectionResetError):
    """The client closed the connection while the handler was waiting."""


class Pacer:
    """The waits of one request."""

    def __init__(self, request: web.Request) -> None:
        self._request = request
        self._stopping = request.app[STATE].stopping

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds``; raise :class:`ServerStopping` if the server stops first."""
        if self._stopping.is_set():
            raise ServerStopping
        if seconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
        if self._stopping.is_set():
            raise ServerStopping

    async def forever(self) -> None:
        """Wait until the server stops or the client leaves; always raises."""
        while True:
            await self.sleep(CLIENT_CHECK_INTERVAL)
            transport = self._request.transport
            if transport is None or transport.is_closing():
                raise ClientGone

    async def until(self, event: asyncio.Event, timeout: float | None) -> bool:
        """Wait for ``event`` at most ``timeout`` seconds (``None``: no limit); True when set."""
        waiters = [
            asyncio.ensure_future(event.wait()),
            asyncio.ensure_future(self._stopping.wait()),
        ]
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)
        if self._stopping.is_set():
            raise ServerStopping
        return event.is_set()

    def cut(self) -> None:
        """Close the connection under the response (the client sees a truncated body)."""
        transport = self._request.transport
        if transport is not None:
            transport.close()
