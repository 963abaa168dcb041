"""People looking at ``harness serve``: browsers refreshing its page, API, feed and metrics.

Each viewer asks for :data:`VIEWS` one after another, then waits for the next whole
``period`` (a second, as a live page someone keeps open), until it is cancelled.
They run in the benchmark's process, the server in another, so that only the load
they put on it reaches the server being measured.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import aiohttp

from harness.bench.distribution import Spread

VIEWS = ("/", "/api/status", "/feed.atom", "/metrics")
"""What a viewer fetches on every refresh: the page, its JSON, the feed and the metrics."""

REQUEST_TIMEOUT_S = 60.0
"""A request unanswered this long counts as failed."""


@dataclass
class Views:
    """What the viewers got: requests answered, failed, and their response times (ms)."""

    answered: int = 0
    failed: int = 0
    response_ms: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: counts and the response-time spread."""
        spread = Spread.of(self.response_ms).to_dict(1) if self.response_ms else None
        return {"answered": self.answered, "failed": self.failed, "response_ms": spread}


async def _viewer(session: aiohttp.ClientSession, url: str, period: float, views: Views) -> None:
    while True:
        began = time.monotonic()
        for path in VIEWS:
            start = time.perf_counter()
            try:
                async with session.get(url.rstrip("/") + path) as response:
                    await response.read()
                    ok = response.status == 200
            except (aiohttp.ClientError, TimeoutError):
                ok = False
            if ok:
                views.answered += 1
                views.response_ms.append((time.perf_counter() - start) * 1000)
            else:
                views.failed += 1
        # The next refresh at the next whole period after this one began.
        elapsed = time.monotonic() - began
        await asyncio.sleep(period - elapsed % period)


async def view(url: str, count: int, *, period: float, views: Views) -> None:
    """``count`` viewers of the server at ``url``, each refreshing every ``period``
    seconds until cancelled, counting in ``views`` what they got."""
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        await asyncio.gather(*(_viewer(session, url, period, views) for _ in range(count)))
