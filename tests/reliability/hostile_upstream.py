"""A CodeLinkAva look-alike that answers ``POST /api/chat`` with whatever a test scripts.

It runs on its own thread and event loop, so that synchronous tests (click's
CliRunner runs ``asyncio.run`` itself) and asynchronous ones can both point a
provider at it (``--upstream``, ``providers.upstream.redirect`` or ``base_url``).
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass

from aiohttp import web

SSE = "text/event-stream"
PONG = "@@PONG@@"
"""Stands in for the right answer to the ping prompt (its last word, a fresh nonce)."""


@dataclass(frozen=True)
class Reply:
    """One scripted answer: status, content type and the raw body."""

    status: int
    content_type: str
    body: bytes


def sse_answer(*texts: str) -> Reply:
    """A well-framed streamed answer carrying ``texts`` as its content deltas."""
    events = [
        json.dumps({"choices": [{"delta": {"content": text}, "finish_reason": None}]})
        for text in texts
    ]
    body = "".join(f"data: {event}\n\n" for event in events) + "data: [DONE]\n\n"
    return Reply(200, SSE, body.encode())


def sse_raw(*lines: bytes) -> Reply:
    """A 200 stream of raw lines, framed or not: whatever bytes the test needs."""
    return Reply(200, SSE, b"".join(line + b"\n" for line in lines))


def error_page(status: int, body: bytes, content_type: str = "text/plain") -> Reply:
    """An error status with a body of the test's choosing."""
    return Reply(status, content_type, body)


class HostileUpstream:
    """``with HostileUpstream() as up: up.reply = sse_answer("pong"); ... up.url``."""

    def __init__(self) -> None:
        self.reply = sse_answer("pong")
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="hostile-upstream", daemon=True)
        self._runner: web.AppRunner | None = None

    async def _chat(self, request: web.Request) -> web.Response:
        body = await request.json()
        nonce = body["messages"][-1]["content"].rsplit(" ", 1)[-1]
        reply = self.reply
        return web.Response(
            status=reply.status,
            body=reply.body.replace(PONG.encode(), nonce.encode()),
            headers={"Content-Type": reply.content_type},
        )

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/chat", self._chat)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._ready.set()
        self._loop.run_forever()
        if self._runner is not None:
            self._loop.run_until_complete(self._runner.cleanup())
        self._loop.close()

    def __enter__(self) -> HostileUpstream:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the hostile upstream did not start")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
