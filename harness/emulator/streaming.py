"""Streaming an answer in a provider's framing, with the fault in force applied.

Each provider describes its framing (a :class:`Framing`: how one text piece and the
end of a stream look on the wire); :func:`respond` does the rest for every fault mode
except the provider-specific ones.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Protocol

from aiohttp import web

from harness.emulator.answers import WRONG_ANSWER, split_evenly, split_tokens
from harness.emulator.faults import Fault, FaultSpec
from harness.emulator.pacing import Pacer
from harness.emulator.pages import STATUS_OF, status_response

GARBAGE_LINES = (
    b"<br />\n",
    b"<b>Warning</b>:  Undefined index: stream in /var/www/api/chat.php on line 42\n",
    b"}{ this is not json ][\n",
    b"undefined\n",
)
INVALID_UTF8 = b"\xff\xfe\xc3\x28"
"""Bytes that no UTF-8 decoder accepts, put where a record's text would be."""
HUGE_FILLER = b"a" * 65536
ENDLESS_MIN_DELAY = 0.01
"""An endless stream sleeps at least this long between chunks, to spare the CPU."""

_MARK = "@@EMULATOR-MARK@@"
"""Stands in for text in a record, to be replaced by raw bytes afterwards."""


class Framing(Protocol):
    """How one provider's stream looks on the wire."""

    content_type: str

    def record(self, text: str) -> bytes:
        """One piece of answer text, as a complete line (or event)."""

    def end(self) -> bytes:
        """What ends a complete answer (may be empty)."""

    def drifted(self) -> Framing:
        """The same framing, altered the way an upstream redesign plausibly would."""


class Outlet:
    """The body of one streamed response, written at the fault's pace."""

    def __init__(self, request: web.Request, spec: FaultSpec) -> None:
        self.request = request
        self.spec = spec
        self.pacer = Pacer(request)
        self.response = web.StreamResponse(headers={"Cache-Control": "no-cache"})
        self._sent = 0

    async def open(self, content_type: str) -> web.StreamResponse:
        """Send the headers, then wait the first-chunk delay."""
        self.response.headers["Content-Type"] = content_type
        await self.response.prepare(self.request)
        await self.pacer.sleep(self.spec.first_chunk_delay)
        return self.response

    async def send(self, data: bytes, delay: float | None = None) -> None:
        """Write one chunk, after the chunk delay (none before the first)."""
        if self._sent:
            await self.pacer.sleep(self.spec.chunk_delay if delay is None else delay)
        await self.response.write(data)
        self._sent += 1


async def respond(
    request: web.Request,
    spec: FaultSpec,
    framing: Framing,
    pieces: list[str],
    *,
    errors: Callable[[FaultSpec], web.Response] = status_response,
) -> web.StreamResponse:
    """Answer with ``pieces`` of text in ``framing``, as the fault ``spec`` dictates;
    ``errors`` makes the answer of a status fault (the upstream's error shape)."""
    if spec.pieces is not None:
        pieces = split_evenly("".join(pieces), spec.pieces)
    outlet = Outlet(request, spec)
    mode = spec.mode
    if mode is Fault.hang_headers:
        await outlet.pacer.forever()
    if mode in STATUS_OF:
        await outlet.pacer.sleep(spec.first_chunk_delay)
        return errors(spec)
    response = await outlet.open(framing.content_type)
    if mode is Fault.empty_200:
        return response
    if mode is Fault.huge_line:
        await _huge_line(outlet, framing, spec.size)
    elif mode is Fault.endless:
        for text in itertools.cycle(pieces or [" "]):
            await outlet.send(framing.record(text), max(spec.chunk_delay, ENDLESS_MIN_DELAY))
    elif mode in (Fault.hang_mid_stream, Fault.reset_mid_stream):
        for text in pieces[: max(1, len(pieces) // 2)]:
            await outlet.send(framing.record(text))
        if mode is Fault.hang_mid_stream:
            await outlet.pacer.forever()
        outlet.pacer.cut()
    else:
        for line in _lines(mode, framing, pieces):
            await outlet.send(line)
    return response


def _lines(mode: Fault, framing: Framing, pieces: list[str]) -> list[bytes]:
    if mode is Fault.safety_block:
        return [framing.end()]  # the framing ends as its upstream's filter ends an answer
    if mode is Fault.garbage:
        return list(GARBAGE_LINES)
    if mode is Fault.invalid_utf8:
        return [framing.record(_MARK).replace(_MARK.encode(), INVALID_UTF8) for _ in range(3)]
    if mode is Fault.wrong_answer:
        pieces = split_tokens(WRONG_ANSWER)
    if mode is Fault.changed_framing:
        framing = framing.drifted()
    return [framing.record(text) for text in pieces] + [framing.end()]


async def _huge_line(outlet: Outlet, framing: Framing, size: int) -> None:
    """One record of ``size`` bytes, written in pieces and never held whole in memory."""
    head, _, tail = framing.record(_MARK).rpartition(_MARK.encode())
    head = head.replace(_MARK.encode(), b"")  # a record that repeats its text keeps one copy
    await outlet.send(head)
    left = max(0, size - len(head) - len(tail))
    while left > 0:
        piece = HUGE_FILLER if left >= len(HUGE_FILLER) else HUGE_FILLER[:left]
        await outlet.response.write(piece)
        left -= len(piece)
    await outlet.response.write(tail)
