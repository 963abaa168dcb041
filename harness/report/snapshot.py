"""Reading the store for one page: the I/O edge in front of :func:`build_page`."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from harness import __version__
from harness.config import Settings
from harness.errors import ConfigError
from harness.pipeline import objectives_of, plan_targets
from harness.prompts import PROMPTS
from harness.result import Source
from harness.status import State, TargetStatus
from harness.store.base import Store
from providers import PROVIDERS

from .view import (
    HISTORY_LENGTH,
    LATENCY_WINDOW,
    UPTIME_WINDOWS,
    StatusPage,
    TargetFacts,
    build_page,
    provider_state,
)

FLIPS_SHOWN = 20
"""How many of the newest flips the page lists."""


def planned_targets(settings: Settings) -> list[tuple[str, str]]:
    """The (provider, model) pairs ``harness probe --all`` would probe, in plan order."""
    try:
        targets = plan_targets(settings)
    except ConfigError:  # every provider disabled: the page shows what the store holds
        return []
    return list(dict.fromkeys((t.provider.name(), t.model) for t in targets))


async def read_facts(
    store: Store, provider: str, model: str, status: TargetStatus | None, now: datetime
) -> TargetFacts:
    """Everything the page needs about one target, read from ``store``."""
    uptime = {
        label: await store.uptime(provider, model, now - span) for label, span in UPTIME_WINDOWS
    }
    return TargetFacts(
        provider=provider,
        model=model,
        status=status,
        recent=await store.recent(provider, model, HISTORY_LENGTH),
        uptime=uptime,
        latency=await store.latency(provider, model, now - LATENCY_WINDOW[1]),
    )


async def provider_badge_state(store: Store, settings: Settings, provider: str) -> State:
    """The state a provider's badge shows: the best of its models' (a model planned but
    never probed counts as unknown), from the stored statuses alone."""
    statuses = await store.statuses()
    models = {m for p, m in planned_targets(settings) if p == provider}
    models |= {m for p, m in statuses if p == provider}
    return provider_state(
        statuses[(provider, m)].state if (provider, m) in statuses else State.UNKNOWN
        for m in models
    )


async def read_page(
    store: Store,
    settings: Settings,
    *,
    now: datetime | None = None,
    source: Source = Source.LIVE,
) -> StatusPage:
    """The status page as of ``now`` (default: the current time): every planned target
    and every target the store has seen. ``store`` is the store of ``source``."""
    now = now or datetime.now(UTC)
    statuses = await store.statuses()
    targets = list(dict.fromkeys([*planned_targets(settings), *await store.targets(), *statuses]))
    facts = [await read_facts(store, p, m, statuses.get((p, m)), now) for p, m in targets]
    objectives = objectives_of(settings)
    facts = [replace(f, objectives=objectives.for_target(f.provider, f.model)) for f in facts]
    alerts = await store.last_alerts(sent_only=True)
    facts = [replace(f, last_alert=alerts.get((f.provider, f.model))) for f in facts]
    vantages = [settings.vantage or ""]
    vantages += [r.vantage for item in facts for r in item.recent[:1]]
    return build_page(
        facts,
        await store.flips(limit=FLIPS_SHOWN),
        now=now,
        version=__version__,
        vantages=vantages,
        provider_order=list(PROVIDERS),
        prompt_order=list(PROMPTS),
        source=source,
    )
