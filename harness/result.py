"""``ProbeResult``: the one value that travels from the probe to the store, policy and pages."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class FailureKind(StrEnum):
    """Why a probe did not pass: exactly one per failed result (see design.md)."""

    DNS = "dns"
    CONNECT = "connect"
    TLS = "tls"
    TIMEOUT_CONNECT = "timeout_connect"
    TIMEOUT_FIRST_CHUNK = "timeout_first_chunk"
    TIMEOUT_TOTAL = "timeout_total"
    HTTP_AUTH = "http_auth"
    CLOUDFLARE = "cloudflare"
    RATE_LIMITED = "rate_limited"
    OVERLOADED = "overloaded"
    CONTENT_FILTER = "content_filter"
    HTTP_CLIENT = "http_client"
    HTTP_SERVER = "http_server"
    PROTOCOL = "protocol"
    EMPTY = "empty"
    STREAM_CUT = "stream_cut"
    TOO_LARGE = "too_large"
    WRONG_ANSWER = "wrong_answer"
    UNSUPPORTED_MODEL = "unsupported_model"
    MISSING_REQUIREMENT = "missing_requirement"
    PROVIDER_BUG = "provider_bug"
    HARNESS_OFFLINE = "harness_offline"

    @property
    def is_transport(self) -> bool:
        """Failures of the path to the upstream, worth one retry within a run."""
        return self in _TRANSPORT

    @property
    def is_throttle(self) -> bool:
        """The upstream holding us back (rate limited, overloaded): throttled, not down."""
        return self in (FailureKind.RATE_LIMITED, FailureKind.OVERLOADED)


_TRANSPORT = frozenset(
    {
        FailureKind.DNS,
        FailureKind.CONNECT,
        FailureKind.TLS,
        FailureKind.TIMEOUT_CONNECT,
        FailureKind.STREAM_CUT,
    }
)


class Source(StrEnum):
    """Where the answer came from."""

    LIVE = "live"
    SANDBOX = "sandbox"
    REPLAY = "replay"


class StreamEnd(StrEnum):
    """How the stream ended: a finish reason, a clean end of body, or cut short."""

    FINISH = "finish"
    EOF = "eof"
    CUT = "cut"


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """Raw facts of one probe of one provider/model with one canned prompt.

    Times are milliseconds from the probe's start on one monotonic clock; ``None``
    where the phase was never reached. ``error`` is trimmed and free of secrets.
    """

    provider: str
    model: str
    prompt: str
    started_at: datetime
    ok: bool
    kind: FailureKind | None = None
    http_status: int | None = None
    error: str | None = None
    ttfb_ms: float | None = None
    ttfc_ms: float | None = None
    total_ms: float | None = None
    dns_ms: float | None = None
    connect_ms: float | None = None
    chunks: int = 0
    chars: int = 0
    max_gap_ms: float | None = None
    end: StreamEnd = StreamEnd.CUT
    finish_reason: str | None = None
    sample: str = ""
    source: Source = Source.LIVE
    vantage: str = ""
    version: str = ""
    concurrency: int = 1
    attempts: int = 1
    run_id: str = ""
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    """Tokens of the prompt and the answer as the upstream reported them (usage); None
    when it did not."""
    loop_lag_ms: float | None = None
    """How late the event loop ran callbacks around the first chunk (see
    :mod:`harness.probing.looplag`): the error bar of ``ttfc_ms``; ``None`` without a first
    chunk."""
    ttft_ms: float | None = None
    """The first token of any kind, thinking included; ``ttfc_ms`` is the first answer
    text. They differ for a model that thinks before it answers."""
    reasoning_tokens: int | None = None
    """Of ``completion_tokens``, those spent thinking, where the upstream reported them."""

    @property
    def inconclusive(self) -> bool:
        """True when the harness's own host was offline: counts neither for nor against."""
        return self.kind is FailureKind.HARNESS_OFFLINE

    @property
    def target(self) -> tuple[str, str]:
        """The (provider, model) pair whose status this result feeds."""
        return (self.provider, self.model)

    @property
    def chars_per_s(self) -> float | None:
        """Throughput after the first chunk, when there was something to measure."""
        if self.ttfc_ms is None or self.total_ms is None or self.total_ms <= self.ttfc_ms:
            return None
        return self.chars / ((self.total_ms - self.ttfc_ms) / 1000)

    @property
    def tokens_per_s(self) -> float | None:
        """Completion tokens per second after the first chunk, where the upstream counted them."""
        if self.completion_tokens is None:
            return None
        if self.ttfc_ms is None or self.total_ms is None or self.total_ms <= self.ttfc_ms:
            return None
        return self.completion_tokens / ((self.total_ms - self.ttfc_ms) / 1000)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (enums as strings, time as ISO 8601 UTC)."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["started_at"] = self.started_at.astimezone(UTC).isoformat()
        for key in ("kind", "end", "source"):
            value = data[key]
            data[key] = value.value if value is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProbeResult:
        """The inverse of :meth:`to_dict`; unknown keys are ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        started = values["started_at"]
        if isinstance(started, str):
            started = datetime.fromisoformat(started)
        values["started_at"] = started if started.tzinfo else started.replace(tzinfo=UTC)
        values["kind"] = FailureKind(values["kind"]) if values.get("kind") else None
        values["end"] = StreamEnd(values.get("end") or StreamEnd.CUT)
        values["source"] = Source(values.get("source") or Source.LIVE)
        return cls(**values)
