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
from harness.bench.errors import BenchError
from harness.bench.fanout import fanout
from harness.bench.goals import goals_of
from harness.bench.isolation import isolation_overhead
from harness.bench.machine import machine_info
from harness.bench.overview import overview_at_scale
from harness.bench.page import AppFactory, page_figures
from harness.bench.replay import replay_all
from harness.bench.scale import PageFigures, scale_at
from harness.bench.schedule import schedule_period
from harness.bench.sizes import BENCHMARKS, LARGE_STORE_FACTOR, Sizes
from harness.bench.store_scale import store_at_scale
from harness.bench.timing import timing
from harness.bench.workload import LATENCY, emulator_process, private_cache
from harness.cassettes import find_cassettes
from harness.probing.eventloop import chosen_loop, run, uvloop_installed
from harness.settings.config import Settings
from providers.errors import MissingRequirementsError
from providers.gpt4free import require

DEFAULT_CASSETTES = Path("cassettes")
CHECKOUT_CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"
"""The shipped cassettes beside the package in a source checkout (an installed wheel
has none)."""
NO_PAGE_APP = "live page skipped: no app to serve it given (harness bench gives one)"
NO_CASSETTES = (
    "replay skipped: no cassettes in ./cassettes nor in the harness checkout; "
    "give --cassettes DIR to replay some"
)


def cassettes_to_replay(explicit: Path | None) -> Path | None:
    """The folder the replay benchmark reads: ``explicit`` when given (refused up front,
    not after minutes of other benchmarks, when it holds no cassette), else
    ``./cassettes``, else the checkout's; ``None`` when there are none to be found."""
    if explicit is not None:
        if not find_cassettes(explicit):
            raise BenchError(f"no cassettes under {explicit}: give --cassettes DIR")
        return explicit
    return next((d for d in (DEFAULT_CASSETTES, CHECKOUT_CASSETTES) if find_cassettes(d)), None)


