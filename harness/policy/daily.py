"""History by UTC day: the rollups (or their uptime counts) folded into days; a daily
rollup, where the store keeps no hours any more, is one rollup at its day's start.

Pure. A day's *probes* are its conclusive results (passes, failures, rate limits; the
inconclusive ones left out, as for every uptime), its *passes* those that passed, and
its latency percentiles come from the merged sketches of its hours.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from harness.policy.aggregate import Uptime
from harness.policy.incidents import Incident
from harness.policy.rollup import HourRollup, Sketch

MAX_DAYS = 90
"""The longest history asked for in one go."""


@dataclass(frozen=True)
class Day:
    """One UTC day of one target (or of a provider's targets pooled)."""

    day: date
    probes: int
    passes: int
    ttfc_p50: float | None
    ttfc_p95: float | None

    @property
    def uptime(self) -> float | None:
        """Passes over probes; None on a day without probes."""
        return self.passes / self.probes if self.probes else None


@dataclass(frozen=True)
class StripDay:
    """One day of a provider's uptime strip: its probes pooled and its incidents."""

    day: date
    uptime: Uptime
    incidents: int


def day_span(days: int, today: date) -> list[date]:
    """The ``days`` UTC days up to and including ``today``, oldest first."""
    return [today - timedelta(days=n) for n in range(days - 1, -1, -1)]


def utc_day(at: datetime) -> date:
    """The UTC day holding ``at``."""
    return at.astimezone(UTC).date()


def daily(rollups: Iterable[HourRollup], *, days: int, today: date) -> list[Day]:
    """One :class:`Day` per day of :func:`day_span`, of every rollup given pooled (days
    without any are there with no probes); rollups outside the span are left out."""
    span = day_span(days, today)
    passes = dict.fromkeys(span, 0)
    probes = dict.fromkeys(span, 0)
    ttfc = {d: Sketch() for d in span}
    for rollup in rollups:
        day = utc_day(rollup.hour)
        if day not in probes:
            continue
        passes[day] += rollup.ok
        probes[day] += rollup.ok + rollup.failed + rollup.throttled
        ttfc[day].merge(rollup.ttfc)
    return [Day(d, probes[d], passes[d], ttfc[d].quantile(50), ttfc[d].quantile(95)) for d in span]


def strip(
    counts: Iterable[tuple[datetime, Uptime]],
    incidents: Sequence[Incident],
    *,
    days: int,
    today: date,
    now: datetime,
) -> list[StripDay]:
    """A provider's strip: its uptime ``counts`` (by hour or by day, each at its start)
    pooled by UTC day, with the number of its ``incidents`` open at some time of each
    day (an open one lasts until ``now``)."""
    span = day_span(days, today)
    ok = dict.fromkeys(span, 0)
    total = dict.fromkeys(span, 0)
    for at, uptime in counts:
        day = utc_day(at)
        if day in ok:
            ok[day] += uptime.ok
            total[day] += uptime.total
    open_on = dict.fromkeys(span, 0)
    for incident in incidents:
        first = utc_day(incident.started_at)
        last = utc_day(incident.resolved_at or now)
        for day in span:
            if first <= day <= last:
                open_on[day] += 1
    return [StripDay(d, Uptime(ok[d], total[d]), open_on[d]) for d in span]
