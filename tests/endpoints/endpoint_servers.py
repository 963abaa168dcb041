"""Servers for the endpoint tests, run from a background thread so that synchronous
``CliRunner`` invocations (each with its own event loop) can reach them."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator

from aiohttp import web

from harness.emulator.answers import answer

LEAKY_KEY = "gsk_Q2xhc3NpZmllZEtleTEyMzQ1Njc4OTA"
"""An API key in a shape no built-in redaction pattern knows: only the plumbing of the
endpoint's own key into the secrets can keep it out."""
KEY_ENV = "HARNESS_TEST_LEAKY_KEY"


def in_thread(make: Callable[[], web.Application]) -> Iterator[str]:
    """Serve ``make()`` on a free port of 127.0.0.1 from a thread; yield its base URL."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    stop = asyncio.Event()
    box: dict[str, str] = {}

    async def serve() -> None:
        runner = web.AppRunner(make(), shutdown_timeout=1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        box["url"] = f"http://127.0.0.1:{runner.addresses[0][1]}"
        started.set()
        await stop.wait()
        await runner.cleanup()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert started.wait(10), "server did not start"
    try:
        yield box["url"]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()


def leaky_app() -> web.Application:
    """An endpoint that gives the key back: in its answer and in its error messages."""

    async def chat(request: web.Request) -> web.StreamResponse:
        key = request.headers.get("Authorization", "").removeprefix("Bearer ")
        body = await request.json()
        if body["model"] == "refused":
            message = f"Incorrect API key provided: {key}. You can find your key online."
            return web.json_response(
                {"error": {"message": message, "type": "invalid_request_error", "code": None}},
                status=401,
            )
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for text in (answer(body["messages"]), " (key ", key, ")"):
            chunk = {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
        end = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        await response.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())
        return response

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    return app
