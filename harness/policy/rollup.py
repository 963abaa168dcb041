"""Hourly rollups: what the page needs of a target's history, at a cost independent of it.

Per target per hour the store keeps (in the same transaction as the results) the
number of results by outcome, how many passes were timing-suspect, and two latency
sketches (time to first chunk, total time) of the other passes. A :class:`Sketch`
is a log-scale histogram: bucket ``i`` holds the values in ``(γ^(i-1), γ^i]`` ms with
γ = :data:`GAMMA`, so a quantile read from it is within :data:`RELATIVE_ERROR` of a
value in the data, and sketches merge by adding counts. Uptime windows and latency
percentiles are then sums over at most 24 x 30 rows per target, however many
results the hours hold.

A window starts at the beginning of the hour holding its start (``24h`` is the
current hour and the 24 before it): whole hours are what the rollups know.

Pure: the store turns rows into these values and back.
"""

from __future__ import annotations

import math
import operator
import sys
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from harness.policy.aggregate import P99_MIN_SAMPLES, LatencySummary
from harness.policy.status import Outcome, outcome_of
from harness.result import ProbeResult

GAMMA = 1.04
"""The ratio between a sketch bucket's bounds."""

RELATIVE_ERROR = (GAMMA - 1) / (GAMMA + 1)
"""The most a quantile read from a sketch can be off, relative to a value in the data."""

_LOG_GAMMA = math.log(GAMMA)
_SMALLEST_MS = 0.01
"""Values below this (and zero) share the lowest bucket."""


def bucket_of(ms: float) -> int:
    """The sketch bucket holding ``ms``. Pure."""
    return math.ceil(math.log(max(ms, _SMALLEST_MS)) / _LOG_GAMMA)


def value_of(bucket: int) -> float:
    """The value a bucket stands for: the point of least relative error to both bounds."""
    return 2 * GAMMA**bucket / (GAMMA + 1)


@dataclass
class Sketch:
    """Counts of values per log-scale bucket, stored densely from ``offset`` on."""

    offset: int = 0
    counts: array[int] = field(default_factory=lambda: array("I"))

    @property
    def n(self) -> int:
        """How many values the sketch holds."""
        return sum(self.counts)

    def add(self, ms: float, times: int = 1) -> None:
        """Count ``ms`` (``times`` times)."""
        self._add_at(bucket_of(ms), times)

    def _add_at(self, bucket: int, times: int) -> None:
        if not self.counts:
            self.offset = bucket
            self.counts.append(0)
        elif bucket < self.offset:
            self.counts[0:0] = array("I", bytes(4 * (self.offset - bucket)))
            self.offset = bucket
        end = self.offset + len(self.counts)
        if bucket >= end:
            self.counts.extend(array("I", bytes(4 * (bucket - end + 1))))
        self.counts[bucket - self.offset] += times

    def merge(self, other: Sketch) -> None:
        """Add ``other``'s counts to this sketch."""
        if not other.counts:
            return
        if not self.counts:
            self.offset, self.counts = other.offset, array("I", other.counts)
            return
        self._add_at(other.offset, 0)
        self._add_at(other.offset + len(other.counts) - 1, 0)
        start = other.offset - self.offset
        end = start + len(other.counts)
        # One C-level pass (the page merges a few thousand of these).
        self.counts[start:end] = array("I", map(operator.add, self.counts[start:end], other.counts))

    def quantile(self, q: float) -> float | None:
        """The q-th percentile (0-100) by nearest rank; ``None`` when empty."""
        total = self.n
        if not total:
            return None
        rank = round((total - 1) * q / 100)
        seen = 0
        for i, count in enumerate(self.counts):
            seen += count
            if seen > rank:
                return value_of(self.offset + i)
        raise AssertionError("unreachable: the ranks add up to n")

    def to_blob(self) -> bytes:
        """The counts as little-endian unsigned 32-bit integers (``offset`` is kept apart)."""
        if sys.byteorder == "little":
            return self.counts.tobytes()
        swapped = array("I", self.counts)
        swapped.byteswap()
        return swapped.tobytes()

    @classmethod
    def from_blob(cls, offset: int, blob: bytes | None) -> Sketch:
        """The inverse of :meth:`to_blob`."""
        counts = array("I")
        if blob:
            counts.frombytes(blob)
            if sys.byteorder != "little":
                counts.byteswap()
        return cls(offset, counts)


