"""Reading the store for one page: the I/O edge in front of :func:`build_page`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from harness import __version__
from harness.errors import ConfigError
from harness.pipeline.costs import prices_of
from harness.pipeline.run import objectives_of, plan_targets
from harness.policy.aggregate import Uptime
from harness.policy.consensus import VantageStatus, voting_window
from harness.policy.daily import strip, utc_day
from harness.policy.prompts import PROMPTS
from harness.policy.rollup import HourRollup, rollup_latency
from harness.policy.status import State, TargetStatus
from harness.policy.usage import daily_usage
from harness.report.view import (
    HISTORY_LENGTH,
    INCIDENT_WINDOW,
    LATENCY_WINDOW,
    STRIP_DAYS,
    UPTIME_WINDOWS,
    USAGE_WINDOW,
    StatusPage,
    TargetFacts,
    build_page,
    provider_state,
    vantage_rows,
)
from harness.result import Source
from harness.settings.config import Settings
from harness.store.base import Store
from providers import PROVIDERS

FLIPS_SHOWN = 20
"""How many of the newest flips the page lists."""

INCIDENTS_READ = 1000
"""How many of the newest incidents the page reads: those it lists (open, and of
:data:`INCIDENT_WINDOW`) and those its strips count."""

NO_UPTIME = Uptime(ok=0, total=0)


def planned_targets(settings: Settings) -> list[tuple[str, str]]:
    """The (provider, model) pairs ``harness probe --all`` would probe, in plan order."""
    try:
        targets = plan_targets(settings)
    except ConfigError:  # every provider disabled: the page shows what the store holds
        return []
    return list(dict.fromkeys((t.provider.name(), t.model) for t in targets))


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
    only: str | None = None,
) -> StatusPage:
    """The status page as of ``now`` (default: the current time): every planned target
    and every target the store has seen (``only`` those of that provider, for its
    details). ``store`` is the store of ``source``."""
    now = now or datetime.now(UTC)
    statuses = await store.statuses()
    views: dict[tuple[str, str], list[VantageStatus]] = {}
    for view in (await store.vantage_statuses()).values():
        views.setdefault(view.status.target, []).append(view)
    window = voting_window(settings.serve.interval)
    targets = await page_targets(store, settings, statuses, only)
    # Uptime and latency come from the hourly rollups, read once for every target: the
    # page's cost depends on the number of targets and hours, not on how many results
    # those hours hold.
    uptime = {label: await store.rollup_uptime(now - span) for label, span in UPTIME_WINDOWS}
    rollups = await latency_rollups(store, now, only)
    recent = await store.recent_by_target(targets, HISTORY_LENGTH)
    objectives = objectives_of(settings)
    alerts = await store.last_alerts(sent_only=True)
    usage = daily_usage(await store.usage(now - USAGE_WINDOW[1]), prices_of(settings))
    facts = [
        TargetFacts(
            provider=p,
            model=m,
            status=statuses.get((p, m)),
            recent=recent[(p, m)],
            uptime={label: by_target.get((p, m), NO_UPTIME) for label, by_target in uptime.items()},
            latency=rollup_latency(rollups.get((p, m), ())),
            objectives=objectives.for_target(p, m),
            last_alert=alerts.get((p, m)),
            vantages=vantage_rows(views.get((p, m), ()), recent[(p, m)], now=now, window=window),
            usage=usage.get((p, m)),
        )
        for p, m in targets
    ]
    strip_since = now - timedelta(days=STRIP_DAYS)
    incidents = await store.incidents(provider=only, since=strip_since, limit=INCIDENTS_READ)
    listed_since = now - INCIDENT_WINDOW[1]
    vantages = [settings.vantage or ""]
    vantages += [r.vantage for item in facts for r in item.recent[:1]]
    return build_page(
        facts,
        await store.flips(limit=FLIPS_SHOWN),
        now=now,
        version=__version__,
        vantages=vantages,
        provider_order=list(PROVIDERS),
        capabilities={name: provider.capability for name, provider in PROVIDERS.items()},
        prompt_order=list(PROMPTS),
        source=source,
        incidents=[i for i in incidents if (i.resolved_at or now) >= listed_since],
        strips={
            name: strip(
                hours,
                [i for i in incidents if i.provider == name],
                days=STRIP_DAYS,
                today=utc_day(now),
                now=now,
            )
            for name, hours in (await store.provider_days(strip_since)).items()
            if only is None or name == only
        },
    )


async def page_targets(
    store: Store,
    settings: Settings,
    statuses: Mapping[tuple[str, str], TargetStatus],
    only: str | None,
) -> list[tuple[str, str]]:
    """Every planned target, then every one the store has seen or has a status of
    (``only`` those of that provider), in that order."""
    targets = dict.fromkeys([*planned_targets(settings), *await store.targets(), *statuses])
    return [t for t in targets if only is None or t[0] == only]


async def latency_rollups(
    store: Store, now: datetime, only: str | None
) -> dict[tuple[str, str], list[HourRollup]]:
    """The hourly rollups of :data:`LATENCY_WINDOW` by target (``only`` one provider's)."""
    rollups: dict[tuple[str, str], list[HourRollup]] = {}
    for rollup in await store.rollups(now - LATENCY_WINDOW[1], provider=only):
        rollups.setdefault((rollup.provider, rollup.model), []).append(rollup)
    return rollups
