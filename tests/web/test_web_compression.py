"""gzip of an answer in parts: one ordinary gzip member, each part compressed once."""

from __future__ import annotations

import gzip
import zlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.web.compression import WINDOW, PartsGzip

_parts = st.lists(st.binary(max_size=3000), max_size=12)


def _single_member(data: bytes) -> bytes:
    """``data`` decompressed as aiohttp's client does: one gzip member, nothing after."""
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    whole = decompressor.decompress(data) + decompressor.flush()
    assert decompressor.eof
    assert decompressor.unused_data == b""
    return whole


@given(_parts)
def test_the_answer_is_the_gzip_of_the_parts_joined(parts: list[bytes]) -> None:
    zipped = PartsGzip().of("one", parts)

    assert gzip.decompress(zipped) == b"".join(parts)
    assert _single_member(zipped) == b"".join(parts)


@given(_parts, _parts)
def test_an_answer_sharing_parts_with_the_one_before_is_whole_too(
    first: list[bytes], second: list[bytes]
) -> None:
    kept = PartsGzip()
    kept.of("first", first)
    mixed = [*first[::2], *second]

    assert _single_member(kept.of("second", mixed)) == b"".join(mixed)


def _text(seed: int, size: int) -> bytes:
    """``size`` bytes of JSON-like text that compresses as the status document does."""
    return b"".join(b'{"n": %d, "ms": %d}, ' % (seed, i * 7 % 1000) for i in range(size // 20))


def test_a_part_is_compressed_again_only_when_it_or_the_window_before_it_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kept = PartsGzip()
    big = [_text(1, WINDOW + 100), _text(2, WINDOW + 100)]
    kept.of("first", [b"head 1", *big])
    compressed: list[int] = []
    original = zlib.compressobj

    def counted(*args: Any, **kwargs: Any) -> Any:
        compressed.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(zlib, "compressobj", counted)
    zipped = kept.of("second", [b"head 2", *big])

    assert len(compressed) == 2  # the head, and the part its change primed
    assert _single_member(zipped) == b"".join([b"head 2", *big])


def test_parts_compress_about_as_well_as_their_whole() -> None:
    parts = [_text(n, 20_000) for n in range(20)]
    whole = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    single = whole.compress(b"".join(parts)) + whole.flush()

    assert len(PartsGzip().of("one", parts)) < 1.05 * len(single)


def test_an_answer_of_the_same_name_is_given_again_as_it_is() -> None:
    kept = PartsGzip()
    first = kept.of("one", [b"x" * 100])

    assert kept.of("one", [b"x" * 100]) is first
