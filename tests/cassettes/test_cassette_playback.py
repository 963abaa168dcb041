"""Replayed responses arrive in the recorded chunks, at the recorded offsets."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from harness.cassettes.cassette import (
    Cassette,
    CassetteInfo,
    ChunkMark,
    Interaction,
    RecordedRequest,
    RecordedResponse,
    save,
)
from harness.cassettes.playback import PacedResponse, Timeline, paced_playback, recorded_pieces
from harness.cassettes.replay import replay_vcr

URL = "https://stream.example.invalid/events"
PIECES = [(20.0, b"data: one\n\n"), (60.0, b"data: two\n\n"), (100.0, b"data: [DONE]\n\n")]
TOLERANCE_MS = 5.0
TOLERANCE_SHARE = 0.05


@pytest.fixture
def stream_cassette(tmp_path: Path) -> Path:
    """A three-chunk stream, 20, 60 and 100 ms after the request."""
    body = b"".join(data for _, data in PIECES)
    marks = tuple(ChunkMark(at, len(data)) for at, data in PIECES)
    info = CassetteInfo(
        "CodeLinkAva",
        "gpt-3.5-turbo",
        "ping",
        {"nonce": "a1b2c3"},
        datetime(2025, 1, 1, tzinfo=UTC),
        "emulator",
        "0",
        20.0,
        100.0,
        2,
        6,
    )
    interaction = Interaction(
        RecordedRequest("GET", URL, {}, None),
        RecordedResponse(200, "OK", {"Content-Type": ["text/event-stream"]}, body, marks),
    )
    path = tmp_path / "stream.yaml"
    save(Cassette(info, (interaction,)), path)
    return path


async def read_timed(path: Path, speed: float | None) -> list[tuple[float, bytes]]:
    """(ms since the request, data) of every piece ``iter_any`` hands the client."""
    out = []
    with replay_vcr().use_cassette(str(path)), paced_playback(speed):
        async with aiohttp.ClientSession() as session:
            start = time.perf_counter()
            async with session.get(URL) as response:
                async for data in response.content.iter_any():
                    out.append(((time.perf_counter() - start) * 1000, data))
    return out


@pytest.mark.block_network
async def test_instant_playback_keeps_the_chunk_boundaries(stream_cassette: Path) -> None:
    pieces = await read_timed(stream_cassette, speed=None)

    assert [data for _, data in pieces] == [data for _, data in PIECES]


@pytest.mark.block_network
async def test_real_time_playback_keeps_the_boundaries_and_the_offsets(
    stream_cassette: Path,
) -> None:
    # Best of three: a machine busy with other work may delay one run, never all.
    lateness = []
    for _ in range(3):
        pieces = await read_timed(stream_cassette, speed=1.0)
        assert [data for _, data in pieces] == [data for _, data in PIECES]
        assert all(at >= recorded for (at, _), (recorded, _) in zip(pieces, PIECES, strict=True))
        lateness.append(
            max(
                (at - recorded) - (TOLERANCE_MS + TOLERANCE_SHARE * recorded)
                for (at, _), (recorded, _) in zip(pieces, PIECES, strict=True)
            )
        )

    assert min(lateness) <= 0


@pytest.mark.block_network
async def test_a_small_body_read_whole_waits_for_its_recorded_time(stream_cassette: Path) -> None:
    with replay_vcr().use_cassette(str(stream_cassette)), paced_playback(1.0):
        async with aiohttp.ClientSession() as session:
            start = time.perf_counter()
            async with session.get(URL) as response:
                text = await response.text()
            elapsed_ms = (time.perf_counter() - start) * 1000

    assert text.endswith("data: [DONE]\n\n")
    assert elapsed_ms >= PIECES[-1][0]


@pytest.mark.block_network
async def test_letting_go_of_a_response_stops_its_feed(stream_cassette: Path) -> None:
    with replay_vcr().use_cassette(str(stream_cassette)), paced_playback(1.0):
        async with aiohttp.ClientSession() as session:
            async with session.get(URL) as response:
                assert isinstance(response, PacedResponse)
                assert response.feeder is not None
                await response.content.readany()
                assert response.feeder.pending
            await asyncio.sleep(0)

    assert not response.feeder.pending


def test_a_plain_vcrpy_response_plays_as_one_piece() -> None:
    plain = {"status": {"code": 200, "message": "OK"}, "headers": {}, "body": {"string": b"hi"}}

    assert recorded_pieces(plain) == [(0.0, b"hi")]


def test_a_negative_speed_is_refused() -> None:
    with pytest.raises(ValueError, match="speed"), paced_playback(-1.0):
        pass


def test_the_first_request_starts_when_it_is_made() -> None:
    assert Timeline(1.0).start(request_at_ms=0.0, now=50.0) == 50.0


def test_a_later_request_made_early_waits_for_its_recorded_start() -> None:
    timeline = Timeline(1.0)
    timeline.start(request_at_ms=0.0, now=50.0)

    assert timeline.start(request_at_ms=120.0, now=50.1) == pytest.approx(50.12)


def test_a_later_request_made_late_starts_when_made() -> None:
    timeline = Timeline(2.0)
    timeline.start(request_at_ms=0.0, now=50.0)

    assert timeline.start(request_at_ms=100.0, now=51.0) == 51.0


def test_instant_playback_never_waits_for_a_recorded_start() -> None:
    timeline = Timeline(None)
    timeline.start(request_at_ms=0.0, now=50.0)

    assert timeline.start(request_at_ms=500.0, now=50.0) == 50.0
