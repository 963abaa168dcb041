"""A forwarding HTTP proxy on 127.0.0.1, for the provider tests.

Providers given ``proxy=`` send it absolute-form requests; it forwards them and,
on request, re-chunks or pollutes chosen response bodies to test the parsers.
"""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web

HOP_BY_HOP = {"host", "connection", "proxy-connection", "content-length", "transfer-encoding"}


@dataclass
class ForwardProxy:
    """Counts what it forwards; ``split_at`` / ``interleave`` alter ``paths``' bodies."""

    url: str = ""
    hits: Counter[str] = field(default_factory=Counter)
    paths: set[str] = field(default_factory=set)
    split_at: int | None = None
    """Write the body as two pieces, cut at this offset."""
    interleave: bytes | None = None
    """Insert this line after every line of the body."""
    bodies: dict[str, list[bytes]] = field(default_factory=dict)
    """path -> the response bodies from ``paths`` as the upstream sent them, in order."""
    session: aiohttp.ClientSession | None = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        assert self.session is not None
        assert request.url.host == "127.0.0.1", "only the local emulator is reachable"
        self.hits[request.path] += 1
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        async with self.session.request(
            request.method, request.url, headers=headers, data=await request.read()
        ) as upstream:
            kept = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP}
            response = web.StreamResponse(status=upstream.status, headers=kept)
            await response.prepare(request)
            if request.path not in self.paths:
                async for data in upstream.content.iter_any():
                    await response.write(data)
                return response
            body = await upstream.read()
            self.bodies.setdefault(request.path, []).append(body)
            if self.interleave is not None:
                body = b"".join(line + self.interleave for line in body.splitlines(keepends=True))
            cut = len(body) if self.split_at is None else self.split_at
            for piece in (body[:cut], body[cut:]):
                if piece:
                    await response.write(piece)
                    await asyncio.sleep(0.002)  # let the client read the first piece alone
            return response


@pytest.fixture
async def forward_proxy() -> AsyncIterator[ForwardProxy]:
    """A forwarding proxy for plain-HTTP requests to 127.0.0.1."""
    proxy = ForwardProxy()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", proxy.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    proxy.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        proxy.session = session
        yield proxy
    await runner.cleanup()
