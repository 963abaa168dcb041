"""A local receiver standing in for Discord, Slack or ntfy (imported by the alert tests).

Apprise's ``json://HOST:PORT/PATH`` posts ``{"title", "message", "type"}`` to any HTTP
server, so what reaches the receiver is what would have reached a chat service.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "tok3n-SECRET-a1b2c3d4e5"
"""A secret carried in the receiver's URL: it must never show up anywhere."""


@dataclass
class Receiver:
    """An aiohttp app on 127.0.0.1 that keeps every message posted to it.

    ``mode`` decides the answer: ``ok`` (200), ``fail`` (500) or ``hang`` (no answer
    until the test ends). Only answered-with-200 messages count as ``delivered``.
    """

    port: int = 0
    mode: str = "ok"
    received: list[dict[str, Any]] = field(default_factory=list)
    delivered: list[dict[str, Any]] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        """The Apprise URL of the receiver, with a token in its path."""
        return f"json://127.0.0.1:{self.port}/hook/{TOKEN}"

    @property
    def titles(self) -> list[str]:
        return [m["title"] for m in self.delivered]

    async def handle(self, request: web.Request) -> web.Response:
        message = await request.json()
        self.received.append(message)
        if self.mode == "fail":
            return web.Response(status=500, text="receiver failing")
        if self.mode == "hang":
            await self.release.wait()
            return web.Response(status=503)
        self.delivered.append(message)
        return web.Response(text="ok")


@asynccontextmanager
async def running_receiver() -> AsyncIterator[Receiver]:
    """A started :class:`Receiver` on a free port of 127.0.0.1."""
    box = Receiver()
    app = web.Application()
    app.router.add_post("/{tail:.*}", box.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    box.port = runner.addresses[0][1]
    try:
        yield box
    finally:
        box.release.set()
        await runner.cleanup()
