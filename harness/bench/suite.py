"""Running the chosen benchmarks in order and gathering one document of figures."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import __version__
from harness.cassettes import find_cassettes

from .errors import BenchError
from .fanout import fanout
from .goals import goals_of
from .machine import machine_info
from .replay import replay_all
from .sizes import BENCHMARKS, Sizes
from .store_scale import store_at_scale
from .timing import timing
from .workload import LATENCY, emulator_process, private_cache


def check_cassettes(cassette_dir: Path) -> None:
    """Refuse up front (not after minutes of other benchmarks) a folder without cassettes."""
    if not find_cassettes(cassette_dir):
        raise BenchError(f"no cassettes under {cassette_dir}: give --cassettes DIR")


def run_benchmarks(
    sizes: Sizes,
    *,
    only: Sequence[str] = BENCHMARKS,
    cassette_dir: Path = Path("cassettes"),
    quick: bool = False,
    say: Callable[[str], None] = lambda message: None,
    store: str | None = None,
) -> dict[str, Any]:
    """Run the benchmarks named in ``only`` at ``sizes``; the JSON-ready document.

    ``store`` is a PostgreSQL URL for the store benchmark (default: a temporary SQLite file).

    ``say`` hears a line before each benchmark starts (progress for a terminal).
    """
    unknown = [name for name in only if name not in BENCHMARKS]
    if unknown:
        raise BenchError(f"unknown benchmark(s) {unknown}; known: {', '.join(BENCHMARKS)}")
    if "replay" in only:
        check_cassettes(cassette_dir)
    started = datetime.now(UTC)
    clock = time.perf_counter()
    document: dict[str, Any] = {
        "harness": __version__,
        "started_at": started.isoformat(),
        "quick": quick,
        "machine": machine_info(),
    }
    with ExitStack() as stack:
        if "fanout" in only or "timing" in only:
            stack.enter_context(private_cache())
            emulator = stack.enter_context(emulator_process(LATENCY.faults()))
            if "fanout" in only:
                say(
                    f"fan-out: {sizes.fanout_probes} probes at concurrency "
                    f"{sizes.fanout_concurrency}, {sizes.rounds} round(s) per client"
                )
                document["fanout"] = asyncio.run(
                    fanout(
                        emulator,
                        probes=sizes.fanout_probes,
                        concurrency=sizes.fanout_concurrency,
                        rounds=sizes.rounds,
                    )
                )
            if "timing" in only:
                levels = ", ".join(str(level.concurrency) for level in sizes.timing_levels)
                say(f"timing: ttfc at concurrency {levels}")
                document["timing"] = asyncio.run(
                    timing(emulator, levels=sizes.timing_levels, rounds=sizes.rounds)
                )
    if "store" in only:
        say(f"store: {sizes.store_rows:,} results, then the page in a fresh process")
        document["store"] = store_at_scale(
            rows=sizes.store_rows, batch=sizes.store_batch, repeats=sizes.page_repeats, store=store
        )
    if "replay" in only:
        say(f"replay: every cassette under {cassette_dir}, instant")
        document["replay"] = asyncio.run(replay_all(cassette_dir))
    document["goals"] = [goal.to_dict() for goal in goals_of(document)]
    document["duration_s"] = round(time.perf_counter() - clock, 1)
    return document
