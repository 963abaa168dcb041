"""Scheduled probing inside ``harness serve``: one APScheduler job per provider.

Each job runs :func:`harness.pipeline.run.probe_and_record` for one provider, so a
scheduled result goes through the same runner, store and status policy as
``harness probe``. ``interval`` is each provider's period: its runs start exactly
``interval`` seconds apart. ``jitter`` only spreads the providers' phases (each one's
first run comes at a random moment within it, so they do not all fire together); it
never stretches a period. Runs never overlap themselves (``max_instances=1``): a run
due while the previous one is still going has overrun its period and is skipped, and
counted (:attr:`ProbeScheduler.overruns`, ``on_overrun``) and logged, never silently.

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
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobSubmissionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from harness.pipeline.costs import check_budget
from harness.pipeline.run import RunSummary, plan_run, probe_and_record
from harness.result import ProbeResult, Source
from harness.settings.config import Settings
from harness.store import open_store
from harness.store.base import Store
from harness.targets.g4f import require_g4f
from harness.targets.sources import chosen_source, probe_source, sandbox_bases, source_store_url
from providers import upstream

log = logging.getLogger(__name__)

ProviderJob = Callable[[str], Awaitable[object]]
"""What a job runs: probe one provider (by name)."""


class ProbeScheduler:
    """Runs ``job(provider)`` for each provider every ``interval`` seconds, phases spread
    over ``jitter``, one at a time per provider; :meth:`trigger` runs jobs now;
    :meth:`stop` winds down gracefully."""

    def __init__(
        self,
        job: ProviderJob,
        providers: Sequence[str],
        *,
        interval: float,
        jitter: float = 0.0,
        on_overrun: Callable[[str], None] | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be positive, not {interval}")
        self._job = job
        self.providers = tuple(providers)
        self.interval = interval
        self.jitter = max(0.0, min(jitter, interval))
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._probes: set[asyncio.Task[object]] = set()
        self._runs: set[asyncio.Task[object]] = set()
        self._running: set[str] = set()
        self.overruns: Counter[str] = Counter()
        """How many due runs each provider skipped because its previous one overran."""
        self._on_overrun = on_overrun
        self._scheduler.add_listener(self._overran, EVENT_JOB_MAX_INSTANCES)

    @property
    def running(self) -> frozenset[str]:
        """The providers being probed right now."""
        return frozenset(self._running)

    def start(self) -> None:
        """Add the jobs and start; each provider's first run comes within ``jitter`` seconds,
        and its later runs every ``interval`` seconds from that first one.

        Needs a running event loop (call it from an ``app.cleanup_ctx``).
        """
        firsts = first_runs(self.providers, datetime.now(UTC), self.jitter)
        for name, first in firsts.items():
            self._scheduler.add_job(
                self._run,
                period(first, self.interval),
                args=[name],
                id=name,
                name=f"probe {name}",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=None,  # however late (a busy loop), still run once
                next_run_time=first,
            )
        self._scheduler.start()

    def _overran(self, event: JobSubmissionEvent) -> None:
        self.overruns[event.job_id] += 1
        log.warning(
            "probe of %s overran its %g s period: the run due now is skipped (%d so far)",
            event.job_id,
            self.interval,
            self.overruns[event.job_id],
        )
        if self._on_overrun is not None:
            self._on_overrun(event.job_id)

    def trigger(self, providers: Sequence[str] | None = None) -> dict[str, str]:
        """Run the given providers' jobs now (default: all): provider -> ``started``, or
        ``running`` when a run of it is already in flight (it is not doubled)."""
        now = datetime.now(UTC)
        answer = {}
        for name in providers or self.providers:
            if name in self._running:
                answer[name] = "running"
            else:
                self._scheduler.modify_job(name, next_run_time=now)
                answer[name] = "started"
        return answer

    async def _run(self, provider: str) -> None:
        # The probe runs in a task of its own that stop() can wait for or cancel, while
        # this wrapper (APScheduler's task) always returns normally.
        probe: asyncio.Task[object] = asyncio.create_task(
            _awaited(self._job(provider)), name=f"probe {provider}"
        )
        wrapper = asyncio.current_task()
        self._probes.add(probe)
        self._running.add(provider)
        if wrapper is not None:
            self._runs.add(wrapper)
        try:
            await asyncio.wait([probe])
        finally:
            self._probes.discard(probe)
            self._running.discard(provider)
            if wrapper is not None:
                self._runs.discard(wrapper)
        if probe.cancelled():
            log.info("probe of %s cancelled at shutdown", provider)
        elif (error := probe.exception()) is not None:
            log.error("probe of %s failed: %s", provider, error, exc_info=error)

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


def first_runs(
    providers: Sequence[str], now: datetime, jitter: float, rng: random.Random | None = None
) -> dict[str, datetime]:
    """Each provider's first run: a random moment within ``jitter`` seconds of ``now``."""
    draw = rng or random.Random()
    return {name: now + timedelta(seconds=draw.uniform(0, jitter)) for name in providers}


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
) -> RunSummary:
    """One scheduled run: every planned model and prompt of ``provider``, probed, stored and
    folded into the statuses; against ``sandbox_url`` (the emulators) when given."""
    if sandbox_url is not None:
        with upstream.redirect(sandbox_url, sandbox_bases(settings, sandbox_url)):
            targets = await plan_run(settings, [provider])
            return await probe_and_record(
                settings, store, targets, source=Source.SANDBOX, on_result=on_result
            )
    async with probe_source(settings) as source:
        targets = await plan_run(settings, [provider])
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
