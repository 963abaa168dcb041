"""What ``harness serve``'s prober runs: its store, the sandbox's emulators, one job per
provider and tier, pruning beside them, and the schedule.

It is opened on the loop the probes run on, wherever that is: a thread of the server
(:mod:`harness.pipeline.prober`) or a process of its own
(:mod:`harness.pipeline.prober_process`). What the server learns of the runs as they
happen (each result, each provider's statuses, the overruns: its metrics) goes through
:class:`ProbeEvents`; everything else it shows, it reads from the store the runs are
written to.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Protocol

from harness.emulator import Emulator, FaultSpec
from harness.errors import StoreUnavailable
from harness.pipeline.prune import keep_pruning
from harness.pipeline.scheduler import ProbeScheduler, probe_provider, schedule_of
from harness.policy.consensus import VantageStatus
from harness.policy.objectives import ObjectiveSet
from harness.policy.status import TargetStatus
from harness.result import ProbeResult
from harness.settings.config import Settings
from harness.settings.tiers import Tier
from harness.store import make_store
from harness.targets.g4f import install
from providers import PROVIDERS

log = logging.getLogger(__name__)


class ProbeEvents(Protocol):
    """Who hears of the runs as they happen (``harness serve``'s metrics)."""

    def observe(self, result: ProbeResult) -> None:
        """One probe's result, as it finishes."""

    def set_statuses(
        self, statuses: Iterable[TargetStatus], objectives: ObjectiveSet | None = None
    ) -> None:
        """A run's provider's statuses, once stored."""

    def set_vantages(self, views: Iterable[VantageStatus]) -> None:
        """A run's provider's status as seen from each vantage, once stored."""

    def overran(self, provider: str, tier: str) -> None:
        """A run skipped because the previous one of the same provider and tier overran."""


@dataclass(frozen=True)
class ProbingSpec:
    """What the prober of one server probes, and how: all of it plain data, so that it
    can be handed to another process."""

    settings: Settings
    store_url: str
    sandbox: bool = False
    faults: Mapping[str, FaultSpec] = field(default_factory=dict)


@dataclass(frozen=True)
class Probing:
    """An opened prober: its schedule (not yet started) and, in the sandbox, the
    emulators its probes reach."""

    scheduler: ProbeScheduler
    emulator: Emulator | None = None


async def open_probing(stack: AsyncExitStack, spec: ProbingSpec, events: ProbeEvents) -> Probing:
    """Open on the running loop what probing needs (closed by ``stack``, after the
    schedule stops): a store of its own, the emulators with ``spec.sandbox``, the
    gpt4free providers when enabled, pruning; and the schedule of every enabled provider."""
    settings = spec.settings
    store = make_store(spec.store_url)
    await store.open()
    stack.push_async_callback(store.close)
    emulator = None
    sandbox_url = None
    if spec.sandbox:
        emulator = await stack.enter_async_context(
            Emulator(
                host="127.0.0.1", port=0, faults=spec.faults, endpoints=list(settings.endpoints)
            )
        )
        sandbox_url = emulator.url

    async def job(provider: str, tier: Tier) -> None:
        summary = await probe_provider(
            settings,
            store,
            provider,
            sandbox_url=sandbox_url,
            on_result=events.observe,
            tier=tier,
        )
        # Only this provider's gauges: the others' statuses did not move, and setting
        # every target's after every run grows with the square of the targets (at 1,000
        # targets, a fifth of a second of the prober's loop per run).
        events.set_statuses(
            [s for s in summary.statuses.values() if s.provider == provider],
            summary.objectives,
        )
        if summary.spooled == 0:
            try:
                views = (await store.vantage_statuses()).values()
            except StoreUnavailable as exc:
                log.warning("%s", exc)
            else:
                events.set_vantages([v for v in views if v.status.provider == provider])

    if settings.g4f.enabled and not spec.sandbox:
        # gpt4free's providers join PROVIDERS as g4f.NAME (they cannot reach the sandbox).
        await install(
            settings.g4f, concurrency=settings.concurrency, per_provider=settings.per_provider
        )
    # Pruning runs beside the schedule, never in a run's path (harness.pipeline.prune).
    pruning = asyncio.create_task(keep_pruning(store, settings.kept))

    async def stop_pruning() -> None:
        pruning.cancel()
        await asyncio.gather(pruning, return_exceptions=True)

    stack.push_async_callback(stop_pruning)
    enabled = [name for name in PROVIDERS if settings.provider(name).enabled]
    scheduler = ProbeScheduler(
        job, schedule_of(settings, enabled), jitter=settings.serve.jitter, on_overrun=events.overran
    )
    return Probing(scheduler, emulator)