@dataclass
class HourRollup:
    """One target's results of one hour, folded."""

    provider: str
    model: str
    hour: datetime
    """The start of the hour (UTC)."""
    ok: int = 0
    failed: int = 0
    throttled: int = 0
    inconclusive: int = 0
    suspect: int = 0
    """Passes left out of the sketches: their loop lag was over the budget."""
    ttfc: Sketch = field(default_factory=Sketch)
    total: Sketch = field(default_factory=Sketch)

    @property
    def key(self) -> tuple[str, str, datetime]:
        return (self.provider, self.model, self.hour)

    def add(self, result: ProbeResult, lag_budget_ms: float) -> None:
        """Count one result of this target and hour."""
        outcome = outcome_of(result)
        if outcome is Outcome.INCONCLUSIVE:
            self.inconclusive += 1
        elif outcome is Outcome.THROTTLED:
            self.throttled += 1
        elif outcome is Outcome.FAIL:
            self.failed += 1
        else:
            self.ok += 1
            if timing_suspect(result, lag_budget_ms):
                self.suspect += 1
                return
            if result.ttfc_ms is not None:
                self.ttfc.add(result.ttfc_ms)
            if result.total_ms is not None:
                self.total.add(result.total_ms)

    def merge(self, other: HourRollup) -> None:
        """Add another rollup of the same target and hour."""
        self.ok += other.ok
        self.failed += other.failed
        self.throttled += other.throttled
        self.inconclusive += other.inconclusive
        self.suspect += other.suspect
        self.ttfc.merge(other.ttfc)
        self.total.merge(other.total)


def timing_suspect(result: ProbeResult, lag_budget_ms: float) -> bool:
    """True when the loop lag around the result's first chunk was over the budget. Pure."""
    return result.loop_lag_ms is not None and result.loop_lag_ms > lag_budget_ms


def hour_of(at: datetime) -> datetime:
    """The start of the UTC hour holding ``at`` (a naive time is taken as UTC). Pure."""
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return aware.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def fold(
    results: Iterable[ProbeResult], lag_budget_ms: float
) -> dict[tuple[str, str, datetime], HourRollup]:
    """The rollups of ``results``, by (provider, model, hour). Pure."""
    rollups: dict[tuple[str, str, datetime], HourRollup] = {}
    for result in results:
        hour = hour_of(result.started_at)
        key = (result.provider, result.model, hour)
        rollup = rollups.get(key)
        if rollup is None:
            rollup = rollups[key] = HourRollup(result.provider, result.model, hour)
        rollup.add(result, lag_budget_ms)
    return rollups


def rollup_latency(rollups: Iterable[HourRollup]) -> LatencySummary:
    """Latency percentiles over the passes the rollups hold; the timing-suspect ones
    are counted in ``left_out``. Pure."""
    ttfc, whole = Sketch(), Sketch()
    passes = suspect = 0
    for rollup in rollups:
        passes += rollup.ok - rollup.suspect
        suspect += rollup.suspect
        ttfc.merge(rollup.ttfc)
        whole.merge(rollup.total)
    return LatencySummary(
        n=passes,
        ttfc_p50=ttfc.quantile(50),
        ttfc_p95=ttfc.quantile(95),
        total_p50=whole.quantile(50),
        total_p95=whole.quantile(95),
        ttfc_p99=ttfc.quantile(99) if ttfc.n >= P99_MIN_SAMPLES else None,
        total_p99=whole.quantile(99) if whole.n >= P99_MIN_SAMPLES else None,
        left_out=suspect,
    )


def day_of(at: datetime) -> datetime:
    """The start of the UTC day holding ``at`` (a naive time is taken as UTC). Pure."""
    return hour_of(at).replace(hour=0)


def fold_days(rollups: Iterable[HourRollup]) -> dict[tuple[str, str, datetime], HourRollup]:
    """``rollups`` pooled by target and UTC day: daily rollups, each keyed (and its
    ``hour`` set) to the start of its day. Sketches merge by adding counts, so a day's
    figures are exactly those of its hours together. Pure."""
    days: dict[tuple[str, str, datetime], HourRollup] = {}
    for rollup in rollups:
        day = day_of(rollup.hour)
        key = (rollup.provider, rollup.model, day)
        pooled = days.get(key)
        if pooled is None:
            pooled = days[key] = HourRollup(rollup.provider, rollup.model, day)
        pooled.merge(rollup)
    return days
