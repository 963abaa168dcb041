"""``record``: good recordings become scrubbed, replayable cassettes; bad ones never do."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cassettes import load, record, replay_cassette
from harness.cassettes.cassette import cassette_path
from harness.emulator import Emulator, Fault, FaultSpec
from harness.probing.probe import Deadlines
from harness.probing.runner import Target
from harness.settings.config import Settings
from providers import AutonomousAI, RobocodersAPI

# Only the local test servers are reachable, even under `pytest --block-network`.
pytestmark = pytest.mark.block_network(allowed_hosts=[r"127\.0\.0\.1$", "localhost$"])

PING = Target(AutonomousAI, "llama", "ping")


async def test_a_good_recording_holds_real_urls_and_replays(
    emulator: Emulator, tmp_path: Path, settings: Settings
) -> None:
    report = await record([PING], out_dir=tmp_path, upstream=emulator.url, settings=settings)

    (outcome,) = report.outcomes
    assert outcome.path == cassette_path(tmp_path, "AutonomousAI", "llama", "ping")
    assert "127.0.0.1" not in outcome.path.read_text()
    info = load(outcome.path).info
    assert (info.source, info.ttfc_ms, info.prompt_params) == (
        "mirror",
        outcome.result.ttfc_ms,
        dict(load(outcome.path).info.prompt_params),
    )
    assert (await replay_cassette(outcome.path, speed=None, settings=settings)).ok


async def test_sandbox_recordings_come_from_paced_emulators(
    tmp_path: Path, settings: Settings
) -> None:
    report = await record([PING], out_dir=tmp_path, sandbox=True, settings=settings)

    (outcome,) = report.saved
    assert outcome.path is not None
    info = load(outcome.path).info
    assert info.source == "emulator"
    assert info.ttfc_ms is not None
    assert info.ttfc_ms >= 80  # the sandbox's first-chunk delay


async def test_the_robocoders_token_and_session_requests_are_recorded(
    emulator: Emulator, tmp_path: Path, settings: Settings
) -> None:
    target = Target(RobocodersAPI, "RepoAgent", "ping")

    report = await record([target], out_dir=tmp_path, upstream=emulator.url, settings=settings)

    (outcome,) = report.saved
    assert outcome.path is not None
    uris = [i.request.uri for i in load(outcome.path).interactions]
    assert uris[:3] == [
        "https://api.robocoders.ai/auth",
        "https://api.robocoders.ai/create-session",
        "https://api.robocoders.ai/chat",
    ]


async def test_a_stream_cut_mid_way_is_reported_and_not_saved(
    emulator: Emulator, tmp_path: Path, settings: Settings
) -> None:
    emulator.set_fault("AutonomousAI", FaultSpec(Fault.reset_mid_stream))

    report = await record([PING], out_dir=tmp_path, upstream=emulator.url, settings=settings)

    (outcome,) = report.failed
    assert "stream_cut" in (outcome.problem or "")
    assert not cassette_path(tmp_path, "AutonomousAI", "llama", "ping").exists()
    assert report.exit_code == 1


async def test_an_endless_stream_cannot_hang_recording(
    emulator: Emulator, tmp_path: Path, settings: Settings
) -> None:
    emulator.set_fault("AutonomousAI", FaultSpec(Fault.endless))

    report = await record(
        [PING],
        out_dir=tmp_path,
        upstream=emulator.url,
        settings=settings,
        deadlines=Deadlines(total=1.0),
    )

    (outcome,) = report.failed
    assert "timeout_total" in (outcome.problem or "")
    assert not cassette_path(tmp_path, "AutonomousAI", "llama", "ping").exists()


async def test_a_failed_recording_leaves_the_existing_cassette_alone(
    emulator: Emulator, tmp_path: Path, settings: Settings
) -> None:
    await record([PING], out_dir=tmp_path, upstream=emulator.url, settings=settings)
    path = cassette_path(tmp_path, "AutonomousAI", "llama", "ping")
    before = path.read_text()
    emulator.set_fault("AutonomousAI", FaultSpec(Fault.http_500))

    report = await record([PING], out_dir=tmp_path, upstream=emulator.url, settings=settings)

    assert "http_server" in (report.outcomes[0].problem or "")
    assert path.read_text() == before


async def test_a_configured_secret_is_scrubbed(emulator: Emulator, tmp_path: Path) -> None:
    settings = Settings(secrets=("America/New_York",))

    report = await record([PING], out_dir=tmp_path, upstream=emulator.url, settings=settings)

    (outcome,) = report.saved
    assert outcome.path is not None
    text = outcome.path.read_text()
    assert "America/New_York" not in text
    assert "scrubbed-secret-1" in text
