"""A plain-HTTP forward proxy with Basic authentication, as providers' ``proxy=`` expects.

Requests arrive in absolute form (``POST http://host:port/path``); with the right
``Proxy-Authorization`` they are forwarded and the answer is streamed back, otherwise
the proxy answers 407. It counts what it let through and what it refused.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "host",
    }
)

SESSION = web.AppKey("session", aiohttp.ClientSession)


class ForwardProxy:
    """The proxy's app and tallies; accepts ``user``/``password`` only."""

    def __init__(self, user: str, password: str) -> None:
        credentials = base64.b64encode(f"{user}:{password}".encode()).decode()
        self._expected = f"Basic {credentials}"
        self.forwarded = 0
        self.refused = 0
        self.app = web.Application()
        self.app.cleanup_ctx.append(self._session)
        self.app.router.add_route("*", "/{tail:.*}", self._forward)

    @staticmethod
    async def _session(app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession(auto_decompress=False) as session:
            app[SESSION] = session
            yield

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Proxy-Authorization") != self._expected:
            self.refused += 1
            return web.Response(
                status=407,
                text="proxy authentication required",
                headers={"Proxy-Authenticate": 'Basic realm="test"'},
            )
        self.forwarded += 1
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        async with request.app[SESSION].request(
            request.method,
            request.url,
            headers=headers,
            data=await request.read(),
            allow_redirects=False,
        ) as answer:
            response = web.StreamResponse(
                status=answer.status,
                headers={k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP},
            )
            await response.prepare(request)
            async for chunk in answer.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response
