"""History by day for one provider (or one of its models): ``/api/history``, the MCP
server's ``get_history``. The I/O edge in front of :func:`harness.policy.daily.daily`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from harness.errors import ConfigError
from harness.policy.daily import MAX_DAYS, Day, daily, utc_day
from harness.store.base import Store
from providers import PROVIDERS


def history_days(raw: object) -> int:
    """The number of days asked for, checked: a whole number from 1 to :data:`MAX_DAYS`
    (a string as a query string gives it); ConfigError otherwise."""
    if isinstance(raw, bool):
        raise ConfigError(f"days must be a whole number from 1 to {MAX_DAYS}, not {raw!r}")
    try:
        days = int(raw) if isinstance(raw, int | str) else None
    except ValueError:
        days = None
    if days is None or not 1 <= days <= MAX_DAYS:
        raise ConfigError(f"days must be a whole number from 1 to {MAX_DAYS}, not {raw!r}")
    return days


async def read_history(
    store: Store, provider: str, model: str | None, days: int, *, now: datetime
) -> list[Day]:
    """The ``days`` UTC days up to today of ``provider`` (its models pooled) or of its
    ``model``, oldest first. ConfigError for a provider or model the harness does not
    know (neither a provider here nor stored)."""
    days = history_days(days)
    stored = await store.targets()
    if provider not in PROVIDERS and all(p != provider for p, _ in stored):
        raise ConfigError(f"unknown provider {provider!r}")
    if model is not None and (provider, model) not in stored:
        raise ConfigError(f"no results stored for model {model!r} of {provider}")
    today = utc_day(now)
    since = now - timedelta(days=days)
    rollups = await store.rollups(since, provider=provider, model=model)
    return daily(rollups, days=days, today=today)


def history_document(provider: str, model: str | None, days: list[Day]) -> dict[str, Any]:
    """The daily history as JSON: one entry per UTC day, oldest first; latencies in ms."""
    return {
        "provider": provider,
        "model": model,
        "days": [
            {
                "day": d.day.isoformat(),
                "probes": d.probes,
                "passes": d.passes,
                "uptime": d.uptime,
                "ttfc_p50_ms": d.ttfc_p50,
                "ttfc_p95_ms": d.ttfc_p95,
            }
            for d in days
        ],
    }
