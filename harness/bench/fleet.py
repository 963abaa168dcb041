"""A synthetic fleet: hundreds of targets with varied health, for the page at scale.

Where :mod:`harness.bench.synthetic` writes a long history for the few real targets,
this writes a short one (a full history bar) for many made-up ones, named like the
g4f adapter's (``g4f.<Name>``), each provider with its own latency and a health
profile, so that the page shows every state and has something to filter and sort.
Pure for a seed.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from harness import __version__
from harness.result import FailureKind, ProbeResult, Source, StreamEnd

MODELS = (
    "gpt-4o-mini",
    "llama-3.3-70b",
    "deepseek-v3",
    "qwen-2.5-72b",
    "mistral-large",
    "gemini-2.0-flash",
)
SYLLABLES = ("ba", "lo", "chat", "ki", "neo", "zu", "fy", "mi", "ra", "x", "gen", "pi", "to")
STEP = timedelta(minutes=5)


class Health(StrEnum):
    """How a synthetic target behaves over its history."""

    HEALTHY = "healthy"
    """Passes, with a rare failure."""
    BROKEN = "broken"
    """Passed, then fails every probe since a while ago."""
    THROTTLED = "throttled"
    """Rate limited for its newest probes."""
    BLIP = "blip"
    """Healthy with one or two recent failures: still working."""
    SLOW = "slow"
    """Passes, with a first chunk past the slow threshold."""


HEALTH_WEIGHTS = {
    Health.HEALTHY: 60,
    Health.BROKEN: 20,
    Health.THROTTLED: 7,
    Health.BLIP: 8,
    Health.SLOW: 5,
}


@dataclass(frozen=True)
class FleetTarget:
    """One made-up provider/model and how it behaves."""

    provider: str
    model: str
    health: Health
    ttfc_ms: float
    """The median time to first chunk of its passes."""


def fleet(targets: int, *, per_provider: int = 3, seed: int = 0) -> list[FleetTarget]:
    """``targets`` made-up targets, ``per_provider`` models to a provider (the last
    provider may have fewer); provider names are unique and unordered."""
    rng = random.Random(seed)
    chosen: list[FleetTarget] = []
    index = 0
    while len(chosen) < targets:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
        provider = f"g4f.{word.capitalize()}{index}"
        median = rng.lognormvariate(6.6, 0.7)  # around 700 ms, 250 ms to 3 s
        models = rng.sample(MODELS, min(per_provider, targets - len(chosen)))
        for model in models:
            health = rng.choices(list(HEALTH_WEIGHTS), weights=list(HEALTH_WEIGHTS.values()))[0]
            chosen.append(FleetTarget(provider, model, health, median * rng.uniform(0.7, 1.4)))
        index += 1
    return chosen


def _failure(target: FleetTarget, at: datetime, kind: FailureKind, error: str) -> ProbeResult:
    return ProbeResult(
        provider=target.provider,
        model=target.model,
        prompt="ping",
        started_at=at,
        ok=False,
        kind=kind,
        http_status=429 if kind is FailureKind.RATE_LIMITED else 502,
        error=error,
        total_ms=120.0,
        end=StreamEnd.CUT,
        source=Source.LIVE,
        vantage="fleet",
        version=__version__,
    )


def _pass(target: FleetTarget, at: datetime, ttfc: float) -> ProbeResult:
    return ProbeResult(
        provider=target.provider,
        model=target.model,
        prompt="ping",
        started_at=at,
        ok=True,
        http_status=200,
        ttfb_ms=round(ttfc * 0.8, 3),
        ttfc_ms=round(ttfc, 3),
        total_ms=round(ttfc + 400, 3),
        chunks=4,
        chars=11,
        end=StreamEnd.FINISH,
        finish_reason="stop",
        sample="PONG-1a2b3c",
        source=Source.LIVE,
        vantage="fleet",
        version=__version__,
    )


def fleet_results(
    targets: list[FleetTarget], *, now: datetime, per_target: int = 50, seed: int = 0
) -> Iterator[ProbeResult]:
    """``per_target`` results for each target, every :data:`STEP`, the newest just before
    ``now``; in time order (as a scheduler would have written them)."""
    rng = random.Random(seed)
    for i in range(per_target):
        at = now - STEP * (per_target - i)
        left = per_target - i  # how many probes from the newest, 1 = newest
        for target in targets:
            ttfc = target.ttfc_ms * rng.lognormvariate(0, 0.25)
            match target.health:
                case Health.BROKEN if left <= per_target // 3:
                    yield _failure(target, at, FailureKind.HTTP_SERVER, "ServerError: Bad gateway")
                case Health.THROTTLED if left <= 4:
                    yield _failure(target, at, FailureKind.RATE_LIMITED, "Rate limit (429)")
                case Health.BLIP if left in (2, 7):
                    yield _failure(target, at, FailureKind.TIMEOUT_FIRST_CHUNK, "no text in 30 s")
                case Health.SLOW:
                    yield _pass(target, at, 9000 + ttfc)
                case _ if rng.random() < 0.01:
                    yield _failure(target, at, FailureKind.STREAM_CUT, "Response payload cut")
                case _:
                    yield _pass(target, at, ttfc)
