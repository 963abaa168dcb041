"""Synthetic probe history: many plausible results, reproducible from a seed.

Results cycle over the real provider/model pairs and are spread evenly, oldest
first, over the ``span`` before ``now`` (30 days by default: every uptime window of
the page is filled). About one in twenty fails, with a realistic mix of kinds.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import islice

from harness import __version__
from harness.bench.workload import every_target
from harness.result import FailureKind, ProbeResult, Source, StreamEnd

PASS_RATE = 0.95
FAILURES = (
    (FailureKind.TIMEOUT_FIRST_CHUNK, None, "no text within 30 s of connecting"),
    (FailureKind.RATE_LIMITED, 429, "RateLimitError: Rate limit (429) (retry after 30 s)"),
    (FailureKind.HTTP_SERVER, 502, "ServerError: Bad gateway"),
    (FailureKind.CLOUDFLARE, 403, "CloudflareError: Cloudflare detected"),
    (FailureKind.STREAM_CUT, 200, "ClientPayloadError: Response payload is not completed"),
    (FailureKind.WRONG_ANSWER, 200, "expected 'PONG-1a2b3c' (any case)"),
)


def synthetic_results(
    count: int, *, now: datetime, span: timedelta = timedelta(days=30), seed: int = 0
) -> Iterator[ProbeResult]:
    """``count`` results, oldest first, the newest just before ``now``. Pure for a seed."""
    rng = random.Random(seed)
    pairs = [(t.provider.name(), t.model) for t in every_target()]
    step = span / max(count, 1)
    start = now - span
    for i in range(count):
        provider, model = pairs[i % len(pairs)]
        at = start + step * i
        nonce = f"{rng.getrandbits(24):06x}"
        if rng.random() < PASS_RATE:
            ttfc = rng.lognormvariate(6.4, 0.5)  # around 600 ms
            total = ttfc + rng.lognormvariate(6.0, 0.6)
            yield ProbeResult(
                provider=provider,
                model=model,
                prompt="ping",
                started_at=at,
                ok=True,
                http_status=200,
                ttfb_ms=round(ttfc * 0.8, 3),
                ttfc_ms=round(ttfc, 3),
                total_ms=round(total, 3),
                connect_ms=round(rng.uniform(5, 80), 3),
                chunks=5,
                chars=11,
                max_gap_ms=round(rng.uniform(5, 200), 3),
                end=StreamEnd.FINISH,
                finish_reason="stop",
                sample=f"PONG-{nonce}",
                source=Source.LIVE,
                vantage="bench",
                version=__version__,
                concurrency=16,
            )
            continue
        kind, status, error = rng.choice(FAILURES)
        yield ProbeResult(
            provider=provider,
            model=model,
            prompt="ping",
            started_at=at,
            ok=False,
            kind=kind,
            http_status=status,
            error=error,
            total_ms=round(rng.uniform(50, 30_000), 3),
            end=StreamEnd.CUT,
            source=Source.LIVE,
            vantage="bench",
            version=__version__,
            concurrency=16,
        )


def batches(results: Iterator[ProbeResult], size: int) -> Iterator[list[ProbeResult]]:
    """``results`` in lists of ``size`` (the last may be shorter)."""
    while batch := list(islice(results, size)):
        yield batch
