"""gzip of an answer in parts: one ordinary gzip member, each part compressed once."""

from __future__ import annotations

import gzip
import zlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.web.compression import PartsGzip

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


def test_only_the_new_parts_are_compressed(monkeypatch: pytest.MonkeyPatch) -> None:
    kept = PartsGzip()
    kept.of("first", [b"head 1", b"a" * 5000, b"b" * 5000])
    compressed: list[int] = []
    original = zlib.compressobj

    def counted(*args: Any, **kwargs: Any) -> Any:
        compressed.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(zlib, "compressobj", counted)
    kept.of("second", [b"head 2", b"a" * 5000, b"b" * 5000])

    assert len(compressed) == 1


def test_an_answer_of_the_same_name_is_given_again_as_it_is() -> None:
    kept = PartsGzip()
    first = kept.of("one", [b"x" * 100])

    assert kept.of("one", [b"x" * 100]) is first
