"""``harness g4f working``: the gpt4free providers and models that work now, from the store.

:func:`working_providers` is pure: from the current statuses and each model's p50
time to first chunk it lists every ``g4f.NAME`` provider with at least one working
model (up or degraded), since when it works (the earliest ``since`` among its working
models: the provider has worked at least that long), and those models.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from harness.policy.status import TargetStatus
from harness.store.base import Store
from providers.gpt4free import PREFIX

LATENCY_WINDOW = timedelta(hours=24)
"""The time over which the p50 time to first chunk is taken."""


@dataclass(frozen=True)
class WorkingModel:
    """One working model of a provider."""

    model: str
    state: str
    since: datetime
    ttfc_p50_ms: float | None


@dataclass(frozen=True)
class WorkingProvider:
    """A gpt4free provider with at least one working model."""

    name: str
    since: datetime
    models: list[WorkingModel]

    @property
    def target(self) -> str:
        """The harness's name of the provider (``g4f.NAME``)."""
        return PREFIX + self.name

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (times as ISO 8601 UTC)."""
        return {
            "provider": self.name,
            "target": self.target,
            "since": self.since.astimezone(UTC).isoformat(),
            "models": [
                {
                    "model": m.model,
                    "state": m.state,
                    "since": m.since.astimezone(UTC).isoformat(),
                    "ttfc_p50_ms": m.ttfc_p50_ms,
                }
                for m in self.models
            ],
        }


def working_providers(
    statuses: Mapping[tuple[str, str], TargetStatus],
    ttfc_p50: Mapping[tuple[str, str], float | None],
) -> list[WorkingProvider]:
    """The gpt4free providers with a working model, by name (see the module docstring)."""
    by_provider: dict[str, list[WorkingModel]] = {}
    for (provider, model), status in sorted(statuses.items()):
        if not provider.startswith(PREFIX) or not status.state.is_working:
            continue
        by_provider.setdefault(provider.removeprefix(PREFIX), []).append(
            WorkingModel(model, status.state.value, status.since, ttfc_p50.get((provider, model)))
        )
    return [
        WorkingProvider(name, min(m.since for m in models), models)
        for name, models in sorted(by_provider.items(), key=lambda item: item[0].lower())
    ]


async def read_working(store: Store, now: datetime | None = None) -> list[WorkingProvider]:
    """:func:`working_providers` of the store's current statuses."""
    statuses = await store.statuses()
    start = (now or datetime.now(UTC)) - LATENCY_WINDOW
    latency: dict[tuple[str, str], float | None] = {}
    for (provider, model), status in statuses.items():
        if provider.startswith(PREFIX) and status.state.is_working:
            summary = await store.latency(provider, model, start)
            latency[(provider, model)] = summary.ttfc_p50
    return working_providers(statuses, latency)


def working_document(
    providers: list[WorkingProvider], now: datetime, g4f_version: str
) -> dict[str, Any]:
    """The ``--json`` output: ``{"generated_at", "g4f_version", "providers": [...]}``."""
    return {
        "generated_at": now.astimezone(UTC).isoformat(),
        "g4f_version": g4f_version,
        "providers": [p.to_dict() for p in providers],
    }
