"""What changed in a store since a kept page last looked, by provider.

The live page's overview (:mod:`harness.report.overview`) and the live status document
(:mod:`harness.report.live_status`) each keep every provider's part between requests
and read again only the providers whose part may have moved: those with results
stored since the last look (the store's results marker says whether there are any,
in one cheap query), those whose own inputs (statuses, targets, ...) compare unequal
to the kept ones, and every provider once the hour has turned, as the uptime and
latency windows are whole hours.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from harness.policy.rollup import hour_of
from harness.store.base import Store

T = TypeVar("T")


@dataclass(frozen=True)
class Look:
    """One look at the store: its results marker, the hour, and the providers with
    results since the look before (``None``: every provider is to be read, the first
    time and when the hour has turned)."""

    marker: int
    hour: datetime
    with_results: frozenset[str] | None
    quiet: bool = False
    """Whether the marker has not moved since the look before, within the same hour
    (nothing was stored, nor every result pruned)."""

    def stale(self, keys: Mapping[str, object], kept: Mapping[str, object]) -> set[str]:
        """The providers of ``keys`` to read again: every one on a full look, else those
        with results since and those whose key (what their part was made from) is not
        the ``kept`` one."""
        if self.with_results is None:
            return set(keys)
        changed = {name for name, key in keys.items() if name not in kept or kept[name] != key}
        return (changed | self.with_results) & set(keys)


@dataclass
class Changes:
    """The marker and hour of the last look at one store, to tell what changed since."""

    _marker: int | None = None
    _hour: datetime | None = None

    @property
    def warm(self) -> bool:
        """Whether it has looked once."""
        return self._marker is not None

    async def look(self, store: Store, now: datetime) -> Look:
        """A look at ``store`` as of ``now``; :meth:`saw` it once its reads are kept."""
        marker = await store.results_marker()
        hour = hour_of(now)
        if self._marker is None or hour != self._hour:
            return Look(marker, hour, None)
        if marker == self._marker:
            return Look(marker, hour, frozenset(), quiet=True)
        return Look(marker, hour, frozenset(await store.providers_since(self._marker)))

    def saw(self, look: Look) -> None:
        """Make ``look`` the one the next is compared with."""
        self._marker, self._hour = look.marker, look.hour


@dataclass
class Updates(Generic[T]):
    """One update of a kept page at a time; a caller that waited for another's update
    is answered by it, so people asking at once cost one update, not one each."""

    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _last: T | None = None
    _made: int = 0

    async def run(self, update: Callable[[], Awaitable[T]]) -> tuple[T, bool]:
        """``update()``'s answer, or the one made while this call waited (then
        ``True``: shared)."""
        asked = self._made
        async with self._lock:
            if self._made != asked and self._last is not None:
                return self._last, True
            self._last = await update()
            self._made += 1
            return self._last, False
