"""Summaries of timing samples: the few numbers a benchmark prints for a distribution."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from harness.policy.aggregate import P99_MIN_SAMPLES, percentile


@dataclass(frozen=True)
class Spread:
    """p50, p95 and max of ``n`` samples (milliseconds, or whatever unit they came in),
    and p99 from :data:`~harness.policy.aggregate.P99_MIN_SAMPLES` samples (else None)."""

    n: int
    p50: float
    p95: float
    max: float
    p99: float | None = None

    @classmethod
    def of(cls, samples: Sequence[float]) -> Spread:
        """The spread of ``samples``; ``ValueError`` when there are none. Pure."""
        if not samples:
            raise ValueError("a spread of no samples")
        return cls(
            n=len(samples),
            p50=percentile(samples, 50),
            p95=percentile(samples, 95),
            max=max(samples),
            p99=percentile(samples, 99) if len(samples) >= P99_MIN_SAMPLES else None,
        )

    def to_dict(self, digits: int = 3) -> dict[str, float | int | None]:
        """JSON-ready, rounded to ``digits`` decimals."""
        return {
            "n": self.n,
            "p50": round(self.p50, digits),
            "p95": round(self.p95, digits),
            "max": round(self.max, digits),
            "p99": None if self.p99 is None else round(self.p99, digits),
        }


def median(values: Sequence[float]) -> float:
    """The median of ``values`` (``ValueError`` when empty). Pure."""
    if not values:
        raise ValueError("a median of no values")
    return statistics.median(values)
