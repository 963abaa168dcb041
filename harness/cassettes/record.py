"""``harness record``: probe targets while recording them, and keep the good recordings.

Each target is probed through the real probe path (deadlines, size cap) with a
:class:`~harness.cassettes.recorder.Recorder` riding along. A recording becomes a
cassette only when all of these hold, and is otherwise reported and not written:

1. the probe passed (a transport error, timeout, cut stream or wrong answer is
   never saved as a success);
2. every request got a response;
3. after scrubbing, no secret is left (:func:`~harness.cassettes.scrub.find_leaks`);
4. the scrubbed cassette replays, instantly, through the probe, and passes.

Targets are recorded one at a time: each gets a fresh provider credentials cache
(so the token and session requests are in the cassette), and timing is cleanest
without neighbours.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from harness import __version__
from harness.cassettes.cassette import Cassette, CassetteError, CassetteInfo, cassette_path, save
from harness.cassettes.isolation import fresh_provider_cache
from harness.cassettes.recorder import Recorder
from harness.cassettes.replay import replay_cassette
from harness.cassettes.scrub import find_leaks, scrub
from harness.emulator import Emulator, FaultSpec
from harness.emulator.faults import PROVIDERS as EMULATED
from harness.pipeline.run import deadlines_of
from harness.policy.prompts import PROMPTS, PromptRun
from harness.probing.probe import Deadlines, probe
from harness.probing.runner import Target
from harness.result import ProbeResult, Source
from harness.settings.config import Settings
from harness.targets.endpoints import secrets_of
from harness.targets.sources import sandbox_bases
from providers import upstream

SANDBOX_PACING = FaultSpec(first_chunk_delay=0.08, chunk_delay=0.03)
"""The emulators' latency while recording from them: a stream of separate chunks with
a visible first-chunk delay, so that replayed timing and chunking mean something."""


@dataclass(frozen=True)
class Capture:
    """One probe with its traffic: the result, and the (unscrubbed) cassette if any."""

    result: ProbeResult
    cassette: Cassette | None
    problems: tuple[str, ...]
    """Why the traffic is incomplete (requests that failed or got no response)."""


@dataclass(frozen=True)
class Recorded:
    """What recording one target produced: a cassette file, or why there is none."""

    provider: str
    model: str
    prompt: str
    result: ProbeResult
    path: Path | None = None
    problem: str | None = None

    @property
    def saved(self) -> bool:
        return self.path is not None


@dataclass(frozen=True)
class RecordReport:
    """Every target's outcome, in the order recorded."""

    outcomes: list[Recorded]

    @property
    def saved(self) -> list[Recorded]:
        return [o for o in self.outcomes if o.saved]

    @property
    def failed(self) -> list[Recorded]:
        return [o for o in self.outcomes if not o.saved]

    @property
    def exit_code(self) -> int:
        """0 when every target was recorded, else 1."""
        return 0 if self.outcomes and not self.failed else 1


def source_kind(*, sandbox: bool, upstream_base: str | None) -> str:
    """What a cassette's ``source`` says: ``emulator``, ``mirror`` or ``live``."""
    if sandbox:
        return "emulator"
    return "mirror" if upstream_base else "live"


async def capture(
    target: Target,
    run: PromptRun,
    *,
    settings: Settings,
    deadlines: Deadlines,
    source: Source,
    kind: str,
) -> Capture:
    """Probe ``target`` with ``run`` under the redirection in force, recording its traffic.

    Never raises for a provider's failure: the result says what happened, and the
    cassette holds whatever responses arrived (``None`` when none did).
    """
    provider = target.provider
    recorder = Recorder(provider, upstream.base_for(provider.name()))
    with fresh_provider_cache(), recorder.attached():
        result = await probe(
            provider,
            target.model,
            run,
            deadlines=deadlines,
            source=source,
            vantage=settings.vantage or "",
            proxy=settings.provider(provider.name()).proxy,
            secrets=secrets_of(settings),
        )
    interactions = recorder.interactions(complete_only=False)
    info = CassetteInfo(
        provider=provider.name(),
        model=target.model,
        prompt=run.prompt,
        prompt_params=dict(run.params),
        recorded_at=result.started_at,
        source=kind,
        harness_version=__version__,
        ttfc_ms=result.ttfc_ms,
        total_ms=result.total_ms,
        chunks=result.chunks,
        chars=result.chars,
        finish_reason=result.finish_reason,
    )
    cassette = Cassette(info, interactions) if interactions else None
    return Capture(result, cassette, tuple(recorder.problems()))


