"""Reading the store for one page: the I/O edge in front of :func:`build_page`."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from harness import __version__
from harness.config import Settings
from harness.consensus import VantageStatus
from harness.errors import ConfigError
from harness.pipeline import plan_targets
from harness.prompts import PROMPTS
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
    vantage_rows,
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
    store: Store,
    provider: str,
    model: str,
    status: TargetStatus | None,
    now: datetime,
    views: Sequence[VantageStatus] = (),
    window: timedelta = timedelta(minutes=10),
) -> TargetFacts:
    """Everything the page needs about one target, read from ``store``; ``views`` are
    the vantages' own statuses of it, voting within ``window``."""
    uptime = {
        label: await store.uptime(provider, model, now - span) for label, span in UPTIME_WINDOWS
    }
    recent = await store.recent(provider, model, HISTORY_LENGTH)
    return TargetFacts(
        provider=provider,
        model=model,
        status=status,
        recent=recent,
        uptime=uptime,
        latency=await store.latency(provider, model, now - LATENCY_WINDOW[1]),
        vantages=vantage_rows(views, recent, now=now, window=window),
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


async def read_page(store: Store, settings: Settings, *, now: datetime | None = None) -> StatusPage:
    """The status page as of ``now`` (default: the current time): every planned target
    and every target the store has seen."""
    now = now or datetime.now(UTC)
    statuses = await store.statuses()
    views: dict[tuple[str, str], list[VantageStatus]] = {}
    for view in (await store.vantage_statuses()).values():
        views.setdefault(view.status.target, []).append(view)
    window = timedelta(seconds=2 * settings.serve.interval)
    targets = list(dict.fromkeys([*planned_targets(settings), *await store.targets(), *statuses]))
    # Concurrently: a pooled store (PostgreSQL) reads several targets at once; SQLite's
    # single connection simply takes them in turn.
    facts = await asyncio.gather(
        *(
            read_facts(store, p, m, statuses.get((p, m)), now, views.get((p, m), ()), window)
            for p, m in targets
        )
    )
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
    )
