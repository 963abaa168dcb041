"""Pruning what the retention tiers no longer keep, in small batches off the probes' path.

Each batch is one short write of the store (:meth:`harness.store.base.Store.prune`),
so a run's writes wait behind at most one batch (SQLite runs one write at a time) or
none (PostgreSQL: a batch takes no lock a run takes). ``harness probe`` prunes after
its run is committed; ``harness serve`` prunes in a background task of its own every
:data:`PRUNE_EVERY` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from harness.errors import StoreError
from harness.policy.retention import Retention, cutoffs
from harness.store.base import Store

log = logging.getLogger(__name__)

PRUNE_BATCH = 200
"""Rows deleted per write transaction: small enough that a batch takes milliseconds."""

PRUNE_PAUSE = 0.05
"""Seconds ``harness serve`` waits between batches: a run's writes go between them, and
a backlog still goes at thousands of rows a second."""

PRUNE_EVERY = 600.0
"""Seconds between the background pruning passes of ``harness serve``."""


async def prune_expired(
    store: Store,
    retention: Retention,
    *,
    now: datetime | None = None,
    batch: int = PRUNE_BATCH,
    pause: float = 0.0,
    on_batch: Callable[[int, float], None] | None = None,
) -> int:
    """Delete everything ``retention`` no longer keeps at ``now`` (default: the current
    time), ``batch`` rows per transaction, yielding to the event loop for ``pause``
    seconds between batches so that other writes take their turn; the rows deleted.
    ``on_batch`` hears each batch's rows and seconds (from its call to its commit)."""
    cut = cutoffs(retention, now or datetime.now(UTC))
    total = 0
    while True:
        start = time.perf_counter()
        deleted = await store.prune(cut, limit=batch)
        if on_batch is not None:
            on_batch(deleted, time.perf_counter() - start)
        if not deleted:
            return total
        total += deleted
        await asyncio.sleep(pause)


async def keep_pruning(
    store: Store, retention: Retention, *, every: float = PRUNE_EVERY, pause: float = PRUNE_PAUSE
) -> None:
    """Prune (:func:`prune_expired`) now and every ``every`` seconds, until cancelled; a
    store error is logged and the next pass tries again."""
    while True:
        try:
            deleted = await prune_expired(store, retention, pause=pause)
        except StoreError as exc:
            log.warning("pruning skipped: %s", exc)
        else:
            if deleted:
                log.info("pruned %d rows past their retention", deleted)
        await asyncio.sleep(every)
