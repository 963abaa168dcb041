"""One monitoring run, end to end: plan -> runner -> store -> status policy -> flags.

``harness probe`` and the scheduled jobs of ``harness serve`` both go through
:func:`probe_and_record`, so a result means the same thing wherever it came from.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from harness.alerts.stage import RunAlerts, deliver_alerts, prepare_alerts
from harness.errors import ConfigError, StoreError, StoreUnavailable
from harness.policy.consensus import RunDecision, VantageKey, VantageStatus, decide, voting_window
from harness.policy.objectives import REGRESSION_WINDOW, Baseline, Miss, ObjectiveSet, misses
from harness.policy.status import Flip, TargetStatus, Thresholds, provider_working
from harness.probing.connectivity import ConnectivityCheck
from harness.probing.probe import Deadlines
from harness.probing.runner import Target, plan, prompt_ids, run
from harness.result import ProbeResult, Source
from harness.settings.config import Settings
from harness.settings.tiers import tiers_of
from harness.store.base import Store
from harness.store.spool import Spool
from harness.targets.endpoints import capped_models, discover_models, secrets_of, undiscovered
from harness.targets.flags import write_flags
from harness.targets.sources import source_dir, source_flags_file
from providers import PROVIDERS, get_provider
from providers.base import AsyncGeneratorProvider
from providers.flags import apply_flags

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunSummary:
    """What one run produced: its results, whether the host was offline, and the
    status changes the results caused."""

    results: list[ProbeResult]
    offline: bool = False
    offline_reason: str | None = None
    statuses: dict[tuple[str, str], TargetStatus] = field(default_factory=dict)
    """The shown status of every target of the run's providers after it."""
    flips: list[Flip] = field(default_factory=list)
    working: dict[str, bool | None] = field(default_factory=dict)
    """The run's providers' working flags."""
    objectives: ObjectiveSet = field(default_factory=ObjectiveSet)
    baselines: dict[tuple[str, str], Baseline] = field(default_factory=dict)
    source: Source = Source.LIVE
    """Whose answers these are; only live runs may speak for the real providers."""
    spooled: int = 0
    """Results kept in the spool because the store could not be reached."""
    store_error: str | None = None

    def misses(self, result: ProbeResult) -> tuple[Miss, ...]:
        """The latency objectives ``result`` missed (none for a failed result)."""
        objectives = self.objectives.for_target(*result.target)
        return misses(result, objectives, self.baselines.get(result.target))

    @property
    def passed(self) -> int:
        return sum(1 for r in self.results if r.ok)

    @property
    def inconclusive(self) -> int:
        return sum(1 for r in self.results if r.inconclusive)

    @property
    def failed(self) -> int:
        return len(self.results) - self.passed - self.inconclusive

    @property
    def exit_code(self) -> int:
        """0 when every probe passed, else 1 (failed or inconclusive)."""
        return 0 if self.results and self.passed == len(self.results) else 1


def deadlines_of(settings: Settings) -> Deadlines:
    """The probe deadlines the settings ask for."""
    d = settings.deadlines
    return Deadlines(
        connect=d.connect,
        first_chunk=d.first_chunk,
        stall=d.stall,
        total=d.total,
        max_chars=d.max_chars,
    )


def thresholds_of(settings: Settings) -> Thresholds:
    """The status policy thresholds the settings ask for."""
    return Thresholds(**settings.thresholds.model_dump())


def objectives_of(settings: Settings) -> ObjectiveSet:
    """The latency objectives the settings ask for: ``thresholds.slow_ttfc_ms`` as the
    first-chunk objective, then ``[objectives]`` and its per-target tables over it."""
    section = settings.objectives
    defaults = thresholds_of(settings).objectives.overlay(section.objective_fields())
    overrides: dict[str, dict[str, object]] = {}
    for key, table in section.targets.items():
        name, _, model = key.partition("/")
        # An alias names the same target as its model: both keys must meet.
        canonical = f"{name}/{PROVIDERS[name].resolve_model(model)}" if model else name
        overrides[canonical] = {**overrides.get(canonical, {}), **table.objective_fields()}
    return ObjectiveSet(defaults, overrides)