async def _verify_replay(
    cassette: Cassette, settings: Settings, deadlines: Deadlines
) -> str | None:
    """``None`` when ``cassette`` replays and passes; else why not."""
    with tempfile.TemporaryDirectory(prefix="harness-verify-") as folder:
        path = Path(folder) / "cassette.yaml"
        await asyncio.to_thread(save, cassette, path)
        result = await replay_cassette(path, speed=None, settings=settings, deadlines=deadlines)
    if result.ok:
        return None
    return f"the scrubbed cassette does not replay: {result.kind}: {result.error}"


async def record_one(
    target: Target,
    *,
    out_dir: Path,
    settings: Settings,
    deadlines: Deadlines,
    source: Source,
    kind: str,
) -> Recorded:
    """Record ``target`` with fresh prompt parameters; write its cassette if it is good."""
    run = PROMPTS[target.prompt].build()
    name = target.provider.name()
    taken = await capture(
        target, run, settings=settings, deadlines=deadlines, source=source, kind=kind
    )
    result = taken.result

    def failed(problem: str) -> Recorded:
        return Recorded(name, target.model, target.prompt, result, problem=problem)

    if not result.ok:
        return failed(f"probe failed ({result.kind}): {result.error}")
    if taken.problems or taken.cassette is None:
        return failed("; ".join(taken.problems) or "no traffic recorded")
    cassette = scrub(taken.cassette, secrets_of(settings))
    leaks = find_leaks(cassette, secrets_of(settings))
    if leaks:
        return failed("secrets left after scrubbing: " + "; ".join(leaks))
    problem = await _verify_replay(cassette, settings, deadlines)
    if problem is not None:
        return failed(problem)
    path = cassette_path(out_dir, name, target.model, target.prompt)
    await asyncio.to_thread(save, cassette, path)
    return Recorded(name, target.model, target.prompt, result, path=path)


@asynccontextmanager
async def recording_source(
    settings: Settings, *, upstream_base: str | None, sandbox: bool
) -> AsyncIterator[Source]:
    """Redirect providers for a recording: to fresh emulators paced by
    :data:`SANDBOX_PACING`, to ``upstream_base`` (plus per-provider base URLs from the
    settings), or to the real hosts; yields the results' source."""
    if sandbox and upstream_base:
        raise CassetteError("record from the sandbox or from an upstream, not both")
    if sandbox:
        endpoints = list(settings.endpoints)
        async with Emulator(host="127.0.0.1", port=0, endpoints=endpoints) as emulator:
            for name in [*EMULATED, *endpoints]:
                emulator.set_fault(name, SANDBOX_PACING)
            with upstream.redirect(emulator.url, sandbox_bases(settings, emulator.url)):
                yield Source.SANDBOX
        return
    per_provider = {
        name: p.base_url for name, p in settings.providers.items() if p.base_url is not None
    }
    with upstream.redirect(upstream_base or settings.upstream, per_provider):
        yield Source.LIVE


def first_per_provider(targets: Sequence[Target]) -> list[Target]:
    """The first target of each provider, in order."""
    seen: dict[str, Target] = {}
    for target in targets:
        seen.setdefault(target.provider.name(), target)
    return list(seen.values())


async def warm_up(
    targets: Sequence[Target], *, settings: Settings, deadlines: Deadlines, source: Source
) -> None:
    """Probe each provider once, unrecorded, before recording it.

    A provider's first call in a process pays one-time costs of its own (lazy parser
    tables: bs4 spends ~20 ms building its HTML entity table on the first ``&lt;``).
    Recorded, that would pass for upstream latency in the first cassette.
    """
    for target in first_per_provider(targets):
        with fresh_provider_cache():
            await probe(
                target.provider,
                target.model,
                PROMPTS[target.prompt].build(),
                deadlines=deadlines,
                source=source,
                proxy=settings.provider(target.provider.name()).proxy,
                secrets=secrets_of(settings),
            )


async def record(
    targets: Sequence[Target],
    *,
    out_dir: Path,
    upstream: str | None = None,
    sandbox: bool = False,
    settings: Settings,
    deadlines: Deadlines | None = None,
) -> RecordReport:
    """Record ``targets`` into ``out_dir/<provider>/<model>--<prompt>.yaml``.

    ``sandbox``: from the built-in emulators; ``upstream``: from a mirror or proxy
    at that base URL; neither: from the live services (or ``settings.upstream``).
    Existing cassettes of a target are replaced only by a good recording.
    """
    kind = source_kind(sandbox=sandbox, upstream_base=upstream or settings.upstream)
    limits = deadlines or deadlines_of(settings)
    outcomes: list[Recorded] = []
    async with recording_source(settings, upstream_base=upstream, sandbox=sandbox) as source:
        await warm_up(targets, settings=settings, deadlines=limits, source=source)
        for target in targets:
            outcomes.append(
                await record_one(
                    target,
                    out_dir=out_dir,
                    settings=settings,
                    deadlines=limits,
                    source=source,
                    kind=kind,
                )
            )
    return RecordReport(outcomes)
