"""Reading the store for one page: the I/O edge in front of :func:`build_page`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from harness import __version__
from harness.errors import ConfigError
from harness.pipeline.costs import prices_of
from harness.pipeline.run import objectives_of, plan_targets
from harness.policy.aggregate import Uptime
from harness.policy.consensus import VantageStatus, voting_window
from harness.policy.daily import StripDay, strip, utc_day
from harness.policy.deliveries import TargetAlert
from harness.policy.incidents import Incident
from harness.policy.prompts import PROMPTS
from harness.policy.rollup import HourRollup, rollup_latency
from harness.policy.status import State, TargetStatus
from harness.policy.usage import DailyUsage, daily_usage
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
from harness.result import ProbeResult, Source
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


@dataclass(frozen=True)
class PageIndex:
    """The reads of one page that say who is on it and in what state, one query each:
    cheap enough to read on every look, and what a kept provider is compared against."""

    statuses: Mapping[tuple[str, str], TargetStatus]
    targets: Sequence[tuple[str, str]]
    """Every target on the page, in page order."""
    vantages: Mapping[tuple[str, str], Sequence[VantageStatus]]
    alerts: Mapping[tuple[str, str], TargetAlert]
    incidents: Sequence[Incident]
    """The incidents open at some time of :data:`STRIP_DAYS` (those the strips count)."""


@dataclass(frozen=True)
class PageWindows:
    """The reads of one page over its time windows, every target's at once: uptime per
    window label, the last day's usage and each provider's daily counts."""

    uptime: Mapping[str, Mapping[tuple[str, str], Uptime]]
    usage: Mapping[tuple[str, str], DailyUsage]
    days: Mapping[str, Sequence[tuple[datetime, Uptime]]]


async def read_index(
    store: Store, settings: Settings, now: datetime, only: str | None = None
) -> PageIndex:
    """The page's :class:`PageIndex` as of ``now`` (``only`` one provider's)."""
    statuses = await store.statuses()
    vantages: dict[tuple[str, str], list[VantageStatus]] = {}
    for view in (await store.vantage_statuses()).values():
        vantages.setdefault(view.status.target, []).append(view)
    targets = await page_targets(store, settings, statuses, only)
    alerts = await store.last_alerts(sent_only=True)
    strip_since = now - timedelta(days=STRIP_DAYS)
    incidents = await store.incidents(provider=only, since=strip_since, limit=INCIDENTS_READ)
    return PageIndex(statuses, targets, vantages, alerts, incidents)


async def read_windows(store: Store, settings: Settings, now: datetime) -> PageWindows:
    """The page's :class:`PageWindows` as of ``now``."""
    # Uptime and latency come from the hourly rollups, read once for every target: the
    # page's cost depends on the number of targets and hours, not on how many results
    # those hours hold.
    uptime = {label: await store.rollup_uptime(now - span) for label, span in UPTIME_WINDOWS}
    usage = daily_usage(await store.usage(now - USAGE_WINDOW[1]), prices_of(settings))
    days = await store.provider_days(now - timedelta(days=STRIP_DAYS))
    return PageWindows(uptime, usage, days)


def target_facts(
    index: PageIndex,
    windows: PageWindows,
    targets: Sequence[tuple[str, str]],
    rollups: Mapping[tuple[str, str], Sequence[HourRollup]],
    recent: Mapping[tuple[str, str], Sequence[ProbeResult]],
    *,
    settings: Settings,
    now: datetime,
) -> list[TargetFacts]:
    """The facts of ``targets`` (in that order) from what the page read."""
    window = voting_window(settings.serve.interval)
    objectives = objectives_of(settings)
    return [
        TargetFacts(
            provider=p,
            model=m,
            status=index.statuses.get((p, m)),
            recent=recent[(p, m)],
            uptime={
                label: by_target.get((p, m), NO_UPTIME)
                for label, by_target in windows.uptime.items()
            },
            latency=rollup_latency(rollups.get((p, m), ())),
            objectives=objectives.for_target(p, m),
            last_alert=index.alerts.get((p, m)),
            vantages=vantage_rows(
                index.vantages.get((p, m), ()), recent[(p, m)], now=now, window=window
            ),
            usage=windows.usage.get((p, m)),
        )
        for p, m in targets
    ]


def provider_strip(
    index: PageIndex, windows: PageWindows, provider: str, now: datetime
) -> list[StripDay] | None:
    """``provider``'s daily strip, or None when the store has no days of it."""
    hours = windows.days.get(provider)
    if hours is None:
        return None
    mine = [i for i in index.incidents if i.provider == provider]
    return strip(hours, mine, days=STRIP_DAYS, today=utc_day(now), now=now)


def listed_incidents(index: PageIndex, now: datetime) -> list[Incident]:
    """The incidents the page lists: open, or resolved within :data:`INCIDENT_WINDOW`."""
    listed_since = now - INCIDENT_WINDOW[1]
    return [i for i in index.incidents if (i.resolved_at or now) >= listed_since]


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
    index = await read_index(store, settings, now, only)
    windows = await read_windows(store, settings, now)
    rollups = await latency_rollups(store, now, only)
    recent = await store.recent_by_target(index.targets, HISTORY_LENGTH)
    facts = target_facts(index, windows, index.targets, rollups, recent, settings=settings, now=now)
    vantages = [settings.vantage or ""]
    vantages += [r.vantage for item in facts for r in item.recent[:1]]
    strips = {name: provider_strip(index, windows, name, now) for name in windows.days}
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
        incidents=listed_incidents(index, now),
        strips={
            name: days
            for name, days in strips.items()
            if days is not None and (only is None or name == only)
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
