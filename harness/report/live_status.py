"""The status document (``/api/status``), kept between requests and built again only
where it changed.

At a thousand targets the document is about a megabyte: every model in full, read from
the store, built and serialized. Most of it does not move from one request to the
next. :class:`LiveStatus` keeps each provider's part (its view with details, and that
view as JSON text) and, on each request, reads again only the providers that may have
changed (:mod:`harness.report.changes`: results since the last look, or the hour
turning), or whose statuses, vantages, newest alerts or incidents differ from those
its part was made from; the document is then put together from the kept texts.

While nothing was stored, the whole answer is kept as it is: the next request reads
only the results marker. What can change without a result, the kept answer is held
for at most :data:`STATUS_MAX_AGE` (an alert's delivery is recorded after its run's
results) and no longer than the moment time alone would move it (a vantage losing its
vote, a resolved incident leaving the listed window). The answer is the page as of
its ``generated_at``: the same document, once parsed, as :func:`status_document` of
:func:`read_page` at that time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from harness import __version__
from harness.policy.consensus import voters, voting_window
from harness.policy.prompts import PROMPTS
from harness.policy.rollup import HourRollup
from harness.report.changes import Changes, Updates
from harness.report.document import provider_part, status_parts
from harness.report.snapshot import (
    FLIPS_SHOWN,
    PageIndex,
    latency_rollups,
    listed_incidents,
    provider_strip,
    read_index,
    read_windows,
    target_facts,
)
from harness.report.view import (
    HISTORY_LENGTH,
    INCIDENT_WINDOW,
    ProviderView,
    StatusPage,
    assemble_page,
    ordered,
    provider_views,
)
from harness.result import Source
from harness.settings.config import Settings
from harness.store.base import Store
from providers import PROVIDERS

STATUS_MAX_AGE = timedelta(seconds=30)
"""How long a kept answer stands with nothing stored: what moves without a result (an
alert's delivery, recorded after its run) shows within this."""

ROLLUPS_ONE_BY_ONE = 16
"""Up to how many changed providers have their latency rollups read one provider at a
time; more, and every target's are read at once."""

Target = tuple[str, str]


@dataclass(frozen=True)
class StatusText:
    """The status document as JSON text (UTF-8), named by its ``etag``."""

    body: bytes
    parts: tuple[bytes, ...]
    """``body`` in the parts it was joined from: a kept provider's is the same object
    from one document to the next."""
    etag: str
    """A digest of ``body``: equal etags, equal documents."""
    page: StatusPage
    """The page it is the document of."""
    generated_at: datetime
    reread: int
    """How many providers were read from the store for it (the others were kept)."""
    kept: bool
    """Whether it is the answer before, unchanged: nothing but the marker was read."""


@dataclass(frozen=True)
class _Kept:
    view: ProviderView
    part: bytes
    """``view`` as its entry in the document, JSON text."""
    key: object
    """What it was made from, compared on the next look."""
    newest: Mapping[Target, str]
    """The vantage of each of its models' newest result."""
    until: datetime | None
    """When time alone changes it (one of its vantages stops voting)."""


@dataclass
class LiveStatus:
    """The status document of one store, as of the last request, updated by the next."""

    settings: Settings
    source: Source = Source.LIVE
    max_age: timedelta = STATUS_MAX_AGE
    _changes: Changes = field(default_factory=Changes)
    _kept: dict[str, _Kept] = field(default_factory=dict)
    _text: StatusText | None = None
    _overruns: Mapping[str, int] = field(default_factory=dict)
    _until: datetime | None = None
    _updates: Updates[StatusText] = field(default_factory=Updates)

    @property
    def warm(self) -> bool:
        """Whether it has been read once."""
        return self._changes.warm

    async def read(
        self,
        store: Store,
        *,
        now: datetime | None = None,
        overruns: Mapping[str, int] | None = None,
    ) -> StatusText:
        """The document as of ``now`` (default: the current time), or the one kept when
        nothing changed since, or the one made while this call waited for another's;
        ``overruns`` are a running schedule's (provider -> count)."""
        text, shared = await self._updates.run(
            lambda: self._read(store, now or datetime.now(UTC), dict(overruns or {}))
        )
        # Shared: the store as of at most one update before this request asked.
        return replace(text, reread=0, kept=True) if shared else text

    async def _read(self, store: Store, now: datetime, overruns: dict[str, int]) -> StatusText:
        look = await self._changes.look(store, now)
        text, until = self._text, self._until
        unchanged = look.quiet and overruns == self._overruns
        if text is not None and until is not None and unchanged and now < until:
            return replace(text, reread=0, kept=True)
        index = await read_index(store, self.settings, now)
        by_provider: dict[str, list[Target]] = {}
        for target in index.targets:
            by_provider.setdefault(target[0], []).append(target)
        keys = {name: _key(index, mine) for name, mine in by_provider.items()}
        stale = look.stale(keys, {name: kept.key for name, kept in self._kept.items()})
        stale |= {
            name
            for name, kept in self._kept.items()
            if name in by_provider and kept.until is not None and now >= kept.until
        }
        stale &= set(by_provider)
        shell = assemble_page((), (), now=now, version="")
        if stale:
            await self._reread(store, index, now, sorted(stale), by_provider, keys, shell)
        self._kept = {
            name: _with_overruns(self._kept[name], overruns.get(name), shell)
            for name in by_provider
        }
        views = ordered({name: kept.view for name, kept in self._kept.items()}, list(PROVIDERS))
        newest = {t: v for kept in self._kept.values() for t, v in kept.newest.items()}
        incidents = listed_incidents(index, now)
        page = assemble_page(
            views,
            await store.flips(limit=FLIPS_SHOWN),
            now=now,
            version=__version__,
            vantages=[
                self.settings.vantage or "",
                *(newest[t] for t in index.targets if t in newest),
            ],
            source=self.source,
            incidents=incidents,
        )
        parts = tuple(status_parts(page, {name: kept.part for name, kept in self._kept.items()}))
        body = b"".join(parts)
        text = StatusText(
            body=body,
            parts=parts,
            etag=hashlib.blake2b(body, digest_size=16).hexdigest(),
            page=page,
            generated_at=now,
            reread=len(stale),
            kept=False,
        )
        self._text, self._overruns = text, overruns
        self._until = min(
            [
                now + self.max_age,
                *(kept.until for kept in self._kept.values() if kept.until is not None),
                *(i.resolved_at + INCIDENT_WINDOW[1] for i in incidents if i.resolved_at),
            ]
        )
        self._changes.saw(look)
        return text

    async def _reread(
        self,
        store: Store,
        index: PageIndex,
        now: datetime,
        stale: Sequence[str],
        by_provider: Mapping[str, Sequence[Target]],
        keys: Mapping[str, object],
        shell: StatusPage,
    ) -> None:
        """Read the ``stale`` providers in full and keep their parts."""
        windows = await read_windows(store, self.settings, now)
        rollups: dict[Target, list[HourRollup]] = {}
        if len(stale) == len(by_provider) or len(stale) > ROLLUPS_ONE_BY_ONE:
            rollups = await latency_rollups(store, now, None)
        else:
            for name in stale:
                rollups |= await latency_rollups(store, now, name)
        targets = [t for t in index.targets if t[0] in set(stale)]
        recent = await store.recent_by_target(targets, HISTORY_LENGTH)
        facts = target_facts(
            index, windows, targets, rollups, recent, settings=self.settings, now=now
        )
        strips = {name: provider_strip(index, windows, name, now) for name in stale}
        views = provider_views(
            facts,
            capabilities={name: provider.capability for name, provider in PROVIDERS.items()},
            prompt_order=list(PROMPTS),
            strips={name: days for name, days in strips.items() if days is not None},
        )
        window = voting_window(self.settings.serve.interval)
        for name, view in views.items():
            mine = by_provider[name]
            self._kept[name] = _Kept(
                view=view,
                part=provider_part(view, shell),
                key=keys[name],
                newest={t: recent[t][0].vantage for t in mine if recent[t]},
                until=_vote_ends(index, mine, now, window),
            )


def _key(index: PageIndex, targets: Sequence[Target]) -> object:
    """What a provider's part is made from, besides its results and the hour."""
    provider = targets[0][0]
    return (
        tuple(targets),
        tuple(index.statuses.get(t) for t in targets),
        tuple(tuple(index.vantages.get(t, ())) for t in targets),
        tuple(index.alerts.get(t) for t in targets),
        tuple(i for i in index.incidents if i.provider == provider),
    )


def _vote_ends(
    index: PageIndex, targets: Sequence[Target], now: datetime, window: timedelta
) -> datetime | None:
    """The first moment one of the vantages of ``targets`` stops voting, where the page
    shows its models' vantages (more than one); None when none will."""
    ends = [
        view.reported_at + window
        for t in targets
        if len(views := index.vantages.get(t, ())) > 1
        for view in voters(views, now=now, window=window)
    ]
    return min(ends, default=None)


def _with_overruns(kept: _Kept, overruns: int | None, shell: StatusPage) -> _Kept:
    """``kept`` with the schedule's count of overruns, its text made again if it moved."""
    if kept.view.overruns == overruns:
        return kept
    view = replace(kept.view, overruns=overruns)
    return replace(kept, view=view, part=provider_part(view, shell))
