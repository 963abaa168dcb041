"""One batch of probes by either client, measured the same way.

The harness side is :func:`harness.probing.runner.run` (plan targets in, results out, with
its limits, deadlines, tracing and classification); the bare side is
:func:`harness.bench.bare.run_bare`. Both are timed on the wall clock and on this
process's CPU clock, and the emulator process's CPU is read around them.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from harness.bench.bare import BareClient, run_bare
from harness.bench.workload import EmulatorProcess, every_target
from harness.probing.runner import Target, run
from harness.result import Source
from providers import upstream


@dataclass(frozen=True)
class Batch:
    """What one client did with one batch of probes."""

    probes: int
    passed: int
    wall_s: float
    cpu_s: float
    """CPU time of this process (the client's side only)."""
    emulator_cpu_s: float | None
    first_chunks: tuple[tuple[str, float], ...]
    """(provider, time to first chunk in ms) of every passing probe."""
    loop_lags: tuple[float | None, ...] = ()
    """The harness's loop lag (ms) around each passing probe's first chunk, in the order
    of ``first_chunks``; empty for the bare client, which does not measure it."""
    limits: tuple[int, ...] = ()
    """The harness's limit on probes in flight as each probe started (varies under auto)."""

    def ttfc_within(self, budget_ms: float) -> list[float]:
        """Time to first chunk of the passing probes whose loop lag was within budget."""
        if not self.loop_lags:
            return self.ttfc_ms
        return [
            ms
            for (_, ms), lag in zip(self.first_chunks, self.loop_lags, strict=True)
            if lag is None or lag <= budget_ms
        ]

    @property
    def ttfc_ms(self) -> list[float]:
        """Time to first chunk of every passing probe."""
        return [ms for _, ms in self.first_chunks]

    def ttfc_of(self, provider: str) -> list[float]:
        """Time to first chunk of every passing probe of ``provider``."""
        return [ms for name, ms in self.first_chunks if name == provider]


Outcome = tuple[bool, float | None, float | None, int]
"""One probe as a batch sees it: ok, ttfc ms, loop lag ms, limit in flight."""


async def _measured(
    targets: Sequence[Target],
    emulator: EmulatorProcess,
    work: Callable[[], Awaitable[list[Outcome]]],
) -> Batch:
    """Run ``work`` (one outcome per target, in target order) and measure it."""
    gc.collect()  # each batch starts without the previous one's garbage
    emulator_before = emulator.cpu_seconds()
    cpu_before = time.process_time()
    start = time.perf_counter()
    outcomes = await work()
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu_before
    emulator_after = emulator.cpu_seconds()
    used = (
        None
        if emulator_before is None or emulator_after is None
        else emulator_after - emulator_before
    )
    return Batch(
        probes=len(targets),
        passed=sum(outcome[0] for outcome in outcomes),
        wall_s=wall,
        cpu_s=cpu,
        emulator_cpu_s=used,
        first_chunks=tuple(
            (target.provider.name(), ttfc)
            for target, (ok, ttfc, _, _) in zip(targets, outcomes, strict=True)
            if ok and ttfc is not None
        ),
        loop_lags=tuple(
            lag for ok, ttfc, lag, limit in outcomes if ok and ttfc is not None and limit
        ),
        limits=tuple(limit for _, _, _, limit in outcomes if limit),
    )


async def harness_batch(
    targets: Sequence[Target],
    concurrency: int,
    emulator: EmulatorProcess,
    *,
    adaptive: bool = False,
) -> Batch:
    """Probe ``targets`` through the harness's runner, ``concurrency`` at a time (with
    ``adaptive``: at most that many, as many as ``--concurrency auto`` allows)."""
    asked: int | Literal["auto"] = "auto" if adaptive else concurrency

    async def work() -> list[Outcome]:
        with upstream.redirect(emulator.url):
            outcome = await run(
                targets,
                concurrency=asked,
                per_provider=concurrency,
                source=Source.SANDBOX,
                auto_ceiling=concurrency,
            )
        return [(r.ok, r.ttfc_ms, r.loop_lag_ms, r.concurrency) for r in outcome.results]

    return await _measured(targets, emulator, work)


async def bare_batch(
    client: BareClient, targets: Sequence[Target], concurrency: int, emulator: EmulatorProcess
) -> Batch:
    """Send the same requests with the bare loop, ``concurrency`` at a time."""

    async def work() -> list[Outcome]:
        samples = await run_bare(client, targets, concurrency)
        return [(s.ok, s.ttfc_ms, None, 0) for s in samples]

    return await _measured(targets, emulator, work)


async def warm_up(client: BareClient, emulator: EmulatorProcess) -> None:
    """One probe of every target by each client, untimed: imports, the Robocoders token
    (cached by the provider, fetched by the bare client), first connections."""
    await client.login()
    every = every_target()
    await harness_batch(every, len(every), emulator)
    await bare_batch(client, every, len(every), emulator)
