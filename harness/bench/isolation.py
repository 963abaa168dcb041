"""The price of isolation: one gpt4free call made in a warm worker process, against the
same call in a thread of its own with its own event loop (how calls ran before the
workers), and on the caller's own loop (no isolation at all).

The provider answers at once, in :data:`CHUNKS` pieces, so the figures are the cost of
the way the call is made, nothing else: per call, the time to its first piece and to
its end, medians over each run's calls, then the median of several runs.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from harness.bench.distribution import median
from providers.gpt4free import Workers
from providers.gpt4free.isolation import Call, reference

CHUNKS = 10
MODEL = "bench"
MESSAGES = [{"role": "user", "content": "ping"}]
READY_S = 60.0
"""How long the worker may take to import gpt4free before the benchmark gives up."""


class Streamer:
    """A gpt4free-shaped provider (found by the worker by reference) answering at once."""

    working = True
    needs_auth = False
    default_model = MODEL

    @classmethod
    async def create_async_generator(
        cls, model: str, messages: list[dict[str, str]], **kwargs: Any
    ) -> AsyncIterator[str]:
        for _ in range(CHUNKS):
            yield "x"


Way = Callable[[], AsyncIterator[Any]]


def _direct() -> AsyncIterator[str]:
    return Streamer.create_async_generator(MODEL, MESSAGES)


async def _in_thread() -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    items: asyncio.Queue[str | None] = asyncio.Queue()

    def main() -> None:
        async def pump() -> None:
            async for item in _direct():
                loop.call_soon_threadsafe(items.put_nowait, item)

        asyncio.run(pump())
        loop.call_soon_threadsafe(items.put_nowait, None)

    threading.Thread(target=main, name="bench call", daemon=True).start()
    while (item := await items.get()) is not None:
        yield item


async def _measure(way: Way, calls: int) -> tuple[float, float]:
    """Median ms to the first piece and to the end over ``calls`` calls made ``way``."""
    first: list[float] = []
    total: list[float] = []
    for _ in range(calls):
        started = time.perf_counter()
        first_at: float | None = None
        pieces = 0
        async for _piece in way():
            pieces += 1
            if first_at is None:
                first_at = time.perf_counter()
        ended = time.perf_counter()
        if pieces != CHUNKS or first_at is None:
            raise RuntimeError(f"the call gave {pieces} of {CHUNKS} pieces")
        first.append((first_at - started) * 1000)
        total.append((ended - started) * 1000)
    return median(first), median(total)


async def isolation_overhead(calls: int, runs: int) -> dict[str, Any]:
    """Per-call figures of the three ways, ``runs`` runs of ``calls`` calls each."""
    pool = Workers(1)
    try:
        pool.warm()
        await pool.until_ready(READY_S)
        call = Call(reference(Streamer, "Streamer"), MODEL, MESSAGES, {})
        ways: dict[str, Way] = {
            "direct": _direct,
            "thread": _in_thread,
            "worker": lambda: pool.stream(call),
        }
        await _measure(ways["worker"], 1)  # the worker's first call imports the provider
        figures: dict[str, dict[str, list[float]]] = {
            name: {"first_ms": [], "total_ms": []} for name in ways
        }
        for _ in range(runs):
            for name, way in ways.items():  # interleaved: a busy moment hits all three
                first, total = await _measure(way, calls)
                figures[name]["first_ms"].append(first)
                figures[name]["total_ms"].append(total)
    finally:
        pool.close()
    result: dict[str, Any] = {"calls": calls, "runs": runs, "chunks": CHUNKS}
    for name, measured in figures.items():
        result[name] = {key: round(median(values), 3) for key, values in measured.items()}
    result["overhead_ms"] = {
        f"worker_vs_{base}": round(result["worker"]["total_ms"] - result[base]["total_ms"], 3)
        for base in ("thread", "direct")
    }
    return result