def run_benchmarks(
    sizes: Sizes,
    *,
    only: Sequence[str] = BENCHMARKS,
    cassette_dir: Path | None = None,
    quick: bool = False,
    large_store: bool = False,
    say: Callable[[str], None] = lambda message: None,
    store: str | None = None,
    page_app: AppFactory | None = None,
) -> dict[str, Any]:
    """Run the benchmarks named in ``only`` at ``sizes``; the JSON-ready document.

    ``cassette_dir`` defaults to ``./cassettes``, else the checkout's; with none to be
    found the replay benchmark is skipped and ``skipped`` in the document says why.
    Fan-out runs on asyncio's loop, and again on uvloop when it is installed
    (``fanout_uvloop``); timing runs on the loop the commands use (``timing.loop``).
    ``large_store`` adds the store and page over the larger history
    (``store_large``). ``store`` is a PostgreSQL URL for the store benchmark (default: a
    temporary SQLite file). ``say`` hears a line before each benchmark starts (progress
    for a terminal). ``page_app`` makes the live page's app for the overview benchmark's
    served figures (``overview.live``); without it they are skipped, saying so.
    """
    unknown = [name for name in only if name not in BENCHMARKS]
    if unknown:
        raise BenchError(f"unknown benchmark(s) {unknown}; known: {', '.join(BENCHMARKS)}")
    replay_dir = cassettes_to_replay(cassette_dir) if "replay" in only else None
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
                loops = ("asyncio", "uvloop") if uvloop_installed() else ("asyncio",)
                for loop in loops:
                    figures = run(
                        fanout(
                            emulator,
                            probes=sizes.fanout_probes,
                            concurrency=sizes.fanout_concurrency,
                            rounds=sizes.rounds,
                        ),
                        loop=loop,
                    )
                    document["fanout" if loop == "asyncio" else f"fanout_{loop}"] = figures
            if "timing" in only:
                levels = ", ".join(str(level.concurrency) for level in sizes.timing_levels)
                say(f"timing: ttfc at concurrency {levels}")
                # On the loop the commands run on (uvloop where the fast extra is in).
                document["timing"] = {
                    "loop": chosen_loop(),
                    **run(timing(emulator, levels=sizes.timing_levels, rounds=sizes.rounds)),
                }
    if "store" in only:
        say(
            f"store: {sizes.store_rows:,} results, then the page in a fresh process; "
            f"{sizes.record_runs} runs recorded beside {sizes.record_targets:,} targets"
        )
        if large_store:
            say(f"then x{LARGE_STORE_FACTOR} by a bulk path (--large-store), and the page again")
        figures = store_at_scale(
            rows=sizes.store_rows,
            batch=sizes.store_batch,
            repeats=sizes.page_repeats,
            scale_up=LARGE_STORE_FACTOR if large_store else None,
            store=store,
            record_targets=sizes.record_targets,
            record_runs=sizes.record_runs,
        )
        kept = ("backend", "insert", "page", "prune", "record")
        document["store"] = {k: figures[k] for k in kept if k in figures}
        if "large" in figures:
            document["store_large"] = figures["large"]
    if "overview" in only:
        say(f"overview: the page of {sizes.overview_targets} targets, rendered and in Chromium")
        document["overview"] = overview_at_scale(
            targets=sizes.overview_targets, repeats=sizes.page_repeats, loads=sizes.overview_loads
        )
        if page_app is None:
            document["overview"]["live_skipped"] = NO_PAGE_APP
        else:
            document["overview"]["live"] = []
            for targets in sizes.page_targets:
                say(f"overview: the live page of {targets} targets, served, and in Chromium")
                document["overview"]["live"].append(
                    page_figures(
                        targets=targets,
                        repeats=sizes.page_repeats,
                        loads=sizes.overview_loads,
                        app=page_app,
                    )
                )
    if replay_dir is not None:
        say(f"replay: every cassette under {replay_dir}, instant")
        document["replay"] = asyncio.run(replay_all(replay_dir))
    elif "replay" in only:
        say(NO_CASSETTES)
        document.setdefault("skipped", {})["replay"] = NO_CASSETTES
    if "isolation" in only:
        try:
            require()
        except MissingRequirementsError as exc:
            say(f"isolation skipped: {exc}")
            document.setdefault("skipped", {})["isolation"] = f"isolation skipped: {exc}"
        else:
            say(
                f"isolation: {sizes.isolation_calls} gpt4free calls in a worker, a thread "
                f"and on the loop, {sizes.isolation_runs} runs"
            )
            document["isolation"] = run(
                isolation_overhead(sizes.isolation_calls, sizes.isolation_runs)
            )
    if "schedule" in only:
        say(
            f"schedule: {sizes.schedule_targets} targets every {sizes.schedule_interval:g} s "
            f"for {sizes.schedule_duration:g} s, {sizes.schedule_runs} runs"
        )
        document["schedule"] = schedule_period(
            targets=sizes.schedule_targets,
            interval=sizes.schedule_interval,
            jitter=sizes.schedule_interval,
            duration=sizes.schedule_duration,
            runs=sizes.schedule_runs,
        )
    if "scale" in only:
        say(
            f"scale: harness serve probing {sizes.scale_targets:,} targets, alone and with "
            f"{sizes.scale_viewers} viewers, {sizes.scale_repeats} run(s) each"
        )
        document["scale"] = scale_at(
            targets=sizes.scale_targets,
            viewer_count=sizes.scale_viewers,
            interval=sizes.scale_interval_s,
            warmup=sizes.scale_warmup_s,
            window=sizes.scale_window_s,
            repeats=sizes.scale_repeats,
            page=None if page_app is None else _page_of(page_app, sizes),
        )
    document["goals"] = [goal.to_dict() for goal in goals_of(document)]
    document["duration_s"] = round(time.perf_counter() - clock, 1)
    return document


def _page_of(app: AppFactory, sizes: Sizes) -> PageFigures:
    """The live page's figures at the scale benchmark's size, served by ``app``."""

    def figures(settings: Settings) -> dict[str, Any]:
        # A fleet of the same size, built the page benchmark's way (its history spread
        # over the windows the page reads), rather than the one just probed for seconds.
        del settings
        return page_figures(
            targets=sizes.scale_targets,
            repeats=sizes.page_repeats,
            loads=sizes.overview_loads,
            app=app,
        )

    return figures
