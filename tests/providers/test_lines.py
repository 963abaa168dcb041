"""providers.lines.LineDecoder: the same lines, wherever the network splits the bytes."""

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from providers.errors import ResponseTooLargeError
from providers.lines import LineDecoder

bodies = st.lists(
    st.one_of(st.binary(max_size=12), st.sampled_from([b"\n", b"\r", b"\r\n", b"\r\r\n"])),
    max_size=20,
).map(b"".join)


def decode_in_pieces(data: bytes, cuts: list[int], max_line: int = 1 << 20) -> list[bytes]:
    decoder = LineDecoder(max_line)
    bounds = [0, *sorted(cuts), len(data)]
    lines: list[bytes] = []
    for start, end in itertools.pairwise(bounds):
        lines += decoder.decode(data[start:end])
    return lines + decoder.flush()


@given(bodies, st.lists(st.integers(min_value=0, max_value=300)))
def test_any_split_gives_the_lines_of_the_whole_body(data: bytes, cuts: list[int]) -> None:
    cuts = [cut % (len(data) + 1) for cut in cuts]
    assert decode_in_pieces(data, cuts) == data.splitlines()


@given(bodies, st.lists(st.integers(min_value=0, max_value=300)), st.integers(1, 8))
def test_a_line_over_the_cap_is_refused_wherever_the_split_falls(
    data: bytes, cuts: list[int], max_line: int
) -> None:
    cuts = [cut % (len(data) + 1) for cut in cuts]
    too_long = any(len(line) > max_line for line in data.splitlines())
    if too_long:
        with pytest.raises(ResponseTooLargeError):
            decode_in_pieces(data, cuts, max_line)
    else:
        assert decode_in_pieces(data, cuts, max_line) == data.splitlines()


def test_a_crlf_split_between_reads_ends_one_line_only() -> None:
    decoder = LineDecoder()
    assert decoder.decode(b"a\r") == [b"a"]
    assert decoder.decode(b"\nb\r\n") == [b"b"]
    assert decoder.flush() == []
