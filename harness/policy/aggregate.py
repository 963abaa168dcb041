"""Aggregates for the pages: percentiles, uptime, latency summaries, the history bar.

Pure functions of values. How a result counts comes from :func:`harness.policy.status.outcome_of`:
inconclusive results are left out of uptime; only passing results carry latency.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from harness.policy.status import Outcome, outcome_of
from harness.result import FailureKind, ProbeResult


def percentile(values: Iterable[float], q: float) -> float:
    """The q-th percentile (0 <= q <= 100) by linear interpolation between closest ranks.

    This is the "linear" method of numpy and of ``statistics.quantiles(method=
    "inclusive")``: q=0 is the minimum, q=100 the maximum, q=50 the median.
    Raises :class:`ValueError` for no values or q outside [0, 100].
    """
    ordered = sorted(values)
    if not ordered:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"q must be within [0, 100], not {q}")
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    fraction = rank - low
    if fraction == 0:
        return ordered[low]
    # a + (b - a) * f can round one ulp past b; capping keeps the result monotonic in q.
    return min(ordered[low] + (ordered[high] - ordered[low]) * fraction, ordered[high])


@dataclass(frozen=True)
class Uptime:
    """Passing results out of conclusive ones (rate-limited results count as not ok)."""

    ok: int
    total: int

    @property
    def ratio(self) -> float | None:
        """ok / total, or None when nothing conclusive was measured."""
        return self.ok / self.total if self.total else None


P99_MIN_SAMPLES = 100
"""Samples needed before a p99 is given: with fewer, it is little more than the maximum."""


@dataclass(frozen=True)
class LatencySummary:
    """p50/p95/p99 of time to first chunk and of total time over ``n`` passing results.

    Each percentile is None when none of the results carried that timing; each p99 is
    None below :data:`P99_MIN_SAMPLES` samples of that timing.
    ``left_out`` counts the passing results not in ``n``: timing-suspect ones, whose
    event-loop lag was over the budget (see harness.probing.looplag).
    """

    n: int
    ttfc_p50: float | None
    ttfc_p95: float | None
    total_p50: float | None
    total_p95: float | None
    ttfc_p99: float | None = None
    total_p99: float | None = None
    left_out: int = 0

    @classmethod
    def from_samples(cls, samples: Iterable[tuple[float | None, float | None]]) -> LatencySummary:
        """Summarise (ttfc_ms, total_ms) pairs, one per passing result."""
        pairs = list(samples)
        ttfc = [t for t, _ in pairs if t is not None]
        total = [t for _, t in pairs if t is not None]
        return cls(
            n=len(pairs),
            ttfc_p50=percentile(ttfc, 50) if ttfc else None,
            ttfc_p95=percentile(ttfc, 95) if ttfc else None,
            total_p50=percentile(total, 50) if total else None,
            total_p95=percentile(total, 95) if total else None,
            ttfc_p99=percentile(ttfc, 99) if len(ttfc) >= P99_MIN_SAMPLES else None,
            total_p99=percentile(total, 99) if len(total) >= P99_MIN_SAMPLES else None,
        )


@dataclass(frozen=True)
class HistoryCell:
    """One probe in a history bar."""

    outcome: Outcome
    at: datetime
    kind: FailureKind | None
    ttfc_ms: float | None
    loop_lag_ms: float | None = None
    """How late the harness's event loop ran around the first chunk (ttfc's error bar)."""
    ttft_ms: float | None = None
    """The first token of any kind (thinking included); ``ttfc_ms`` the first answer text."""
    reasoning_tokens: int | None = None


def history_cells(results: Iterable[ProbeResult], limit: int = 50) -> list[HistoryCell]:
    """The newest ``limit`` results as cells, oldest first (left to right), in any input order."""
    newest = sorted(results, key=lambda r: r.started_at)[-limit:] if limit > 0 else []
    return [
        HistoryCell(
            outcome_of(r),
            r.started_at,
            r.kind,
            r.ttfc_ms,
            r.loop_lag_ms,
            r.ttft_ms,
            r.reasoning_tokens,
        )
        for r in newest
    ]
