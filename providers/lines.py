"""Incremental line splitting for streamed bodies, free of I/O.

A network read may end anywhere: inside a line, between ``\\r`` and ``\\n``, or
inside a multi-byte character. :class:`LineDecoder` buffers the partial tail and
hands out whole lines only, and refuses to buffer a line past ``max_line`` bytes
so a hostile upstream cannot grow memory without bound.
"""

from __future__ import annotations

import re

from .errors import ResponseTooLargeError

_EOL = re.compile(rb"\r\n|\r|\n")

DEFAULT_MAX_LINE = 4 * 1024 * 1024


class LineDecoder:
    """Split a byte stream into lines; ``\\n``, ``\\r\\n`` and a lone ``\\r`` end a line."""

    def __init__(self, max_line: int = DEFAULT_MAX_LINE) -> None:
        self._buffer = bytearray()
        self._max_line = max_line
        self._pending_cr = False

    def decode(self, data: bytes) -> list[bytes]:
        """Feed ``data``; return the lines it completed, without their line endings."""
        if not data:
            return []  # an empty read must not forget a pending "\r"
        if self._pending_cr:
            self._pending_cr = False
            if data[:1] == b"\n":
                data = data[1:]  # the "\n" of a "\r\n" split across two reads
        if data[-1:] == b"\r":
            self._pending_cr = True
        *complete, tail = _EOL.split(data)
        lines: list[bytes] = []
        if complete:
            self._buffer += complete[0]
            lines.append(bytes(self._buffer))
            lines.extend(complete[1:])
            self._buffer = bytearray(tail)
        else:
            self._buffer += tail
        # Complete lines are checked too, so the cap does not depend on how reads split.
        if len(self._buffer) > self._max_line or any(len(x) > self._max_line for x in lines):
            raise ResponseTooLargeError(f"a line exceeded {self._max_line} bytes")
        return lines

    def flush(self) -> list[bytes]:
        """End of stream: return the unterminated last line, if any."""
        self._pending_cr = False
        if not self._buffer:
            return []
        line = bytes(self._buffer)
        self._buffer.clear()
        return [line]
