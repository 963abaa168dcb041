"""The live page's overview, kept between requests and re-read only where it changed.

A provider's one-row summary changes only when results of its models land, when a
model's status changes, or when the hour turns (the uptime and latency windows are
whole hours). :class:`LiveOverview` keeps every provider's view and rendered row, and
on each request asks the store which providers had results since it last looked
(:mod:`harness.report.changes`) and compares the statuses; only those providers are
read again and re-rendered, in a few batched queries. Incidents, flips and the counts
are read every time (they are small). The first request, and the first of every hour, reads all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from harness import __version__
from harness.policy.prompts import PROMPTS
from harness.policy.rollup import HourRollup, rollup_latency
from harness.policy.status import TargetStatus
from harness.report.changes import Changes, Updates
from harness.report.html import Row, render_rows
from harness.report.snapshot import FLIPS_SHOWN, INCIDENTS_READ, NO_UPTIME, page_targets
from harness.report.view import (
    HISTORY_LENGTH,
    INCIDENT_WINDOW,
    LATENCY_WINDOW,
    OVERVIEW_UPTIME,
    UPTIME_WINDOWS,
    ProviderView,
    StatusPage,
    TargetFacts,
    assemble_page,
    ordered,
    provider_views,
)
from harness.result import Source
from harness.settings.config import Settings
from harness.store.base import Store
from providers import PROVIDERS


@dataclass(frozen=True)
class Overview:
    """The overview page and each provider's rendered row, by name, in page order."""

    page: StatusPage
    rows: Mapping[str, Row]
    reread: int
    """How many providers were read from the store for it (the others were kept)."""


@dataclass(frozen=True)
class _Kept:
    view: ProviderView
    row: Row
    targets: tuple[tuple[str, str], ...]
    statuses: tuple[TargetStatus | None, ...]
    vantages: tuple[str, ...]
    """The vantage of each of its models' newest results."""


@dataclass
class LiveOverview:
    """The overview of one store, as of the last request, updated by the next."""

    settings: Settings
    source: Source = Source.LIVE
    _changes: Changes = field(default_factory=Changes)
    _kept: dict[str, _Kept] = field(default_factory=dict)
    _updates: Updates[Overview] = field(default_factory=Updates)

    @property
    def warm(self) -> bool:
        """Whether it has been read once (so the next read re-reads only what changed,
        within the hour)."""
        return self._changes.warm

    async def read(
        self,
        store: Store,
        *,
        now: datetime | None = None,
        overruns: Mapping[str, int] | None = None,
    ) -> Overview:
        """The overview as of ``now`` (default: the current time), re-reading only the
        providers that changed since the last call (every one, the first time and when
        the hour has turned); ``overruns`` are a running schedule's (provider -> count),
        a provider whose count moved being re-rendered. A call that waited for another's
        update is answered by it (the same object): people asking at once cost one."""
        overview, _ = await self._updates.run(
            lambda: self._read(store, now or datetime.now(UTC), overruns or {})
        )
        return overview

    async def _read(self, store: Store, now: datetime, overruns: Mapping[str, int]) -> Overview:
        look = await self._changes.look(store, now)
        statuses = await store.statuses()
        targets = await page_targets(store, self.settings, statuses, None)
        by_provider: dict[str, list[tuple[str, str]]] = {}
        for target in targets:
            by_provider.setdefault(target[0], []).append(target)
        keys = {
            name: (tuple(mine), tuple(statuses.get(t) for t in mine))
            for name, mine in by_provider.items()
        }
        stale = look.stale(keys, {name: (k.targets, k.statuses) for name, k in self._kept.items()})
        stale |= {
            name
            for name, kept in self._kept.items()
            if name in by_provider and kept.view.overruns != overruns.get(name, kept.view.overruns)
        }
        if stale:
            await self._reread(store, now, sorted(stale), by_provider, statuses, overruns)
        self._kept = {name: self._kept[name] for name in by_provider}
        self._changes.saw(look)
        listed_since = now - INCIDENT_WINDOW[1]
        views = ordered({n: k.view for n, k in self._kept.items()}, list(PROVIDERS))
        page = assemble_page(
            views,
            await store.flips(limit=FLIPS_SHOWN),
            now=now,
            version=__version__,
            vantages=[
                self.settings.vantage or "",
                *(v for view in views for v in self._kept[view.name].vantages),
            ],
            source=self.source,
            incidents=await store.incidents(since=listed_since, limit=INCIDENTS_READ),
            details=False,
        )
        rows = {view.name: self._kept[view.name].row for view in views}
        return Overview(page=page, rows=rows, reread=len(stale))

    async def _reread(
        self,
        store: Store,
        now: datetime,
        stale: Sequence[str],
        by_provider: Mapping[str, Sequence[tuple[str, str]]],
        statuses: Mapping[tuple[str, str], TargetStatus],
        overruns: Mapping[str, int],
    ) -> None:
        """Read the views of the ``stale`` providers and render their rows."""
        uptime = await store.rollup_uptime(now - dict(UPTIME_WINDOWS)[OVERVIEW_UPTIME])
        since = now - LATENCY_WINDOW[1]
        everyone = len(stale) == len(by_provider)
        rollups: dict[tuple[str, str], list[HourRollup]] = {}
        for rollup in await (
            store.rollups(since) if everyone else store.provider_rollups(stale, since)
        ):
            rollups.setdefault((rollup.provider, rollup.model), []).append(rollup)
        histories = await store.recent_by_provider(stale, HISTORY_LENGTH)
        facts = [
            TargetFacts(
                provider=p,
                model=m,
                status=statuses.get((p, m)),
                recent=(),
                uptime={OVERVIEW_UPTIME: uptime.get((p, m), NO_UPTIME)},
                latency=rollup_latency(rollups.get((p, m), ())),
            )
            for name in stale
            for p, m in by_provider[name]
        ]
        views = provider_views(
            facts,
            capabilities={name: provider.capability for name, provider in PROVIDERS.items()},
            prompt_order=list(PROMPTS),
            histories=histories,
        )
        views = {
            name: replace(view, overruns=overruns.get(name, view.overruns))
            for name, view in views.items()
        }
        # Rows are rendered against a page of these providers alone: a row shows only
        # its provider and the page's constants (windows, and that details are fetched).
        shell = assemble_page(list(views.values()), (), now=now, version="", details=False)
        rows = render_rows(shell)
        for name, view in views.items():
            newest = {(r.provider, r.model): r.vantage for r in reversed(histories[name])}
            mine = tuple(by_provider[name])
            self._kept[name] = _Kept(
                view=view,
                row=rows[name],
                targets=mine,
                statuses=tuple(statuses.get(t) for t in mine),
                vantages=tuple(newest.values()),
            )


async def read_overview(
    store: Store,
    settings: Settings,
    *,
    now: datetime | None = None,
    source: Source = Source.LIVE,
) -> StatusPage:
    """The page's overview as of ``now``, read afresh: every provider's one-row summary
    (its models' states, uptime over :data:`OVERVIEW_UPTIME`, latency, history bar), the
    counts, incidents and flips, without the providers' details (read those with
    ``read_page(only=name)``)."""
    return (await LiveOverview(settings, source).read(store, now=now)).page
