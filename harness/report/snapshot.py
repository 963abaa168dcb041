"""Reading the store for one page: the I/O edge in front of :func:`build_page`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from harness import __version__
from harness.config import Settings
from harness.errors import ConfigError
from harness.pipeline import plan_targets
from harness.prompts import PROMPTS
from harness.result import ProbeResult
from harness.rollup import HourRollup, window_figures
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


def target_facts(
    provider: str,
    model: str,
    status: TargetStatus | None,
    recent: Sequence[ProbeResult],
    rollups: Iterable[HourRollup],
    now: datetime,
) -> TargetFacts:
    """One target's facts: its windows' figures come from its hourly rollups. Pure."""
    figures = window_figures(rollups, now, UPTIME_WINDOWS, LATENCY_WINDOW[1])
    return TargetFacts(
        provider=provider,
        model=model,
        status=status,
        recent=recent,
        uptime=figures.uptime,
        latency=figures.latency,
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
    targets = list(dict.fromkeys([*planned_targets(settings), *await store.targets(), *statuses]))
    # One read of the rollups for every target and window: the page's cost depends on
    # the number of targets and hours, not on how many results those hours hold.
    longest = max(span for _, span in (*UPTIME_WINDOWS, LATENCY_WINDOW))
    rollups: dict[tuple[str, str], list[HourRollup]] = {}
    for rollup in await store.rollups(now - longest):
        rollups.setdefault((rollup.provider, rollup.model), []).append(rollup)
    facts = [
        target_facts(
            p,
            m,
            statuses.get((p, m)),
            await store.recent(p, m, HISTORY_LENGTH),
            rollups.get((p, m), ()),
            now,
        )
        for p, m in targets
    ]
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
