"""Summaries of timing samples: the few numbers a benchmark prints for a distribution."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from harness.aggregate import percentile


@dataclass(frozen=True)
class Spread:
    """p50, p95 and max of ``n`` samples (milliseconds, or whatever unit they came in)."""

    n: int
    p50: float
    p95: float
    max: float

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
        )

    def to_dict(self, digits: int = 3) -> dict[str, float | int]:
        """JSON-ready, rounded to ``digits`` decimals."""
        return {
            "n": self.n,
            "p50": round(self.p50, digits),
            "p95": round(self.p95, digits),
            "max": round(self.max, digits),
        }


def median(values: Sequence[float]) -> float:
    """The median of ``values`` (``ValueError`` when empty). Pure."""
    if not values:
        raise ValueError("a median of no values")
    return statistics.median(values)
