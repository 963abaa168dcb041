"""One monitoring run, end to end: plan -> runner -> store -> status policy -> flags.

``harness probe`` and the scheduled jobs of ``harness serve`` both go through
:func:`probe_and_record`, so a result means the same thing wherever it came from.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from providers import PROVIDERS, get_provider
from providers.base import AsyncGeneratorProvider
from providers.errors import ModelNotSupportedError
from providers.flags import apply_flags

from .config import Settings
from .connectivity import ConnectivityCheck
from .endpoints import capped_models, discover_models, secrets_of, undiscovered
from .errors import ConfigError
from .flags import flags_file, write_flags
from .probe import Deadlines
from .prompts import PROMPTS
from .result import ProbeResult, Source
from .runner import Target, run
from .status import Flip, TargetStatus, Thresholds, provider_working, step
from .store.base import Store


@dataclass(frozen=True)
class RunSummary:
    """What one run produced: its results, whether the host was offline, and the
    status changes the results caused."""

    results: list[ProbeResult]
    offline: bool = False
    offline_reason: str | None = None
    statuses: dict[tuple[str, str], TargetStatus] = field(default_factory=dict)
    flips: list[Flip] = field(default_factory=list)
    working: dict[str, bool] = field(default_factory=dict)

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
    """provider x model x applicable prompt, validated: unknown names are ``ConfigError``s.

    Without ``providers`` every enabled provider is planned; without ``model`` each
    provider's configured models (default: all of them; none for an endpoint whose
    models are not discovered yet, see :func:`plan_run`); ``prompts`` may hold ``all``.
    """
    chosen = chosen_providers(settings, providers)
    prompt_ids = list(prompts or settings.prompts)
    if "all" in prompt_ids:
        prompt_ids = list(PROMPTS)
    unknown = [p for p in prompt_ids if p not in PROMPTS]
    if unknown:
        raise ConfigError(f"unknown prompt(s) {unknown}; known: {', '.join(PROMPTS)}, all")
    targets: list[Target] = []
    for provider in chosen:
        configured = settings.provider(provider.name()).models or capped_models(settings, provider)
        try:
            models = (
                [provider.resolve_model(model)]
                if model
                else [provider.resolve_model(m) for m in configured or provider.all_models()]
            )
        except ModelNotSupportedError as exc:
            raise ConfigError(str(exc)) from None
        for model_name in dict.fromkeys(models):
            for prompt_id in prompt_ids:
                if PROMPTS[prompt_id].applies_to(provider):
                    targets.append(Target(provider, model_name, prompt_id))
    if not targets:
        missing = [p.name() for p in chosen if p.name() in undiscovered(settings)]
        hint = f" (no models discovered for {', '.join(missing)})" if missing else ""
        raise ConfigError(
            f"nothing to probe: no provider, model and prompt combination applies{hint}"
        )
    return targets


def fold_statuses(
    previous: dict[tuple[str, str], TargetStatus],
    results: Iterable[ProbeResult],
    thresholds: Thresholds,
) -> tuple[dict[tuple[str, str], TargetStatus], list[Flip]]:
    """Apply the policy to ``results`` in time order; returns the changed statuses and flips."""
    changed: dict[tuple[str, str], TargetStatus] = {}
    flips: list[Flip] = []
    for result in sorted(results, key=lambda r: r.started_at):
        prior = changed.get(result.target) or previous.get(result.target)
        status, flip = step(prior, result, thresholds)
        if status is not prior:
            changed[result.target] = status
        if flip is not None:
            flips.append(flip)
    return changed, flips


def working_flags(statuses: Iterable[TargetStatus]) -> dict[str, bool]:
    """Provider -> working, for every provider with at least one status."""
    by_provider: dict[str, list[TargetStatus]] = {}
    for status in statuses:
        by_provider.setdefault(status.provider, []).append(status)
    return {name: provider_working(group) for name, group in by_provider.items()}


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
    )
    return await record(
        settings, store, outcome.results, offline=outcome.offline, reason=outcome.reason
    )


async def record(
    settings: Settings,
    store: Store | None,
    results: list[ProbeResult],
    *,
    offline: bool = False,
    reason: str | None = None,
) -> RunSummary:
    """Keep ``results``, fold them into the statuses, write the flags file; prune old rows.

    Without a store nothing is written and the summary carries only the results.
    """
    if store is None:
        return RunSummary(results, offline, reason)
    previous = await store.statuses()
    changed, flips = fold_statuses(previous, results, thresholds_of(settings))
    await store.record_run(results, list(changed.values()), flips)
    statuses = {**previous, **changed}
    working = working_flags(statuses.values())
    states: dict[str, dict[str, str]] = {}
    for status in statuses.values():
        states.setdefault(status.provider, {})[status.model] = status.state.value
    await asyncio.to_thread(write_flags, flags_file(settings.data_dir), working, states)
    apply_flags(PROVIDERS.values(), working)
    await store.prune(datetime.now(UTC) - timedelta(days=settings.retention_days))
    return RunSummary(results, offline, reason, statuses, flips, working)
