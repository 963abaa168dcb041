"""Tiered retention: how long each kind of history is kept, and what that cuts now.

Three tiers, each kept for its own span (``None``: forever):

* **raw** results (and the run ids stored with them);
* **hourly** rollups, with the flips, alert deliveries and resolved incidents;
* **daily** rollups (the hourly ones pooled by UTC day, see
  :func:`harness.policy.rollup.fold_days`).

Rollups are cut at the start of a UTC day, so the hours kept always make up whole days
and every day before them is still there as one daily rollup: a window's figures read
from hours or from days are the same sums. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from harness.policy.rollup import day_of

DEFAULT_RAW = timedelta(days=14)
"""How long raw results are kept unless configured."""

DEFAULT_HOURLY = timedelta(days=400)
"""How long hourly rollups are kept unless configured."""


@dataclass(frozen=True)
class Retention:
    """How long each tier is kept; ``None`` keeps it forever. The settings keep each
    tier at least as long as the one before it (``raw <= hourly <= daily``)."""

    raw: timedelta | None = DEFAULT_RAW
    hourly: timedelta | None = DEFAULT_HOURLY
    daily: timedelta | None = None

    def keeps_raw(self, span: timedelta) -> bool:
        """Whether raw results of the last ``span`` are all kept."""
        return self.raw is None or self.raw >= span


@dataclass(frozen=True)
class Cutoffs:
    """What is older than these times goes (``None``: nothing of that tier goes)."""

    raw: datetime | None
    hourly: datetime | None
    """The start of a UTC day."""
    daily: datetime | None
    """The start of a UTC day."""


def cutoffs(retention: Retention, now: datetime) -> Cutoffs:
    """The cutoffs of ``retention`` at ``now``: raw results to the microsecond, rollups
    at the start of the UTC day holding their cutoff (so whole days go)."""
    return Cutoffs(
        raw=None if retention.raw is None else now - retention.raw,
        hourly=None if retention.hourly is None else day_of(now - retention.hourly),
        daily=None if retention.daily is None else day_of(now - retention.daily),
    )
