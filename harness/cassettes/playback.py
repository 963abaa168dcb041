"""Playing cassette responses back in their recorded chunks, at their recorded times.

vcrpy's aiohttp stub hands the client each recorded body all at once, at once:
chunk boundaries and time to first chunk are lost. Inside :func:`paced_playback`
the stub's responses read from an aiohttp ``StreamReader`` that is fed each
recorded chunk at its recorded offset from the request's start, divided by
``speed`` (1.0 is real time; ``None`` or 0 feeds the chunks back to back, one
event-loop step apart, so that the client still sees them one by one).

A later request of the same recording counts from its recorded start after the
first (see :class:`Timeline`), so a flow of several requests keeps its timeline.
The response's ``read()``, ``text()`` and ``json()`` wait for the paced body too,
so a small JSON or HTML answer takes as long as it took when recorded. Pending
feeds are cancelled when the response is released; nothing outlives the block.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from aiohttp.streams import StreamReader
from vcr.stubs import aiohttp_stubs

_build_response = aiohttp_stubs.build_response


class _FeedProtocol:
    """The protocol a fed ``StreamReader`` expects: no socket to pause, and "connected"
    until the feeder is cancelled (a read after that fails, as on a closed connection)."""

    def __init__(self) -> None:
        self._reading_paused = False
        self.connected = True

    def pause_reading(self) -> None:
        """Nothing to pause: the feeder already holds the whole body."""

    def resume_reading(self, resume_parser: bool = True) -> None:
        """Nothing to resume."""


class ChunkFeeder:
    """A stream fed ``pieces`` (``(at_ms, data)``) on the event loop's clock."""

    def __init__(
        self,
        pieces: list[tuple[float, bytes]],
        speed: float | None,
        loop: asyncio.AbstractEventLoop,
        start: float | None = None,
    ) -> None:
        self._protocol = _FeedProtocol()
        limit = max(sum(len(data) for _, data in pieces), 2**16)
        self.reader = StreamReader(self._protocol, limit, loop=loop)  # type: ignore[arg-type]
        """The stream the client reads."""
        self._pieces = pieces
        self._speed = speed or None
        self._loop = loop
        self._start = loop.time() if start is None else start
        """Loop time the offsets count from: when the request (re)started."""
        self._next = 0
        self._handle: asyncio.TimerHandle | None = None
        self._schedule()

    def _schedule(self) -> None:
        if self._next >= len(self._pieces):
            self._handle = None
            self.reader.feed_eof()
            return
        at_ms = self._pieces[self._next][0]
        delay = at_ms / 1000 / self._speed if self._speed else 0.0
        # A due time in the past still waits for the next loop step, after the
        # reader's wake-up: the client takes each piece before the next arrives.
        self._handle = self._loop.call_at(self._start + delay, self._feed)

    def _feed(self) -> None:
        data = self._pieces[self._next][1]
        self._next += 1
        if data:
            self.reader.feed_data(data)
        self._schedule()

    @property
    def pending(self) -> bool:
        """True while chunks (or the end of the body) remain to be fed."""
        return self._handle is not None

    def cancel(self) -> None:
        """Stop feeding (the client let go of the response)."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
            self._protocol.connected = False


class PacedResponse(aiohttp_stubs.MockClientResponse):  # type: ignore[misc]
    """vcrpy's replayed response, whose body arrives through the paced stream."""

    feeder: ChunkFeeder | None = None
    _paced_body: bytes | None = None

    async def read(self) -> bytes:
        if self._paced_body is None:
            self._paced_body = bytes(await self.content.read())
            self._body = self._paced_body
        return self._paced_body

    async def text(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        await self.read()
        return str(await super().text(encoding, errors))

    async def json(self, **kwargs: Any) -> Any:
        await self.read()
        return await super().json(**kwargs)

    def release(self) -> Any:
        if self.feeder is not None:
            self.feeder.cancel()
        return super().release()

    def close(self) -> None:
        if self.feeder is not None:
            self.feeder.cancel()
        super().close()


def recorded_pieces(vcr_response: dict[str, Any]) -> list[tuple[float, bytes]]:
    """``(at_ms, data)`` from a loaded cassette response; one piece at 0 ms when the
    cassette has no chunk list (a plain vcrpy cassette)."""
    body = vcr_response.get("body", {}).get("string") or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    chunks = vcr_response.get("chunks")
    if not chunks:
        return [(0.0, body)] if body else []
    pieces: list[tuple[float, bytes]] = []
    start = 0
    for chunk in chunks:
        size = int(chunk["size"])
        pieces.append((float(chunk["at_ms"]), body[start : start + size]))
        start += size
    return pieces


class Timeline:
    """When each replayed request counts as started, on the event loop's clock.

    The first request starts when it is made. A later one starts when it is made or
    when it started in the recording (``request_at_ms`` after the first, scaled by
    ``speed``), whichever is later: time the client spent between requests while
    recording (a cold start, say) is replayed too, and a client slower than that
    still gets each answer its recorded latency after asking.
    """

    def __init__(self, speed: float | None) -> None:
        self._speed = speed or None
        self._origin: float | None = None

    def start(self, request_at_ms: float, now: float) -> float:
        """The start of a request made at loop time ``now``."""
        if self._speed is None:
            return now
        offset = request_at_ms / 1000 / self._speed
        if self._origin is None:
            self._origin = now - offset
        return max(now, self._origin + offset)


def _paced_build_response(speed: float | None) -> Any:
    timeline = Timeline(speed)

    def build_response(vcr_request: Any, vcr_response: dict[str, Any], history: Any) -> Any:
        response = _build_response(vcr_request, vcr_response, history)
        assert isinstance(response, PacedResponse)
        loop = asyncio.get_running_loop()
        start = timeline.start(float(vcr_response.get("request_at_ms") or 0.0), loop.time())
        feeder = ChunkFeeder(recorded_pieces(vcr_response), speed, loop, start)
        response.content = feeder.reader
        response.feeder = feeder
        return response

    return build_response


@contextmanager
def paced_playback(speed: float | None) -> Iterator[None]:
    """Inside the block, vcrpy replays aiohttp responses chunk by chunk at ``speed``.

    Use it around (or inside) an active vcrpy cassette, one block at a time.
    """
    if speed is not None and speed < 0:
        raise ValueError(f"speed must be positive, 0 or None, got {speed}")
    with (
        mock.patch.object(aiohttp_stubs, "MockClientResponse", PacedResponse),
        mock.patch.object(aiohttp_stubs, "build_response", _paced_build_response(speed)),
    ):
        yield