async def read_baselines(
    store: Store, objectives: ObjectiveSet, targets: Iterable[tuple[str, str]], now: datetime
) -> dict[tuple[str, str], Baseline]:
    """The regression baseline (own p50 over the regression window) of every target
    that has a regression objective; the others need no history and get none."""
    baselines: dict[tuple[str, str], Baseline] = {}
    for provider, model in targets:
        if objectives.for_target(provider, model).regression is None:
            continue
        latency = await store.latency(provider, model, now - REGRESSION_WINDOW)
        baselines[(provider, model)] = Baseline(latency.n, latency.ttfc_p50, latency.total_p50)
    return baselines


def chosen_providers(
    settings: Settings, providers: Sequence[str] | None = None
) -> list[type[AsyncGeneratorProvider]]:
    """The providers named (``ConfigError`` for an unknown name), else every enabled one."""
    try:
        return (
            [get_provider(name) for name in providers]
            if providers
            else [p for name, p in PROVIDERS.items() if settings.provider(name).enabled]
        )
    except KeyError as exc:
        raise ConfigError(str(exc.args[0])) from None


async def plan_run(
    settings: Settings,
    providers: Sequence[str] | None = None,
    model: str | None = None,
    prompts: Sequence[str] | None = None,
) -> list[Target]:
    """:func:`plan_targets` after listing the models of the chosen endpoints that
    discover theirs: once per run, under the redirection in force."""
    await discover_models(settings, chosen_providers(settings, providers))
    return plan_targets(settings, providers, model, prompts)


def plan_targets(
    settings: Settings,
    providers: Sequence[str] | None = None,
    model: str | None = None,
    prompts: Sequence[str] | None = None,
) -> list[Target]:
    """The targets of a run, as :func:`~harness.probing.runner.plan` expands them from the
    settings; unknown names are ``ConfigError``s.

    Without ``providers`` every enabled provider is planned; without ``model`` each
    provider's configured models (default: all of them; none for an endpoint whose
    models are not discovered yet, see :func:`plan_run`); ``prompts`` (default: every
    prompt of the provider's tiers, :func:`~harness.settings.tiers.tiers_of`) may hold
    ``all``.
    """
    chosen = chosen_providers(settings, providers)
    wanted = prompt_ids(prompts) if prompts else None
    targets: list[Target] = []
    for provider in chosen:
        configured = settings.provider(provider.name()).models or capped_models(settings, provider)
        own = wanted or [p for tier in tiers_of(settings, provider.name()) for p in tier.prompts]
        targets += plan([provider], [model] if model else configured, own)
    if not targets:
        missing = [p.name() for p in chosen if p.name() in undiscovered(settings)]
        hint = f" (no models discovered for {', '.join(missing)})" if missing else ""
        raise ConfigError(
            f"nothing to probe: no provider, model and prompt combination applies{hint}"
        )
    return targets


def working_flags(statuses: Iterable[TargetStatus]) -> dict[str, bool | None]:
    """Provider -> working (``None``: unknown), for every provider with at least one status."""
    by_provider: dict[str, list[TargetStatus]] = {}
    for status in statuses:
        by_provider.setdefault(status.provider, []).append(status)
    return {name: provider_working(group) for name, group in by_provider.items()}


def source_of(results: Iterable[ProbeResult], expected: Source | None = None) -> Source:
    """The one source of ``results`` (``expected``, else live, when there are none).

    Raises ``ValueError`` when results of different sources are mixed, or differ from
    ``expected``: they must never be folded into the same statuses.
    """
    found = {r.source for r in results} | ({expected} if expected is not None else set())
    if len(found) > 1:
        raise ValueError(f"results of different sources must be kept apart: {sorted(found)}")
    return found.pop() if found else Source.LIVE


