"""The alert stage of a run: planned before the run is committed, delivered after.

:func:`prepare_alerts` reads what planning needs ahead of the run's transaction; its
:class:`RunAlerts` then turns the run's flips into messages, which the caller stores in
the same transaction as the flips; :func:`deliver_alerts` then sends whatever the store says is
due, each send bounded by ``send_timeout``, and records every outcome. A failed send is
retried on later runs with a growing delay; nothing here ever raises into the run.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from harness.alerts import send as sending
from harness.alerts.plan import plan_alerts
from harness.errors import StoreError
from harness.policy.deliveries import AlertDelivery, AlertDraft, TargetAlert
from harness.policy.status import Flip, TargetStatus
from harness.redact import clean_error, mask_urls
from harness.result import ProbeResult, Source
from harness.settings.alerts import AlertSettings, Destination, alert_urls
from harness.store.base import Store

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 20
"""Attempts before a delivery is given up (about a day with :func:`retry_delay`)."""
LEASE_MARGIN = timedelta(seconds=30)
"""How long past its timeout a claimed delivery stays claimed (then a crash is retried)."""


def retry_delay(attempts: int) -> timedelta:
    """The wait after ``attempts`` failed sends: none after the first (the next run
    retries), then 1, 2, 4 ... minutes, at most an hour."""
    if attempts <= 1:
        return timedelta(0)
    return timedelta(minutes=min(2 ** (attempts - 2), 60))


@dataclass(frozen=True)
class RunAlerts:
    """Where a run's alerts go, and what the store said before the run (read ahead of
    its transaction), so that :meth:`drafts` plans its messages purely once the run's
    flips are decided. No destinations: the run sends nothing."""

    settings: AlertSettings
    destinations: Sequence[Destination] = ()
    run_targets: frozenset[tuple[str, str]] = frozenset()
    last_alerts: Mapping[tuple[str, str], TargetAlert] = field(default_factory=dict)
    offline_since: datetime | None = None
    now: datetime | None = None
    secrets: Sequence[str] = ()

    def drafts(
        self,
        *,
        previous: Mapping[tuple[str, str], TargetStatus],
        current: Mapping[tuple[str, str], TargetStatus],
        flips: Sequence[Flip],
    ) -> list[AlertDraft]:
        """The run's messages, given the shown statuses before and after it and its flips
        (in the order they are stored: the drafts point at them by position)."""
        if not self.destinations or self.now is None:
            return []
        return plan_alerts(
            destinations=self.destinations,
            flips=flips,
            previous=previous,
            current=current,
            run_targets=self.run_targets,
            last_alerts=self.last_alerts,
            offline_since=self.offline_since,
            now=self.now,
            on=self.settings.on,
            remind_every=self.settings.remind_every,
            public_url=self.settings.public_url,
            secrets=self.secrets,
        )


def run_destinations(
    settings: AlertSettings, results: Sequence[ProbeResult], environ: Mapping[str, str]
) -> list[Destination]:
    """The destinations of a run: none without URLs, and none for a run that is not live
    unless ``all_sources`` (``--alerts``) allows sandbox and replay runs."""
    urls = alert_urls(settings, environ)
    if not urls or not results:
        return []
    if not settings.all_sources and any(r.source is not Source.LIVE for r in results):
        return []
    return sending.destinations(urls)


async def prepare_alerts(
    settings: AlertSettings,
    store: Store,
    results: Sequence[ProbeResult],
    *,
    offline: bool,
    secrets: Sequence[str] = (),
    environ: Mapping[str, str] = os.environ,
) -> RunAlerts:
    """The run's destinations and what planning its messages needs from ``store``
    (read, never written)."""
    targets = run_destinations(settings, results, environ)
    if not targets:
        return RunAlerts(settings)
    conclusive = not offline and any(not r.inconclusive for r in results)
    reminding = settings.remind_every > timedelta(0)
    return RunAlerts(
        settings,
        targets,
        run_targets=frozenset(r.target for r in results),
        last_alerts=await store.last_alerts() if reminding else {},
        offline_since=await store.offline_since() if conclusive else None,
        now=max(r.started_at for r in results),
        secrets=secrets,
    )


@dataclass(frozen=True)
class Attempt:
    """One delivery attempt: what was sent where, and the error (None: delivered)."""

    delivery: AlertDelivery
    error: str | None


async def deliver_alerts(
    store: Store,
    destinations: Sequence[Destination],
    *,
    timeout: float,
    now: datetime | None = None,
) -> list[Attempt]:
    """Send every delivery due to ``destinations``, all at once, and record each outcome.

    Store errors are logged, not raised: alerts never fail a run.
    """
    if not destinations:
        return []
    by_key = {d.key: d for d in destinations}
    try:
        due = await store.claim_alerts(
            list(by_key),
            now=now or datetime.now(UTC),
            lease=timedelta(seconds=timeout) + LEASE_MARGIN,
        )
    except StoreError as exc:
        log.warning("alerts not sent: %s", exc)
        return []

    async def attempt(delivery: AlertDelivery) -> Attempt:
        try:
            error = await sending.send(
                by_key[delivery.destination],
                title=delivery.title,
                body=delivery.body,
                notify_type=delivery.notify_type,
                timeout=timeout,
            )
        except Exception as exc:  # a bug in a notification plugin must not fail the run
            error = clean_error(mask_urls(f"{type(exc).__name__}: {exc}"))
        at = datetime.now(UTC)
        retry_at = None
        if error is not None:
            if delivery.attempts < MAX_ATTEMPTS:
                retry_at = at + retry_delay(delivery.attempts)
            log.warning(
                "alert %r to %s failed (attempt %d): %s",
                delivery.title,
                delivery.label,
                delivery.attempts,
                error,
            )
        try:
            await store.finish_alert(delivery.id, at=at, error=error, retry_at=retry_at)
        except StoreError as exc:
            log.warning("alert %r: outcome not recorded: %s", delivery.title, exc)
        return Attempt(delivery, error)

    return list(await asyncio.gather(*map(attempt, due)))
