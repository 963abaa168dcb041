"""gzip of an answer made of parts, each part compressed once while it stays in it.

The status document at a thousand targets is about 9 MB of JSON, and after a
provider's run only that provider's part of it is new. Compressing the whole of it
again costs tens of milliseconds a request; here each part is compressed on its own
into raw deflate blocks that end on a byte boundary (a full flush), and those blocks,
kept by part, are put between a gzip header and trailer. A deflate stream may be any
run of such blocks, so the result is one ordinary gzip member; only new parts are
compressed, and the trailer's CRC-32 runs over the whole text.

Each part's compressor is primed with the text just before it (up to deflate's
32 KB window, as pigz does): its back-references may reach into that text, which
the decompressor has just written, so the parts compress nearly as well as the whole
would. A part's blocks are therefore kept with the parts before it that primed them,
and a part after a changed one is compressed again too.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

LEVEL = 6
"""zlib's default level, as aiohttp's own compression uses."""

WINDOW = 32 * 1024
"""How far back a deflate back-reference reaches."""

_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
"""gzip: deflate, no flags, no time, no extra flags, unknown OS."""

_LAST_BLOCK = b"\x03\x00"
"""An empty final block of fixed codes: the end of the deflate stream."""


class PartsGzip:
    """gzip of the latest answer of parts; the compressed parts of that answer are kept
    for the next."""

    def __init__(self) -> None:
        self._blocks: dict[tuple[bytes, ...], bytes] = {}
        self._answer: tuple[str, bytes] | None = None

    def of(self, name: str, parts: Sequence[bytes]) -> bytes:
        """The gzip of ``b"".join(parts)``, named ``name`` (an answer of the same name
        is given again as it is)."""
        if self._answer is not None and self._answer[0] == name:
            return self._answer[1]
        blocks: dict[tuple[bytes, ...], bytes] = {}
        chosen = []
        crc = size = 0
        for n, part in enumerate(parts):
            before = _window_before(parts, n)
            key = (*before, part)
            block = blocks.get(key) or self._blocks.get(key)
            if block is None:
                block = _deflated(part, b"".join(before)[-WINDOW:])
            blocks[key] = block
            chosen.append(block)
            crc = zlib.crc32(part, crc)
            size += len(part)
        trailer = struct.pack("<II", crc, size & 0xFFFFFFFF)
        body = b"".join([_HEADER, *chosen, _LAST_BLOCK, trailer])
        self._blocks, self._answer = blocks, (name, body)
        return body


def _deflated(part: bytes, primer: bytes) -> bytes:
    """``part`` as raw deflate blocks ending on a byte boundary, primed with ``primer``."""
    if primer:
        compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS, zdict=primer)
    else:  # zlib refuses an empty dictionary
        compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(part) + compressor.flush(zlib.Z_FULL_FLUSH)


def _window_before(parts: Sequence[bytes], n: int) -> tuple[bytes, ...]:
    """The parts before ``parts[n]`` that hold the last :data:`WINDOW` bytes before it."""
    start, held = n, 0
    while start > 0 and held < WINDOW:
        start -= 1
        held += len(parts[start])
    return tuple(parts[start:n])