async def probe_and_record(
    settings: Settings,
    store: Store | None,
    targets: Sequence[Target],
    *,
    source: Source,
    on_result: Callable[[ProbeResult], None] | None = None,
) -> RunSummary:
    """Probe ``targets``; with a store, keep the results, update statuses, write the flags.

    The connectivity pre-check runs only for live probes: sandbox and replay targets
    are local by construction.
    """
    connectivity = ConnectivityCheck(
        enabled=settings.connectivity.enabled and source is Source.LIVE,
        names=settings.connectivity.names,
        timeout=settings.connectivity.timeout,
    )
    outcome = await run(
        targets,
        deadlines=deadlines_of(settings),
        concurrency=settings.concurrency,
        per_provider=settings.per_provider,
        source=source,
        vantage=settings.vantage,
        connectivity=connectivity,
        on_result=on_result,
        secrets=secrets_of(settings),
        proxies={n: p.proxy for n, p in settings.providers.items() if p.proxy},
        lag_budget_ms=settings.timing.lag_budget_ms,
    )
    return await record(
        settings,
        store,
        outcome.results,
        offline=outcome.offline,
        reason=outcome.reason,
        source=source,
    )


async def record(
    settings: Settings,
    store: Store | None,
    results: list[ProbeResult],
    *,
    offline: bool = False,
    reason: str | None = None,
    source: Source | None = None,
) -> RunSummary:
    """Keep ``results``, fold them into the per-vantage and shown statuses, write the
    run's providers' entries of the flags file; send the alerts the flips call for
    (planned in the same transaction, sent after it). Only the run's providers'
    statuses are read, decided and written: a run costs what it holds, not what the
    store holds.

    ``store`` must be the store of the results' source (see :mod:`harness.targets.sources`);
    the flags file written is that source's, and only live results change the
    ``working`` flags of the loaded provider classes. ``source`` defaults to the one
    the results carry. Without a store nothing is written and the summary carries
    only the results. When the store cannot be reached the results wait in the
    source's spool and are stored, with any spooled before them, by the next run
    that reaches it.
    """
    objectives = objectives_of(settings)
    source = source_of(results, source)
    if store is None:
        return RunSummary(results, offline, reason, objectives=objectives, source=source)
    spool = spool_of(settings, source)
    try:
        await store_spooled(settings, store, spool)
        # Read before this run is stored: a result is never part of its own baseline.
        baselines = await read_baselines(
            store, objectives, {r.target for r in results}, datetime.now(UTC)
        )
        alerts = await prepare_alerts(
            settings.alerts, store, results, offline=offline, secrets=secrets_of(settings)
        )
        decision = await store_results(
            settings, store, results, objectives=objectives, baselines=baselines, alerts=alerts
        )
    except StoreUnavailable as exc:
        await asyncio.to_thread(spool.put, results)
        log.warning("%s; %d results spooled", exc, len(results))
        return RunSummary(
            results,
            offline,
            reason,
            objectives=objectives,
            source=source,
            spooled=len(results),
            store_error=str(exc),
        )
    statuses = decision.shown
    flips = decision.flips
    working = working_flags(statuses.values())
    states: dict[str, dict[str, str]] = {}
    for status in statuses.values():
        states.setdefault(status.provider, {})[status.model] = status.state.value
    await asyncio.to_thread(write_flags, source_flags_file(settings, source), working, states)
    if source is Source.LIVE:
        apply_flags(PROVIDERS.values(), working)
    if not offline:  # nothing can reach a destination from an offline host
        await deliver_alerts(store, alerts.destinations, timeout=settings.alerts.send_timeout)
    return RunSummary(
        results, offline, reason, statuses, flips, working, objectives, baselines, source
    )


