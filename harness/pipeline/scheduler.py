"""Scheduled probing inside ``harness serve``: one APScheduler job per provider and tier.

A provider's prompts are grouped in tiers (:mod:`harness.settings.tiers`: ``ping`` every
minute, the capability suite every hour); each (provider, tier) job runs
:func:`harness.pipeline.run.probe_and_record` for that tier's prompts only, so a
scheduled result goes through the same runner, store and status policy as
``harness probe``. A tier's ``interval`` is its period: its runs start exactly
``interval`` seconds apart. ``jitter`` only spreads the jobs' phases (each one's first
run comes at a random moment within it, so they do not all fire together); it never
stretches a period. Runs never overlap themselves (``max_instances=1``): a run due while
the previous one is still going has overrun its period and is skipped, and counted per
(provider, tier) (:attr:`ProbeScheduler.overruns`, ``on_overrun``) and logged, never
silently.

Stopping is graceful: APScheduler's own ``shutdown()`` cancels running jobs and logs
the ``CancelledError`` as an error, so :meth:`ProbeScheduler.stop` first pauses the
schedule, lets in-flight probes finish within a grace period, cancels the rest
itself (each run is stored in one transaction, so a cancelled run leaves no
half-written row), and only then shuts APScheduler down.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobSubmissionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from harness.pipeline.costs import check_budget
from harness.pipeline.run import RunSummary, plan_run, probe_and_record
from harness.result import ProbeResult, Source
from harness.settings.config import Settings
from harness.settings.tiers import Tier, tiers_of
from harness.store import open_store
from harness.store.base import Store
from harness.targets.g4f import require_g4f
from harness.targets.sources import chosen_source, probe_source, sandbox_bases, source_store_url
from providers import upstream

log = logging.getLogger(__name__)

TierJob = Callable[[str, Tier], Awaitable[object]]
"""What a job runs: probe one provider (by name) with one tier's prompts."""

Schedule = Mapping[str, Sequence[Tier]]
"""Provider -> the tiers it is probed in."""


def schedule_of(settings: Settings, providers: Sequence[str]) -> dict[str, tuple[Tier, ...]]:
    """Each provider's tiers (:func:`~harness.settings.tiers.tiers_of`); a provider with
    no prompt it can answer has none, and is not scheduled."""
    return {name: tiers for name in providers if (tiers := tiers_of(settings, name))}


