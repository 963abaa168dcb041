"""``harness g4f working``: the gpt4free providers and models that work now, from the store.

:func:`working_providers` is pure: from the current statuses and each model's p50
time to first chunk it lists every ``g4f.NAME`` provider with at least one working
model (up or degraded), since when it works (the earliest ``since`` among its working
models: the provider has worked at least that long), and those models;
:func:`provider_flags` keeps the others apart: not working (every model down) or
unknown (nothing conclusive, as after an offline run).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from harness.policy.status import TargetStatus, working_flag
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


def provider_flags(statuses: Mapping[tuple[str, str], TargetStatus]) -> dict[str, bool | None]:
    """Each measured gpt4free provider's flag: working, not working or ``None`` (unknown)."""
    groups: dict[str, list[TargetStatus]] = {}
    for (provider, _model), status in statuses.items():
        if provider.startswith(PREFIX):
            groups.setdefault(provider.removeprefix(PREFIX), []).append(status)
    return {name: working_flag(s.state for s in group) for name, group in sorted(groups.items())}


@dataclass(frozen=True)
class Working:
    """What ``harness g4f working`` shows: the working providers, and every measured
    provider's flag (so not working and unknown stay apart)."""

    providers: list[WorkingProvider]
    flags: dict[str, bool | None]

    def tally(self) -> dict[str, list[str]]:
        """The measured providers by flag: ``working``, ``not_working``, ``unknown``."""
        words = {True: "working", False: "not_working", None: "unknown"}
        tally: dict[str, list[str]] = {word: [] for word in words.values()}
        for name, flag in self.flags.items():
            tally[words[flag]].append(name)
        return tally


async def read_working(store: Store, now: datetime | None = None) -> Working:
    """:func:`working_providers` and :func:`provider_flags` of the store's current statuses."""
    statuses = await store.statuses()
    start = (now or datetime.now(UTC)) - LATENCY_WINDOW
    latency: dict[tuple[str, str], float | None] = {}
    for (provider, model), status in statuses.items():
        if provider.startswith(PREFIX) and status.state.is_working:
            summary = await store.latency(provider, model, start)
            latency[(provider, model)] = summary.ttfc_p50
    return Working(working_providers(statuses, latency), provider_flags(statuses))


def working_document(working: Working, now: datetime, g4f_version: str) -> dict[str, Any]:
    """The ``--json`` output: ``{"generated_at", "g4f_version", "providers": [...],
    "flags": {"working": [...], "not_working": [...], "unknown": [...]}}``."""
    return {
        "generated_at": now.astimezone(UTC).isoformat(),
        "g4f_version": g4f_version,
        "providers": [p.to_dict() for p in working.providers],
        "flags": working.tally(),
    }
