"""The status page as a JSON document (``status.json`` and ``/api/status``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from harness.policy.aggregate import LatencySummary, Uptime
from harness.policy.deliveries import TargetAlert
from harness.policy.incidents import Incident
from harness.policy.status import Flip
from harness.policy.usage import TokenUsage
from harness.report.format import iso
from harness.report.view import ModelView, ProviderView, StatusPage


def status_document(page: StatusPage) -> dict[str, Any]:
    """A JSON-ready mapping of everything the page shows; times are ISO 8601 UTC,
    states and outcomes their names, durations milliseconds."""
    head, tail = _frame(page)
    providers = {p.name: provider_document(p, page) for p in page.providers}
    return {**head, "providers": providers, **tail}


def provider_document(provider: ProviderView, page: StatusPage) -> dict[str, Any]:
    """One provider's part of :func:`status_document` (its models in full), as the page
    ``page`` shows it (whose windows it names)."""
    return {
        "capability": provider.capability,
        "working": provider.working,
        "state": provider.state.value,
        "overruns": provider.overruns,
        "models": {
            m.model: _model(m, page.latency_window, page.usage_window) for m in provider.models
        },
    }


def provider_part(provider: ProviderView, page: StatusPage) -> bytes:
    """One provider's entry in the document's ``providers`` (``"name": {...}``), as
    UTF-8 JSON text, for :func:`status_parts`."""
    return f"{json.dumps(provider.name)}: {json.dumps(provider_document(provider, page))}".encode()


def status_parts(page: StatusPage, parts: Mapping[str, bytes]) -> list[bytes]:
    """:func:`status_document` as UTF-8 JSON text, in parts that join to the whole: each
    provider's entry taken as it is from ``parts`` (name -> its :func:`provider_part`),
    so that a kept provider is neither serialized nor (by its reader) compressed again."""
    head, tail = _frame(page)
    # The frame's text around the providers: its head less the closing brace, its tail
    # less the opening one (both always have keys, so the commas stand).
    joined: list[bytes] = [f'{json.dumps(head)[:-1]}, "providers": {{'.encode()]
    for n, provider in enumerate(page.providers):
        if n:
            joined.append(b", ")
        joined.append(parts[provider.name])
    joined.append(f"}}, {json.dumps(tail)[1:]}".encode())
    return joined


def _frame(page: StatusPage) -> tuple[dict[str, Any], dict[str, Any]]:
    """The document's keys before its providers, and those after them."""
    head = {
        "generated_at": iso(page.generated_at),
        "version": page.version,
        "vantages": list(page.vantages),
        "source": page.source.value,
        "source_note": page.source_note,
        "summary": {
            "providers": {
                "total": len(page.providers),
                "working": page.working_providers,
                "states": {s.value: n for s, n in page.provider_counts.items()},
            },
            "models": {
                "total": sum(len(p.models) for p in page.providers),
                "states": {s.value: n for s, n in page.model_counts.items()},
            },
        },
    }
    tail = {
        "flips": [_flip(f) for f in page.flips],
        "incidents": [incident_document(i, page.generated_at) for i in page.open_incidents],
    }
    return head, tail


def incident_document(incident: Incident, now: datetime) -> dict[str, Any]:
    """One incident as JSON (``/api/incidents``, ``status.json``, the MCP server): an
    open one has ``resolved_at`` null and its duration so far, as of ``now``."""
    return {
        "id": incident.id,
        "provider": incident.provider,
        "models": list(incident.models),
        "state": incident.state.value,
        "reason": incident.reason,
        "started_at": iso(incident.started_at),
        "resolved_at": iso(incident.resolved_at) or None,
        "duration_s": round(incident.duration_s(now), 3),
        "vantages": list(incident.vantages),
    }


def _model(m: ModelView, latency_window: str, usage_window: str) -> dict[str, Any]:
    return {
        "state": m.state.value,
        "since": iso(m.since) or None,
        "last_checked": iso(m.last_checked) or None,
        "last_outcome": m.last_outcome.value if m.last_outcome else None,
        "last_kind": m.last_kind.value if m.last_kind else None,
        "last_error": m.last_error,
        "uptime": {label: _uptime(u) for label, u in m.uptime.items()},
        "latency": {"window": latency_window, **_latency(m.latency)},
        "objectives": m.objectives.to_dict() if m.objectives is not None else None,
        "missed": list(m.missed),
        "reason": m.reason,
        "last_alert": _alert(m.last_alert),
        "first_token": {
            "n": m.first_token.n,
            "ttft_p50_ms": m.first_token.ttft_p50,
            "ttfc_p50_ms": m.first_token.ttfc_p50,
            "reasoning_tokens_p50": m.first_token.reasoning_tokens_p50,
            "thinks": m.first_token.thinks,
        },
        "throughput": {
            "n": m.throughput.n,
            "chars_per_s": m.throughput.chars_per_s,
            "tokens_per_s": m.throughput.tokens_per_s,
        },
        "checks": {
            c.prompt: {
                "outcome": c.outcome.value,
                "at": iso(c.at),
                "kind": c.kind.value if c.kind else None,
            }
            for c in m.checks
        },
        "usage": _usage(m, usage_window),
        "down_from": list(m.down_from),
        "vantages": {
            v.name: {
                "state": v.state.value,
                "voting": v.voting,
                "last_checked": iso(v.last_checked),
                "ttfc_p50_ms": v.ttfc_p50,
            }
            for v in m.vantages
        },
        "history": [
            {
                "outcome": c.outcome.value,
                "at": iso(c.at),
                "kind": c.kind.value if c.kind else None,
                "ttfc_ms": c.ttfc_ms,
                "ttft_ms": c.ttft_ms,
                "reasoning_tokens": c.reasoning_tokens,
                "loop_lag_ms": c.loop_lag_ms,
            }
            for c in m.history
        ],
    }


def _usage(m: ModelView, window: str) -> dict[str, Any]:
    u = m.usage.usage if m.usage is not None else TokenUsage()
    return {
        "window": window,
        "probes": u.probes,
        "reported": u.reported,
        "prompt_tokens": u.prompt_tokens,
        "completion_tokens": u.completion_tokens,
        "cost": m.usage.cost if m.usage is not None else None,
    }


def _alert(a: TargetAlert | None) -> dict[str, Any] | None:
    if a is None:
        return None
    return {"sent_at": iso(a.sent_at) or None, "state": a.state.value, "title": a.title}


def _uptime(u: Uptime) -> dict[str, Any]:
    return {"ok": u.ok, "total": u.total, "ratio": u.ratio}


def _latency(s: LatencySummary) -> dict[str, Any]:
    return {
        "n": s.n,
        "ttfc_p50_ms": s.ttfc_p50,
        "ttfc_p95_ms": s.ttfc_p95,
        "total_p50_ms": s.total_p50,
        "total_p95_ms": s.total_p95,
        "ttfc_p99_ms": s.ttfc_p99,
        "total_p99_ms": s.total_p99,
        "timing_suspect_left_out": s.left_out,
    }


def _flip(f: Flip) -> dict[str, Any]:
    return {
        "provider": f.provider,
        "model": f.model,
        "at": iso(f.at),
        "old": f.old.value,
        "new": f.new.value,
        "reason": f.reason,
    }
