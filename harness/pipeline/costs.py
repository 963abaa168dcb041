"""What the configuration as it stands costs (``harness plan``), and the budget
``harness serve`` keeps (``serve.max_cost_per_day``).

The targets are resolved as ``harness probe --all`` and ``serve`` resolve them, without
probing: the configured model lists, and for an endpoint that discovers its models the
ones the store has seen (discovery would need the network). The figures are computed by
:mod:`harness.policy.costs` from:

* the bytes per result measured from the store (its size over its results) once it
  holds :data:`MEASURED_MIN_RESULTS` results, else the benchmark's figure
  (:data:`BENCHMARK_BYTES_PER_RESULT`, the README's "Benchmarks");
* the tokens per probe of each endpoint and prompt: the mean of what the upstream
  reported over :data:`USAGE_WINDOW` where the store has some, else estimated from the
  prompt's size (:func:`harness.policy.usage.estimated_usage`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from harness.errors import ConfigError, StoreUnavailable
from harness.pipeline.run import chosen_providers
from harness.policy.costs import DAY_S, CostPlan, EndpointLoad, prompt_loads, tier_loads
from harness.policy.usage import Price, TokenUsage, UsageKey, estimated_usage
from harness.settings.config import Settings
from harness.settings.tiers import tiers_of
from harness.store import backend_of, open_store, store_exists
from harness.store.base import Footprint, Store
from providers.base import AsyncGeneratorProvider

MEASURED_MIN_RESULTS = 10_000
"""Below this many results a store's size is mostly its schema and empty pages: the
benchmark's figure is nearer the truth than the store's own."""

BENCHMARK_BYTES_PER_RESULT = {"sqlite": 147.0, "postgresql": 253.0}
"""Bytes per result, indexes and hourly rollups included, that ``harness bench --only
store`` measured at the default schedule's density, 12 results per target and hour
(README, "What the store takes on disk")."""

USAGE_WINDOW = timedelta(days=7)
"""How far back stored usage counts as recent, for the tokens per probe."""


def retention_days(settings: Settings) -> float | None:
    """How many days of raw results the store keeps (``retention.raw``; None: forever):
    the disk the plan counts them for."""
    raw = settings.kept.raw
    return None if raw is None else raw.total_seconds() / DAY_S


def prices_of(settings: Settings) -> dict[str, Price]:
    """The prices of the endpoints that set ``price_in`` or ``price_out``, by name."""
    return {
        name: Price(endpoint.price_in or 0.0, endpoint.price_out or 0.0)
        for name, endpoint in settings.endpoints.items()
        if endpoint.price_in is not None or endpoint.price_out is not None
    }


def planned_models(
    settings: Settings, provider: type[AsyncGeneratorProvider], known: Sequence[str]
) -> list[str]:
    """The models a scheduled run of ``provider`` probes: the configured ones, else (an
    endpoint discovering its models) the first ``max_models`` of ``known``, the ones the
    store has seen, else all of the provider's."""
    name = provider.name()
    configured = settings.provider(name).models
    if configured:
        return list(configured)
    endpoint = settings.endpoints.get(name)
    if endpoint is not None and endpoint.models == "discover":
        return list(known)[: endpoint.max_models]
    return provider.all_models()


