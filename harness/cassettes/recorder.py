"""Recording a provider's HTTP traffic as it streams, without buffering it.

vcrpy's own recorder reads a whole response before the client sees a byte, which
falsifies the time to first chunk and hangs on an endless stream. This recorder
rides along instead: an aiohttp ``TraceConfig`` (attached to the provider's
sessions with :func:`providers.http.session_hooks`) notes each request as it is
sent and, when the response headers arrive, puts a pass-through view in front of
the response's stream that notes every piece the client reads, and when. Nothing
is read ahead, held back or copied into the client's path: the probe measures the
real stream while it is recorded, and its deadlines and size cap still apply.

Requests sent to an emulator or mirror standing in for the provider are saved with
the provider's real host, so cassettes always hold the real upstream URLs.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

import aiohttp
from aiohttp.streams import AsyncStreamIterator, ChunkTupleAsyncStreamIterator, StreamReader
from multidict import MultiMapping
from yarl import URL

from harness.cassettes.cassette import (
    CassetteError,
    ChunkMark,
    Headers,
    Interaction,
    RecordedRequest,
    RecordedResponse,
)
from providers import upstream
from providers.base import AsyncGeneratorProvider
from providers.endpoint import EndpointProvider
from providers.http import session_hooks

DROPPED_REQUEST_HEADERS = frozenset({"host", "content-length"})
"""``Host`` names the emulator, and the length changes when the body is scrubbed."""
DROPPED_RESPONSE_HEADERS = frozenset(
    {"content-length", "content-encoding", "transfer-encoding", "connection", "keep-alive"}
)
"""The saved body is the decoded bytes the client read: these would describe another body."""


def real_url(provider: type[AsyncGeneratorProvider], url: URL, base: str | None) -> str:
    """``url`` as it would be on the provider's real host, when ``base`` stood in for it."""
    if base is None:
        return str(url)
    stand_in = URL(base)
    if (url.scheme, url.host, url.port) != (stand_in.scheme, stand_in.host, stand_in.port):
        return str(url)
    prefix = stand_in.raw_path.rstrip("/")
    if (
        issubclass(provider, EndpointProvider)
        and upstream.own_base(provider.name()) == base
        and url.raw_path.startswith(prefix + "/")
    ):
        # A base set for the endpoint by name stands in for its whole base URL.
        rest = url.raw_path[len(prefix) :]
        real = URL(provider.base_url.rstrip("/") + rest, encoded=True)
        return str(real.with_query(url.raw_query_string)) if url.raw_query_string else str(real)
    hosts = provider.upstream_hosts
    if len(hosts) != 1:
        raise CassetteError(
            f"{provider.name()} talks to {len(hosts)} hosts {list(hosts)}: "
            "cannot tell which real host a redirected request was meant for"
        )
    prefix = stand_in.raw_path.rstrip("/")
    path = url.raw_path
    if prefix and path.startswith(prefix):
        path = path[len(prefix) :] or "/"
    return str(
        URL.build(
            scheme="https",
            host=hosts[0],
            path=path,
            query_string=url.raw_query_string,
            encoded=True,
        )
    )


def header_lists(headers: MultiMapping[str], dropped: frozenset[str] = frozenset()) -> Headers:
    """Headers as vcrpy stores them (name -> values), leaving out ``dropped`` names."""
    out: Headers = {}
    for name, value in headers.items():
        if name.lower() not in dropped:
            out.setdefault(str(name), []).append(value)
    return out


class TappedStream:
    """A response's stream, unchanged, except that every piece read is reported.

    Stands in for ``response.content``; every read goes straight to the real
    stream and returns (or raises) what it returned (or raised). Whatever this
    class does not define is the real stream's own attribute.
    """

    def __init__(
        self,
        inner: StreamReader,
        on_data: Callable[[bytes], None],
        on_error: Callable[[Exception], None],
    ) -> None:
        self._inner = inner
        self._on_data = on_data
        self._on_error = on_error

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def _seen(self, data: bytes) -> bytes:
        if data:
            self._on_data(data)
        return data

    async def _take(self, pending: Awaitable[bytes]) -> bytes:
        try:
            data = await pending
        except Exception as exc:
            self._on_error(exc)
            raise
        return self._seen(data)

    async def read(self, n: int = -1) -> bytes:
        return await self._take(self._inner.read(n))

    async def readany(self) -> bytes:
        return await self._take(self._inner.readany())

    async def readchunk(self) -> tuple[bytes, bool]:
        try:
            data, end_of_chunk = await self._inner.readchunk()
        except Exception as exc:
            self._on_error(exc)
            raise
        return self._seen(data), end_of_chunk

    async def readline(self, *, max_line_length: int | None = None) -> bytes:
        return await self._take(self._inner.readline(max_line_length=max_line_length))

    async def readuntil(self, separator: bytes = b"\n", *, max_size: int | None = None) -> bytes:
        return await self._take(self._inner.readuntil(separator, max_size=max_size))

    async def readexactly(self, n: int) -> bytes:
        return await self._take(self._inner.readexactly(n))

    def read_nowait(self, n: int = -1) -> bytes:
        try:
            data = self._inner.read_nowait(n)
        except Exception as exc:
            self._on_error(exc)
            raise
        return self._seen(data)

    def iter_any(self) -> AsyncStreamIterator[bytes]:
        return AsyncStreamIterator(self.readany)

    def iter_chunked(self, n: int) -> AsyncStreamIterator[bytes]:
        self._inner.set_read_chunk_size(n)
        return AsyncStreamIterator(lambda: self.read(n))

    def iter_chunks(self) -> ChunkTupleAsyncStreamIterator:
        return ChunkTupleAsyncStreamIterator(cast(StreamReader, self))

    def __aiter__(self) -> AsyncStreamIterator[bytes]:
        return AsyncStreamIterator(self.readline)