class ProbeScheduler:
    """Runs ``job(provider, tier)`` for each provider's tiers every ``tier.interval``
    seconds, phases spread over ``jitter``, one at a time per (provider, tier);
    :meth:`trigger` runs jobs now; :meth:`stop` winds down gracefully."""

    def __init__(
        self,
        job: TierJob,
        schedule: Schedule,
        *,
        jitter: float = 0.0,
        on_overrun: Callable[[str, str], None] | None = None,
    ) -> None:
        for provider, tiers in schedule.items():
            for tier in tiers:
                if tier.interval <= 0:
                    raise ValueError(
                        f"interval must be positive, not {tier.interval} ({provider}, {tier.name})"
                    )
        self._job = job
        self.schedule: dict[str, tuple[Tier, ...]] = {p: tuple(t) for p, t in schedule.items()}
        self.jitter = max(0.0, jitter)
        self._jobs = {
            _job_id(provider, tier.name): (provider, tier)
            for provider, tiers in self.schedule.items()
            for tier in tiers
        }
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._probes: set[asyncio.Task[object]] = set()
        self._runs: set[asyncio.Task[object]] = set()
        self._running: set[tuple[str, str]] = set()
        self.overruns: Counter[tuple[str, str]] = Counter()
        """How many due runs each (provider, tier) skipped because its previous one overran."""
        self._on_overrun = on_overrun
        self._scheduler.add_listener(self._overran, EVENT_JOB_MAX_INSTANCES)

    @property
    def providers(self) -> tuple[str, ...]:
        """The providers scheduled."""
        return tuple(self.schedule)

    @property
    def running(self) -> frozenset[str]:
        """The providers being probed right now (any of their tiers)."""
        return frozenset(provider for provider, _ in self._running)

    def overruns_of(self, provider: str) -> int:
        """How many due runs of ``provider`` (all its tiers) were skipped as overruns."""
        return sum(n for (name, _), n in self.overruns.items() if name == provider)

    def start(self) -> None:
        """Add the jobs and start; each job's first run comes within ``jitter`` seconds
        (at most its period), and its later runs every ``interval`` seconds from that one.

        Needs a running event loop (call it from an ``app.cleanup_ctx``).
        """
        now = datetime.now(UTC)
        draw = random.Random()
        for job_id, (provider, tier) in self._jobs.items():
            first = first_run(now, min(self.jitter, tier.interval), draw)
            self._scheduler.add_job(
                self._run,
                period(first, tier.interval),
                args=[provider, tier],
                id=job_id,
                name=f"probe {provider} ({tier.name})",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=None,  # however late (a busy loop), still run once
                next_run_time=first,
            )
        self._scheduler.start()

    def _overran(self, event: JobSubmissionEvent) -> None:
        provider, tier = self._jobs[event.job_id]
        key = (provider, tier.name)
        self.overruns[key] += 1
        log.warning(
            "probe of %s (%s) overran its %g s period: the run due now is skipped (%d so far)",
            provider,
            tier.name,
            tier.interval,
            self.overruns[key],
        )
        if self._on_overrun is not None:
            self._on_overrun(provider, tier.name)

    def trigger(self, providers: Sequence[str] | None = None) -> dict[str, str]:
        """Run every tier of the given providers now (default: all): provider ->
        ``started``, or ``running`` when each of its tiers has a run in flight (a run in
        flight is not doubled)."""
        now = datetime.now(UTC)
        answer = {}
        for name in providers or self.providers:
            answer[name] = "running"
            for tier in self.schedule.get(name, ()):
                if (name, tier.name) not in self._running:
                    self._scheduler.modify_job(_job_id(name, tier.name), next_run_time=now)
                    answer[name] = "started"
        return answer

    async def _run(self, provider: str, tier: Tier) -> None:
        # The probe runs in a task of its own that stop() can wait for or cancel, while
        # this wrapper (APScheduler's task) always returns normally.
        probe: asyncio.Task[object] = asyncio.create_task(
            _awaited(self._job(provider, tier)), name=f"probe {provider} ({tier.name})"
        )
        wrapper = asyncio.current_task()
        key = (provider, tier.name)
        self._probes.add(probe)
        self._running.add(key)
        if wrapper is not None:
            self._runs.add(wrapper)
        try:
            await asyncio.wait([probe])
        finally:
            self._probes.discard(probe)
            self._running.discard(key)
            if wrapper is not None:
                self._runs.discard(wrapper)
        if probe.cancelled():
            log.info("probe of %s (%s) cancelled at shutdown", provider, tier.name)
        elif (error := probe.exception()) is not None:
            log.error("probe of %s (%s) failed: %s", provider, tier.name, error, exc_info=error)

    async def stop(self, grace: float = 10.0) -> None:
        """Stop scheduling, give in-flight probes ``grace`` seconds, cancel the rest, and
        shut APScheduler down with nothing of ours still running."""
        if not self._scheduler.running:
            return
        self._scheduler.pause()
        probes = set(self._probes)
        if probes:
            _, pending = await asyncio.wait(probes, timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.wait(probes)
        await self.idle()
        self._scheduler.shutdown(wait=False)

    async def idle(self) -> None:
        """Return once no run is in flight (runs that start meanwhile included)."""
        while self._runs:
            await asyncio.wait(set(self._runs))


def _job_id(provider: str, tier: str) -> str:
    # A tier's name never holds "/", so the id is unique whatever the provider's name.
    return f"{provider}/{tier}"


def first_run(now: datetime, jitter: float, rng: random.Random) -> datetime:
    """A job's first run: a random moment within ``jitter`` seconds of ``now``."""
    return now + timedelta(seconds=rng.uniform(0, jitter))


def period(first: datetime, interval: float) -> IntervalTrigger:
    """Fire at ``first`` and every ``interval`` seconds after it, never later: the phase
    is kept, and a late or skipped run does not shift the ones after it."""
    return IntervalTrigger(seconds=interval, start_date=first, timezone=UTC)


async def _awaited(awaitable: Awaitable[object]) -> object:
    return await awaitable


async def probe_provider(
    settings: Settings,
    store: Store,
    provider: str,
    *,
    sandbox_url: str | None = None,
    on_result: Callable[[ProbeResult], None] | None = None,
    tier: Tier | None = None,
) -> RunSummary:
    """One scheduled run: every planned model of ``provider`` with the prompts of ``tier``
    (default: all its prompts), probed, stored and folded into the statuses; against
    ``sandbox_url`` (the emulators) when given."""
    prompts = tier.prompts if tier is not None else None
    if sandbox_url is not None:
        with upstream.redirect(sandbox_url, sandbox_bases(settings, sandbox_url)):
            targets = await plan_run(settings, [provider], prompts=prompts)
            return await probe_and_record(
                settings, store, targets, source=Source.SANDBOX, on_result=on_result
            )
    async with probe_source(settings) as source:
        targets = await plan_run(settings, [provider], prompts=prompts)
        return await probe_and_record(settings, store, targets, source=source, on_result=on_result)


async def preflight(settings: Settings, *, sandbox: bool = False) -> None:
    """Refuse now, not in the first job, what would fail every scheduled run: gpt4free
    missing while ``[g4f]`` is enabled (sandbox runs leave it out), and a store that is
    corrupt or cannot be written (:class:`~harness.errors.HarnessError`); and a live
    schedule planned to cost more a day than ``serve.max_cost_per_day``."""
    if settings.g4f.enabled and not sandbox:
        require_g4f()
    if not sandbox:
        await check_budget(settings)
    async with open_store(source_store_url(settings, chosen_source(sandbox=sandbox))):
        pass
