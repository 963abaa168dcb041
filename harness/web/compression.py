"""gzip of an answer made of parts, each part compressed once while it stays in it.

The status document at a thousand targets is about 9 MB of JSON, and after a
provider's run only that provider's part of it is new. Compressing the whole of it
again costs tens of milliseconds a request; here each part is compressed on its own
into raw deflate blocks that end on a byte boundary with a full flush (each from a
fresh compressor, so no block refers to another's text), and those blocks, kept by
part, are put between a gzip header and trailer. A deflate stream may be any run of
such blocks, so the result is one ordinary gzip member; only new parts are
compressed, and the trailer's CRC-32 runs over the whole text.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

LEVEL = 6
"""zlib's default level, as aiohttp's own compression uses."""

_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
"""gzip: deflate, no flags, no time, no extra flags, unknown OS."""

_LAST_BLOCK = b"\x03\x00"
"""An empty final block of fixed codes: the end of the deflate stream."""


class PartsGzip:
    """gzip of the latest answer of parts; the compressed parts of that answer are kept
    for the next."""

    def __init__(self) -> None:
        self._blocks: dict[bytes, bytes] = {}
        self._answer: tuple[str, bytes] | None = None

    def of(self, name: str, parts: Sequence[bytes]) -> bytes:
        """The gzip of ``b"".join(parts)``, named ``name`` (an answer of the same name
        is given again as it is)."""
        if self._answer is not None and self._answer[0] == name:
            return self._answer[1]
        blocks: dict[bytes, bytes] = {}
        crc = size = 0
        for part in parts:
            block = blocks.get(part) or self._blocks.get(part)
            if block is None:
                compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
                block = compressor.compress(part) + compressor.flush(zlib.Z_FULL_FLUSH)
            blocks[part] = block
            crc = zlib.crc32(part, crc)
            size += len(part)
        body = b"".join(
            [
                _HEADER,
                *(blocks[p] for p in parts),
                _LAST_BLOCK,
                struct.pack("<II", crc, size & 0xFFFFFFFF),
            ]
        )
        self._blocks, self._answer = blocks, (name, body)
        return body