@dataclass
class _Exchange:
    """One request in flight, and what came back so far."""

    started: float
    method: str
    uri: str
    headers: Headers
    body: bytearray = field(default_factory=bytearray)
    response: tuple[int, str, Headers] | None = None
    pieces: list[tuple[float, bytes]] = field(default_factory=list)
    error: str | None = None

    def since_start_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000

    def interaction(self, origin: float) -> Interaction:
        """This exchange as an interaction; ``origin`` is the recording's first request start."""
        assert self.response is not None
        status, reason, headers = self.response
        return Interaction(
            RecordedRequest(self.method, self.uri, self.headers, bytes(self.body) or None),
            RecordedResponse(
                status,
                reason,
                headers,
                b"".join(data for _, data in self.pieces),
                tuple(ChunkMark(at, len(data)) for at, data in self.pieces),
                (self.started - origin) * 1000,
            ),
        )


class Recorder:
    """Captures the requests one provider call makes and the chunks of their responses.

    ``base`` is the URL standing in for the provider's hosts during the recording
    (``providers.upstream.base_for``), or ``None`` for the real hosts.
    """

    def __init__(self, provider: type[AsyncGeneratorProvider], base: str | None) -> None:
        self.provider = provider
        self.base = base
        self._exchanges: list[_Exchange] = []
        self.trace_config = aiohttp.TraceConfig()
        self.trace_config.on_request_start.append(self._on_request_start)
        self.trace_config.on_request_headers_sent.append(self._on_headers_sent)
        self.trace_config.on_request_chunk_sent.append(self._on_chunk_sent)
        self.trace_config.on_request_end.append(self._on_request_end)
        self.trace_config.on_request_exception.append(self._on_request_exception)
        self.trace_config.on_request_redirect.append(self._on_request_redirect)

    @staticmethod
    def _exchange(ctx: SimpleNamespace) -> _Exchange:
        exchange = ctx.harness_exchange
        assert isinstance(exchange, _Exchange)
        return exchange

    async def _on_request_start(
        self,
        session: aiohttp.ClientSession,
        ctx: SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        exchange = _Exchange(
            started=time.perf_counter(),
            method=params.method,
            uri=real_url(self.provider, params.url, self.base),
            headers=header_lists(params.headers, DROPPED_REQUEST_HEADERS),
        )
        ctx.harness_exchange = exchange
        self._exchanges.append(exchange)

    async def _on_headers_sent(
        self,
        session: aiohttp.ClientSession,
        ctx: SimpleNamespace,
        params: aiohttp.TraceRequestHeadersSentParams,
    ) -> None:
        # What actually went out, cookies from the jar included.
        self._exchange(ctx).headers = header_lists(params.headers, DROPPED_REQUEST_HEADERS)

    async def _on_chunk_sent(
        self,
        session: aiohttp.ClientSession,
        ctx: SimpleNamespace,
        params: aiohttp.TraceRequestChunkSentParams,
    ) -> None:
        self._exchange(ctx).body += params.chunk

    async def _on_request_end(
        self,
        session: aiohttp.ClientSession,
        ctx: SimpleNamespace,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        exchange = self._exchange(ctx)
        response = params.response
        exchange.response = (
            response.status,
            response.reason or "",
            header_lists(response.headers, DROPPED_RESPONSE_HEADERS),
        )

        def seen(data: bytes) -> None:
            exchange.pieces.append((exchange.since_start_ms(), data))

        def failed(exc: Exception) -> None:
            exchange.error = f"body cut short: {type(exc).__name__}: {exc}"

        tapped = TappedStream(response.content, seen, failed)
        response.content = cast(StreamReader, tapped)

    async def _on_request_exception(
        self,
        session: aiohttp.ClientSession,
        ctx: SimpleNamespace,
        params: aiohttp.TraceRequestExceptionParams,
    ) -> None:
        self._exchange(ctx).error = f"{type(params.exception).__name__}: {params.exception}"

    async def _on_request_redirect(
        self,
        session: aiohttp.ClientSession,
        ctx: SimpleNamespace,
        params: aiohttp.TraceRequestRedirectParams,
    ) -> None:
        self._exchange(ctx).error = (
            f"redirected ({params.response.status}) to {params.response.headers.get('Location')}: "
            "redirects are not recorded"
        )

    def problems(self) -> list[str]:
        """Why these exchanges cannot make a cassette (empty when they can)."""
        if not self._exchanges:
            return ["the provider made no request"]
        out = []
        for exchange in self._exchanges:
            if exchange.error is not None:
                out.append(f"{exchange.method} {exchange.uri}: {exchange.error}")
            elif exchange.response is None:
                out.append(f"{exchange.method} {exchange.uri}: no response")
        return out

    def interactions(self, *, complete_only: bool = True) -> tuple[Interaction, ...]:
        """The exchanges, in the order the requests started.

        ``complete_only``: raise :class:`CassetteError` unless every exchange completed;
        otherwise return those that got a response (with whatever body was read).
        """
        if complete_only:
            problems = self.problems()
            if problems:
                raise CassetteError("; ".join(problems))
        origin = self._exchanges[0].started if self._exchanges else 0.0
        return tuple(e.interaction(origin) for e in self._exchanges if e.response is not None)

    @contextmanager
    def attached(self) -> Iterator[Recorder]:
        """Record the sessions providers open inside the block."""
        with session_hooks(trace_configs=[self.trace_config]):
            yield self
