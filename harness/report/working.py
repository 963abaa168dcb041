"""The targets and how they work now: ``harness working``, the MCP server's
``list_targets`` and ``working_now``, and the LiteLLM export.

A target is one (provider, model) of any kind: a seed provider's, a configured
endpoint's, or a gpt4free provider's (``g4f.NAME``). Its *protocol* is what a client
would have to speak to it: an endpoint's own (``openai`` today), ``gpt4free`` for
gpt4free's providers, and ``seed`` for the seed providers, each of which speaks its
host's own protocol. Working targets come fastest first: by p50 time to first chunk
over :data:`LATENCY_WINDOW` (unmeasured ones last), then by name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from harness.policy.aggregate import LatencySummary, Uptime
from harness.policy.rollup import HourRollup, rollup_latency
from harness.policy.status import State, TargetStatus
from harness.report.format import iso
from harness.report.snapshot import planned_targets
from harness.report.view import StatusPage
from harness.settings.config import Settings
from harness.store.base import Store
from providers.gpt4free import PREFIX

LATENCY_WINDOW = timedelta(days=7)
"""The window of a target's p50/p95 time to first chunk."""

UPTIME_WINDOW: tuple[str, timedelta] = ("24h", timedelta(hours=24))
"""The window of a target's uptime."""


def kind_and_protocol(provider: str, settings: Settings) -> tuple[str, str]:
    """(kind, protocol) of a provider: ``endpoint``, ``gpt4free`` or ``seed``."""
    endpoint = settings.endpoints.get(provider)
    if endpoint is not None:
        return "endpoint", endpoint.protocol
    if provider.startswith(PREFIX):
        return "gpt4free", "gpt4free"
    return "seed", "seed"


@dataclass(frozen=True)
class TargetRow:
    """One target as the working list, the MCP tools and the export see it."""

    provider: str
    model: str
    kind: str
    protocol: str
    state: State
    since: datetime | None
    reason: str
    ttfc_p50_ms: float | None
    ttfc_p95_ms: float | None
    uptime: Uptime

    @property
    def working(self) -> bool:
        """True while the target is up or degraded."""
        return self.state.is_working

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping; times ISO 8601 UTC, uptime over :data:`UPTIME_WINDOW`."""
        return {
            "provider": self.provider,
            "model": self.model,
            "kind": self.kind,
            "protocol": self.protocol,
            "working": self.working,
            "state": self.state.value,
            "since": iso(self.since) or None,
            "reason": self.reason,
            "ttfc_p50_ms": self.ttfc_p50_ms,
            "ttfc_p95_ms": self.ttfc_p95_ms,
            "uptime": {
                "window": UPTIME_WINDOW[0],
                "ok": self.uptime.ok,
                "total": self.uptime.total,
                "ratio": self.uptime.ratio,
            },
        }


def target_rows(
    targets: Sequence[tuple[str, str]],
    statuses: Mapping[tuple[str, str], TargetStatus],
    latency: Mapping[tuple[str, str], LatencySummary],
    uptime: Mapping[tuple[str, str], Uptime],
    settings: Settings,
) -> list[TargetRow]:
    """A row per target, in the order given (a target without a status is unknown)."""
    rows = []
    for target in targets:
        provider, model = target
        status = statuses.get(target)
        summary = latency.get(target)
        kind, protocol = kind_and_protocol(provider, settings)
        rows.append(
            TargetRow(
                provider=provider,
                model=model,
                kind=kind,
                protocol=protocol,
                state=status.state if status is not None else State.UNKNOWN,
                since=status.since if status is not None else None,
                reason=status.reason if status is not None else "",
                ttfc_p50_ms=summary.ttfc_p50 if summary is not None else None,
                ttfc_p95_ms=summary.ttfc_p95 if summary is not None else None,
                uptime=uptime.get(target, Uptime(0, 0)),
            )
        )
    return rows


def page_rows(page: StatusPage, settings: Settings) -> list[TargetRow]:
    """The rows of every model a full page (one with details) shows, by provider and
    model: what :func:`read_targets` reads, taken from a page already read (its models'
    latency and uptime are over the same windows)."""
    rows = []
    for provider in page.providers:
        kind, protocol = kind_and_protocol(provider.name, settings)
        for m in provider.models:
            rows.append(
                TargetRow(
                    provider=provider.name,
                    model=m.model,
                    kind=kind,
                    protocol=protocol,
                    state=m.state,
                    since=m.since,
                    reason=m.reason,
                    ttfc_p50_ms=m.latency.ttfc_p50,
                    ttfc_p95_ms=m.latency.ttfc_p95,
                    uptime=m.uptime.get(UPTIME_WINDOW[0], Uptime(0, 0)),
                )
            )
    return sorted(rows, key=lambda r: (r.provider, r.model))


def fastest_first(rows: Sequence[TargetRow]) -> list[TargetRow]:
    """The working rows, fastest p50 first (unmeasured last), then by name."""
    working = [r for r in rows if r.working]
    return sorted(
        working,
        key=lambda r: (r.ttfc_p50_ms is None, r.ttfc_p50_ms or 0.0, r.provider, r.model),
    )


async def read_targets(
    store: Store, settings: Settings, now: datetime | None = None
) -> list[TargetRow]:
    """Every planned or stored target's row, as of ``now``, by provider and model."""
    now = now or datetime.now(UTC)
    statuses = await store.statuses()
    targets = sorted({*planned_targets(settings), *await store.targets(), *statuses})
    by_target: dict[tuple[str, str], list[HourRollup]] = {}
    for rollup in await store.rollups(now - LATENCY_WINDOW):
        by_target.setdefault((rollup.provider, rollup.model), []).append(rollup)
    latency = {target: rollup_latency(rollups) for target, rollups in by_target.items()}
    uptime = await store.rollup_uptime(now - UPTIME_WINDOW[1])
    return target_rows(targets, statuses, latency, uptime, settings)
