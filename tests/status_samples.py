"""A representative probe history for the status page tests (report, web, browser).

Every state the page can show, produced by the real status policy from results:

* AutonomousAI/llama       up, 60 fast passes
* AutonomousAI/qwen_coder  down, passes then failures whose error carries markup
* AiChatOnline/gpt-4o-mini throttled by three 429s in a row after passes
* RobocodersAPI/RepoAgent  degraded: passing, but slow to the first chunk
* CodeLinkAva/gpt-3.5-turbo only inconclusive results (the harness was offline)
"""

from __future__ import annotations

from datetime import datetime, timedelta

from harness.policy.status import Thresholds, replay
from harness.result import FailureKind, ProbeResult, StreamEnd
from harness.store.base import Store

HOSTILE_ERROR = (
    'HTTP 500: <script>window.__pwned = 1</script><img src=x onerror="window.__pwned=2">'
)
"""An upstream error text that would run script if it were ever rendered as markup."""

STEP = timedelta(minutes=5)


def passed(
    provider: str, model: str, at: datetime, ttfc_ms: float = 400.0, prompt: str = "ping"
) -> ProbeResult:
    """A passing probe."""
    return ProbeResult(
        provider=provider,
        model=model,
        prompt=prompt,
        started_at=at,
        ok=True,
        http_status=200,
        ttfb_ms=ttfc_ms * 0.8,
        ttfc_ms=ttfc_ms,
        total_ms=ttfc_ms + 600,
        chunks=3,
        chars=4,
        end=StreamEnd.FINISH,
        sample="pong",
        vantage="test-vantage",
        version="0.1.0",
    )


def failed(
    provider: str,
    model: str,
    at: datetime,
    kind: FailureKind,
    error: str,
    http_status: int | None = None,
    prompt: str = "ping",
) -> ProbeResult:
    """A failed (or, with HARNESS_OFFLINE, inconclusive) probe."""
    return ProbeResult(
        provider=provider,
        model=model,
        prompt=prompt,
        started_at=at,
        ok=False,
        kind=kind,
        http_status=http_status,
        error=error,
        vantage="test-vantage",
        version="0.1.0",
    )


def sample_results(now: datetime) -> list[ProbeResult]:
    """The history described in the module docstring, the newest result just before ``now``."""
    results: list[ProbeResult] = []
    for i in range(60):
        at = now - STEP * (60 - i)
        results.append(passed("AutonomousAI", "llama", at, ttfc_ms=300.0 + (i % 7) * 40))
    for i in range(10):
        results.append(passed("AutonomousAI", "qwen_coder", now - STEP * (20 - i)))
    for i in range(4):
        at = now - STEP * (4 - i)
        results.append(
            failed("AutonomousAI", "qwen_coder", at, FailureKind.HTTP_SERVER, HOSTILE_ERROR, 500)
        )
    results.append(passed("AutonomousAI", "qwen_coder", now - STEP * 5, prompt="math"))
    for i in range(5):
        results.append(passed("AiChatOnline", "gpt-4o-mini", now - STEP * (10 - i)))
    for i in range(3):
        results.append(
            failed(
                "AiChatOnline",
                "gpt-4o-mini",
                now - STEP * (3 - i),
                FailureKind.RATE_LIMITED,
                "HTTP 429 Too Many Requests",
                429,
            )
        )
    for i in range(6):
        at = now - STEP * (6 - i)
        results.append(passed("RobocodersAPI", "RepoAgent", at, ttfc_ms=9500.0 + i * 100))
    for i in range(3):
        at = now - STEP * (3 - i)
        results.append(
            failed(
                "CodeLinkAva",
                "gpt-3.5-turbo",
                at,
                FailureKind.HARNESS_OFFLINE,
                "this host appears offline",
            )
        )
    return results


async def fill_store(store: Store, now: datetime) -> list[ProbeResult]:
    """Store :func:`sample_results` and the statuses and flips the policy derives from them."""
    results = sample_results(now)
    await store.add_results(results)
    statuses, flips = replay(results, Thresholds())
    await store.save_statuses(list(statuses.values()), flips)
    return results