def spool_of(settings: Settings, source: Source = Source.LIVE) -> Spool:
    """Where a source's results wait while its store cannot be reached."""
    return Spool(source_dir(settings, source) / "spool")


async def store_results(
    settings: Settings,
    store: Store,
    results: Sequence[ProbeResult],
    *,
    objectives: ObjectiveSet | None = None,
    baselines: Mapping[tuple[str, str], Baseline] | None = None,
    alerts: RunAlerts | None = None,
) -> RunDecision:
    """Store ``results`` with their per-vantage and consensus statuses, the flips and
    the alerts those call for, in one transaction."""
    thresholds = thresholds_of(settings)
    window = voting_window(settings.serve.interval)
    quorum = settings.consensus.quorum

    def decision(
        shown: Mapping[tuple[str, str], TargetStatus], views: Mapping[VantageKey, VantageStatus]
    ) -> RunDecision:
        made = decide(
            shown,
            views,
            results,
            thresholds=thresholds,
            window=window,
            quorum=quorum,
            objectives=objectives,
            baselines=baselines,
        )
        if alerts is None:
            return made
        drafts = alerts.drafts(previous=shown, current=made.shown, flips=made.flips)
        return replace(made, alerts=drafts)

    return await store.record_vantage_run(
        results, decision, lag_budget_ms=settings.timing.lag_budget_ms
    )


async def store_spooled(settings: Settings, store: Store, spool: Spool) -> int:
    """Store every spooled run, oldest first (the files, then the runs held in memory
    while the spool could not be written); how many results went in.

    Each is stored as it would have been when it ran: its flips plan their alerts in its
    own transaction (one grouped message per destination, dated by the run), which the
    caller's run then delivers with its own.
    """
    stored = 0
    for path in await asyncio.to_thread(spool.pending):
        claimed = await asyncio.to_thread(spool.claim, path)
        if claimed is None:
            continue
        try:
            results = await asyncio.to_thread(spool.read, claimed)
            decision = await _store_spooled_run(settings, store, results)
        except StoreUnavailable:
            await asyncio.to_thread(spool.release, claimed)
            raise
        except (StoreError, ValueError, KeyError, TypeError) as exc:
            # The store refuses these rows (or the file is damaged): set them aside for a
            # person to look at, rather than failing every run from now on.
            kept = await asyncio.to_thread(spool.reject, claimed)
            log.error("spooled results refused (%s); moved to %s", exc, kept)
            continue
        except BaseException:
            await asyncio.to_thread(spool.release, claimed)
            raise
        await asyncio.to_thread(spool.done, claimed)
        if decision.stored_before:
            log.warning("spooled run %s was stored before; its file is removed", claimed.stem)
            continue
        stored += len(results)
    while (held := spool.take_held()) is not None:
        try:
            decision = await _store_spooled_run(settings, store, held)
        except StoreError as exc:
            if isinstance(exc, StoreUnavailable):
                spool.give_back(held)
                raise
            log.error("%d spooled results held in memory refused (%s); dropped", len(held), exc)
            continue
        except BaseException:
            spool.give_back(held)
            raise
        stored += 0 if decision.stored_before else len(held)
    if stored:
        log.info("stored %d spooled results", stored)
    return stored


async def _store_spooled_run(
    settings: Settings, store: Store, results: list[ProbeResult]
) -> RunDecision:
    """One spooled run, stored and judged as any run is: by the objectives, against the
    history before it, its flips planning their alerts."""
    alerts = await prepare_alerts(
        settings.alerts,
        store,
        results,
        # A spooled run keeps no offline flag: its results say it.
        offline=bool(results) and all(r.inconclusive for r in results),
        secrets=secrets_of(settings),
    )
    objectives = objectives_of(settings)
    baselines = await read_baselines(
        store, objectives, {r.target for r in results}, datetime.now(UTC)
    )
    return await store_results(
        settings, store, results, objectives=objectives, baselines=baselines, alerts=alerts
    )
