"""The cassette file: vcrpy's format plus chunk timing and a provenance block."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from vcr.serialize import deserialize
from vcr.serializers import yamlserializer

from harness.cassettes.cassette import (
    Cassette,
    CassetteError,
    CassetteInfo,
    ChunkMark,
    Interaction,
    RecordedRequest,
    RecordedResponse,
    dumps,
    load,
    loads,
    save,
)

INFO = CassetteInfo(
    provider="AutonomousAI",
    model="llama",
    prompt="ping",
    prompt_params={"nonce": "a1b2c3"},
    recorded_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
    source="emulator",
    harness_version="0.1.0",
    ttfc_ms=80.5,
    total_ms=120.0,
    chunks=1,
    chars=11,
    finish_reason="stop",
)


def cassette_of(body: bytes, sizes: list[int]) -> Cassette:
    request = RecordedRequest("POST", "https://example.invalid/chat", {"A": ["1"]}, b'{"x": 1}')
    marks = tuple(ChunkMark(float(n * 10), size) for n, size in enumerate(sizes))
    response = RecordedResponse(200, "OK", {"Content-Type": ["text/plain"]}, body, marks)
    return Cassette(INFO, (Interaction(request, response),))


def split(body: bytes, cuts: list[int]) -> list[int]:
    points = sorted({min(c, len(body)) for c in cuts} | {0, len(body)})
    return [b - a for a, b in itertools.pairwise(points)] or [0]


@given(st.binary(max_size=300), st.lists(st.integers(0, 300), max_size=6))
def test_a_cassette_survives_the_round_trip(body: bytes, cuts: list[int]) -> None:
    cassette = cassette_of(body, split(body, cuts))

    assert loads(dumps(cassette)) == cassette


def test_a_body_that_is_not_utf8_is_kept_as_binary() -> None:
    text = dumps(cassette_of(b"\xff\xfe", [2]))

    assert "!!binary" in text


def test_pieces_cut_the_body_at_the_recorded_sizes() -> None:
    response = cassette_of(b"abcdef", [1, 2, 3]).interactions[0].response

    assert response.pieces() == [(0.0, b"a"), (10.0, b"bc"), (20.0, b"def")]


def test_chunks_that_do_not_add_up_to_the_body_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(dumps(cassette_of(b"abcdef", [1, 2, 3])).replace("size: 3", "size: 4"))

    with pytest.raises(CassetteError, match=r"bad\.yaml.*do not add up"):
        load(path)


def test_a_plain_vcrpy_cassette_is_not_a_harness_cassette() -> None:
    plain = "interactions: []\nversion: 1\n"

    with pytest.raises(CassetteError, match="no 'harness' block"):
        loads(plain, "plain.yaml")


def test_vcrpy_loads_a_harness_cassette_and_keeps_the_chunks() -> None:
    requests, responses = deserialize(dumps(cassette_of(b"hello", [2, 3])), yamlserializer)

    assert requests[0].uri == "https://example.invalid/chat"
    assert responses[0]["body"]["string"] == b"hello"
    assert responses[0]["chunks"] == [{"at_ms": 0.0, "size": 2}, {"at_ms": 10.0, "size": 3}]


def test_saving_replaces_the_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "p" / "m--ping.yaml"
    save(cassette_of(b"old", [3]), path)
    newer = cassette_of(b"new", [3])

    save(newer, path)

    assert load(path) == newer
    assert [p.name for p in path.parent.iterdir()] == ["m--ping.yaml"]
