"""Replaying cassettes through the real probe path, offline.

Each cassette is replayed by :func:`harness.probing.probe.probe` itself, with the prompt
rebuilt from the parameters (nonce included) recorded in the cassette, so the
answer check still means something. vcrpy serves the recorded responses (record
mode ``none``: a request the cassette lacks fails, naming the request, and nothing
reaches the network), paced by :func:`~harness.cassettes.playback.paced_playback`.
Results carry ``source=replay``.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import vcr

from harness.cassettes.cassette import CassetteError, CassetteInfo, find_cassettes, load
from harness.cassettes.isolation import fresh_provider_cache, real_hosts
from harness.cassettes.match import VCR_OPTIONS, configure
from harness.cassettes.playback import paced_playback
from harness.pipeline.run import deadlines_of
from harness.policy.prompts import PROMPTS, PromptRun
from harness.probing.probe import Deadlines, probe
from harness.result import ProbeResult, Source
from harness.settings.config import Settings
from harness.targets.endpoints import secrets_of
from providers import get_provider

REAL_TIME = 1.0
"""``speed`` for replay at the recorded pace; ``None`` replays as fast as possible."""


def replay_vcr() -> vcr.VCR:
    """A vcrpy instance that only plays back, matching requests the harness's way."""
    player = vcr.VCR(record_mode="none", **VCR_OPTIONS)
    configure(player)
    return player


def prompt_run(info: CassetteInfo, origin: str = "<cassette>") -> PromptRun:
    """The exact prompt run a cassette recorded (same nonce, same numbers)."""
    prompt = PROMPTS.get(info.prompt)
    if prompt is None:
        raise CassetteError(f"{origin}: unknown prompt {info.prompt!r}")
    try:
        return prompt.build(info.prompt_params)
    except ValueError as exc:
        raise CassetteError(f"{origin}: {exc}") from None


async def probe_recorded(
    info: CassetteInfo,
    *,
    speed: float | None = REAL_TIME,
    settings: Settings,
    deadlines: Deadlines | None = None,
    run_id: str = "",
    origin: str = "<cassette>",
) -> ProbeResult:
    """Probe the target a cassette recorded, with its prompt parameters, while a vcrpy
    cassette holding its traffic is active (pytest-recording's ``vcr`` fixture, or
    :func:`replay_cassette`). Responses are paced at ``speed``."""
    try:
        provider = get_provider(info.provider)
    except KeyError as exc:
        raise CassetteError(f"{origin}: {exc.args[0]}") from None
    run = prompt_run(info, origin)
    with fresh_provider_cache(), real_hosts(provider), paced_playback(speed):
        return await probe(
            provider,
            info.model,
            run,
            deadlines=deadlines or deadlines_of(settings),
            source=Source.REPLAY,
            vantage=settings.vantage or "",
            run_id=run_id,
            secrets=secrets_of(settings),
        )


async def replay_cassette(
    path: Path,
    *,
    speed: float | None = REAL_TIME,
    settings: Settings,
    deadlines: Deadlines | None = None,
    run_id: str = "",
) -> ProbeResult:
    """Probe the provider of the cassette at ``path`` against its recording, offline."""
    info = (await asyncio.to_thread(load, path)).info
    with replay_vcr().use_cassette(str(path)):
        return await probe_recorded(
            info,
            speed=speed,
            settings=settings,
            deadlines=deadlines,
            run_id=run_id,
            origin=str(path),
        )


async def replay(
    cassette_dir: Path,
    *,
    speed: float | None = REAL_TIME,
    settings: Settings,
    providers: list[str] | None = None,
) -> list[ProbeResult]:
    """Replay every cassette under ``cassette_dir`` (one at a time), or only those of
    ``providers``; one result per cassette, in file order.

    Paced replays are preceded by an instant, discarded replay of each provider's
    first cassette: a provider's first call in a process pays one-time costs (see
    :func:`~harness.cassettes.record.warm_up`) that its recording did not contain.
    """
    paths = find_cassettes(cassette_dir)
    if providers is not None:
        wanted = {get_provider(name).name() for name in providers}
        paths = [p for p in paths if p.parent.name in wanted]
    if not paths:
        raise CassetteError(f"no cassettes under {cassette_dir}")
    if speed:
        first: dict[str, Path] = {}
        for path in paths:
            first.setdefault(path.parent.name, path)
        for path in first.values():
            await replay_cassette(path, speed=None, settings=settings)
    run_id = uuid.uuid4().hex
    return [
        await replay_cassette(path, speed=speed, settings=settings, run_id=run_id) for path in paths
    ]
