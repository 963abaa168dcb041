"""Reading streamed bodies line by line, with the bookkeeping every parser needs."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Any

import aiohttp

from .errors import ProtocolError
from .lines import DEFAULT_MAX_LINE, LineDecoder
from .messages import Chunk, FinishReason

SKIPPED_KEPT = 1024
"""Bytes kept of the first unreadable line, for the error to show."""


async def iter_lines(
    response: aiohttp.ClientResponse, max_line: int = DEFAULT_MAX_LINE
) -> AsyncGenerator[bytes, None]:
    """The body's lines as they arrive, whatever the network's chunking."""
    decoder = LineDecoder(max_line)
    async for data in response.content.iter_any():
        for line in decoder.decode(data):
            yield line
    for line in decoder.flush():
        yield line


class LineTally:
    """Counts what a parser made of the lines, to tell an empty body from a broken one."""

    def __init__(self) -> None:
        self.lines = 0
        self.skipped = 0
        self.texts = 0
        self.first_skipped: bytes | None = None
        """The start of the first unreadable line: what the error shows came back."""

    def skip(self, line: bytes) -> None:
        """Count ``line`` as unreadable (keeping the start of the first such line)."""
        self.skipped += 1
        if self.first_skipped is None:
            self.first_skipped = line[:SKIPPED_KEPT]

    def decode_json(self, line: bytes, prefix: bytes = b"") -> Any | None:
        """The JSON value of ``line`` after ``prefix``; ``None`` (counted) when it is not JSON."""
        self.lines += 1
        try:
            return json.loads(line.removeprefix(prefix).decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            self.skip(line)
            return None

    def check_end(self) -> None:
        """At the end of a stream: raise when every line was unreadable."""
        if self.texts == 0 and self.skipped:
            raise ProtocolError(
                f"no usable data: {self.skipped} of {self.lines} lines could not be decoded",
                body=(self.first_skipped or b"").decode("utf-8", "replace"),
            )


_SSE_FIELDS = (b"event:", b"id:", b"retry:")


async def iter_sse_chunks(
    response: aiohttp.ClientResponse, tally: LineTally
) -> AsyncIterator[Chunk]:
    """Text and finish items of an OpenAI-style SSE stream (``data: {json}`` … ``data: [DONE]``).

    The ``data:`` prefix is honoured only at the start of a line; blank lines, comments
    and other SSE fields are ignored; undecodable lines are skipped and counted.
    """
    finished = False
    # Closed here, not left to the garbage collector: breaking out at [DONE] would
    # otherwise cost a task that closes the abandoned line reader later.
    async with aclosing(iter_lines(response)) as lines:
        async for raw in lines:
            line = raw.strip()
            if not line or line.startswith(b":") or line.startswith(_SSE_FIELDS):
                continue
            if not line.startswith(b"data:"):
                tally.lines += 1
                tally.skip(line)
                continue
            payload = line[5:].strip()
            if payload == b"[DONE]":
                break
            event = tally.decode_json(payload)
            if not isinstance(event, dict):
                continue
            choices = event.get("choices")
            choice = choices[0] if isinstance(choices, list) and choices else {}
            if not isinstance(choice, dict):
                continue
            delta = choice.get("delta") or choice.get("message") or {}
            content = delta.get("content") if isinstance(delta, dict) else None
            if isinstance(content, str) and content:
                tally.texts += 1
                yield content
            reason = choice.get("finish_reason") or event.get("finish_reason")
            if isinstance(reason, str) and reason and not finished:
                finished = True
                yield FinishReason(reason)
    tally.check_end()