async def plan_costs(
    settings: Settings,
    store: Store | None,
    *,
    backend: str = "sqlite",
    now: datetime | None = None,
    min_results: int = MEASURED_MIN_RESULTS,
    no_store: str = "no store yet",
) -> CostPlan:
    """The :class:`CostPlan` of ``settings``, with what ``store`` has measured (None:
    none, for the reason ``no_store``); ``backend`` names the benchmark figure to fall
    back on."""
    now = now or datetime.now(UTC)
    footprint = await store.footprint() if store is not None else Footprint(0, 0)
    seen = await store.targets() if store is not None else []
    usage = await store.usage(now - USAGE_WINDOW) if store is not None else {}
    providers = chosen_providers(settings)
    if not providers:
        raise ConfigError("nothing to plan: every provider is disabled")
    discovering = [p.name() for p in providers if _discovers(settings, p.name())]
    known: dict[str, list[str]] = {}
    for seen_provider, model in seen:
        known.setdefault(seen_provider, []).append(model)
    schedule: list[tuple[str, float, int]] = []
    endpoints: list[EndpointLoad] = []
    targets = 0
    prices = prices_of(settings)
    for provider in providers:
        name = provider.name()
        models = planned_models(settings, provider, known.get(name, []))
        targets += len(models)
        sent: dict[str, float] = {}
        for tier in tiers_of(settings, name):
            prompts = tier.prompts
            schedule.append((tier.name, tier.interval, len(prompts) * len(models)))
            for prompt in prompts:
                sent[prompt] = sent.get(prompt, 0.0) + len(models) * DAY_S / tier.interval
        endpoint = settings.endpoints.get(name)
        if endpoint is not None:
            measured = _per_probe(usage, name)
            estimated = {p: estimated_usage(p, endpoint.max_tokens) for p in sent}
            endpoints.append(
                EndpointLoad(
                    name, len(models), prompt_loads(sent, measured, estimated), prices.get(name)
                )
            )
    measured_bytes = footprint.bytes_per_result if footprint.results >= min_results else None
    return CostPlan(
        targets=targets,
        targets_from=_targets_from(discovering, g4f=settings.g4f.enabled),
        tiers=tier_loads(schedule),
        bytes_per_result=measured_bytes or BENCHMARK_BYTES_PER_RESULT[backend],
        bytes_from=_bytes_from(
            no_store if store is None else None, footprint, min_results, backend
        ),
        retention_days=retention_days(settings),
        endpoints=endpoints,
        max_cost_per_day=settings.serve.max_cost_per_day,
    )


async def plan_of(settings: Settings, *, min_results: int = MEASURED_MIN_RESULTS) -> CostPlan:
    """The plan of ``settings`` with what its live store has measured (none when there is
    no store yet, or its database server cannot be reached: the plan needs no store)."""
    url = settings.store_url
    backend = backend_of(url)
    if not store_exists(url):
        return await plan_costs(settings, None, backend=backend, min_results=min_results)
    try:
        async with open_store(url) as store:
            return await plan_costs(settings, store, backend=backend, min_results=min_results)
    except StoreUnavailable:
        return await plan_costs(
            settings,
            None,
            backend=backend,
            min_results=min_results,
            no_store="the store cannot be reached",
        )


async def check_budget(settings: Settings) -> CostPlan:
    """The plan of ``settings``; a :class:`ConfigError` saying which endpoints cost what
    when it costs more a day than ``serve.max_cost_per_day``."""
    plan = await plan_of(settings)
    if plan.over_budget:
        raise ConfigError(plan.budget_refusal())
    return plan


def _bytes_from(no_store: str | None, footprint: Footprint, min_results: int, backend: str) -> str:
    if footprint.results >= min_results:
        return f"measured from the store: {footprint.bytes:,} bytes, {footprint.results:,} results"
    held = no_store or f"the store holds {footprint.results:,} results, fewer than {min_results:,}"
    return f"the benchmark's {backend} figure; {held}"


def _discovers(settings: Settings, name: str) -> bool:
    endpoint = settings.endpoints.get(name)
    return (
        endpoint is not None
        and endpoint.models == "discover"
        and not settings.provider(name).models
    )


def _targets_from(discovering: Sequence[str], *, g4f: bool) -> str:
    where = "the configured models"
    if discovering:
        names = ", ".join(discovering)
        where += f'; for {names} (models = "discover") the models the store has seen'
    if g4f:
        # They are found only when serve installs the gpt4free package's providers.
        where += "; gpt4free's providers not counted"
    return where


def _per_probe(
    usage: Mapping[UsageKey, TokenUsage], provider: str
) -> dict[str, tuple[float, float] | None]:
    """The mean tokens per probe of each prompt ``provider``'s upstream reported usage
    for, its models pooled."""
    pooled: dict[str, TokenUsage] = {}
    for (name, _, prompt), each in usage.items():
        if name == provider:
            pooled[prompt] = pooled.get(prompt, TokenUsage()) + each
    return {prompt: each.per_probe() for prompt, each in pooled.items()}
