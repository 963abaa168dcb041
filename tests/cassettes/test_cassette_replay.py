"""Every shipped cassette replays through the real probe path, offline.

One test per cassette file (a new cassette is a new test), through pytest-recording:
record mode from the command line (``none`` unless told otherwise) and the network
blocked, 127.0.0.1 included.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from vcr.cassette import Cassette as VcrCassette

from harness.cassettes import (
    REAL_TIME,
    find_cassettes,
    load,
    probe_recorded,
    replay_cassette,
    save,
)
from harness.cassettes.cassette import cassette_path
from harness.probing.runner import plan
from harness.result import Source
from harness.settings.config import Settings
from providers import PROVIDERS


@pytest.mark.vcr
@pytest.mark.block_network
async def test_cassette_replays_as_recorded(
    shipped_cassette: Path, vcr: VcrCassette, settings: Settings
) -> None:
    info = load(shipped_cassette).info

    result = await probe_recorded(info, speed=None, settings=settings, origin=str(shipped_cassette))

    assert result.ok, result.error
    assert result.source is Source.REPLAY
    assert (result.chunks, result.chars, result.finish_reason) == (
        info.chunks,
        info.chars,
        info.finish_reason,
    )
    assert vcr.all_played, "the provider no longer makes every recorded request"


PACED = 4.0
"""A replay speed that keeps the recorded chunk offsets (scaled), for the timing checks."""


@pytest.mark.vcr
@pytest.mark.block_network
async def test_cassette_replays_as_a_stream_of_several_chunks(
    shipped_cassette: Path, vcr: VcrCassette, settings: Settings
) -> None:
    """Every shipped answer streams in pieces, so chunk timing and max_gap are exercised."""
    info = load(shipped_cassette).info

    result = await probe_recorded(
        info, speed=PACED, settings=settings, origin=str(shipped_cassette)
    )

    assert result.ok, result.error
    assert info.chunks is not None
    assert info.chunks >= 2
    assert result.chunks >= 2
    assert result.ttfc_ms is not None
    assert result.total_ms is not None
    assert result.ttfc_ms < result.total_ms
    assert result.max_gap_ms is not None


def test_every_provider_model_and_applicable_prompt_has_a_cassette(shipped_dir: Path) -> None:
    expected = {
        cassette_path(shipped_dir, t.provider.name(), t.model, t.prompt)
        for t in plan(PROVIDERS.values(), prompts="all")
    }

    assert expected - set(find_cassettes(shipped_dir)) == set()


@pytest.mark.block_network
async def test_a_request_missing_from_the_cassette_fails_naming_it(
    shipped_dir: Path, tmp_path: Path, settings: Settings
) -> None:
    cassette = load(shipped_dir / "RobocodersAPI" / "RepoAgent--ping.yaml")
    without_session = dataclasses.replace(
        cassette,
        interactions=tuple(
            i for i in cassette.interactions if "create-session" not in i.request.uri
        ),
    )
    path = tmp_path / "RepoAgent--ping.yaml"
    save(without_session, path)

    result = await replay_cassette(path, speed=None, settings=settings)

    assert not result.ok
    assert "GET https://api.robocoders.ai/create-session" in (result.error or "")


@pytest.mark.block_network
async def test_replayed_ttfc_matches_the_recorded_one_at_real_time_speed(
    shipped_dir: Path, settings: Settings
) -> None:
    path = shipped_dir / "CodeLinkAva" / "gpt-3.5-turbo--ping.yaml"
    recorded = load(path).info.ttfc_ms
    assert recorded is not None
    allowed = 5.0 + 0.05 * recorded

    # Best of three: a machine busy with other work may delay one run, never all.
    misses = []
    for _ in range(3):
        result = await replay_cassette(path, speed=REAL_TIME, settings=settings)
        assert result.ok
        assert result.ttfc_ms is not None
        misses.append(abs(result.ttfc_ms - recorded))

    assert min(misses) <= allowed
