"""The cassette file: a vcrpy cassette whose responses also carry their chunk timing.

A cassette is a YAML file that vcrpy (and so pytest-recording) loads as it is::

    harness:                      # ours; vcrpy ignores unknown top-level keys
      provider: AutonomousAI
      model: llama
      prompt: ping
      prompt_params: {nonce: ...}
      recorded_at: '2025-01-01T00:00:00+00:00'
      source: emulator            # emulator | mirror | live
      harness_version: 0.1.0
      ttfc_ms: 41.2               # what the probe measured while recording
      ...
    interactions:
    - request: {method: POST, uri: https://..., headers: {...}, body: '...'}
      response:
        status: {code: 200, message: OK}
        headers: {...}
        body: {string: '...'}     # the bytes the client read, scrubbed
        request_at_ms: 0.0        # ours: when the request started, after the first one
        chunks:                   # ours; vcrpy passes both through untouched
        - {at_ms: 12.3, size: 40} # offset from the request's start, bytes
    version: 1

The chunks hold sizes, not copies of the data: the body stays the one place the
bytes live, so scrubbing it cannot miss a copy, and binary bodies need no second
encoding. (The top-level key is not ``metadata``: pytest-recording 0.14 cannot
load a cassette carrying vcrpy's own metadata block.)
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from harness.errors import HarnessError

FORMAT_VERSION = 1
"""vcrpy's cassette format version, which ours extends."""

SUFFIX = ".yaml"

Headers = dict[str, list[str]]
"""Header name -> values, as vcrpy stores them."""


class CassetteError(HarnessError):
    """A cassette that cannot be read, written or trusted."""


@dataclass(frozen=True, slots=True)
class ChunkMark:
    """One piece of a response body as the client received it."""

    at_ms: float
    """Milliseconds from the start of the request."""
    size: int
    """Bytes in this piece."""


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """A request as sent, with the real upstream URL."""

    method: str
    uri: str
    headers: Headers
    body: bytes | None


@dataclass(frozen=True, slots=True)
class RecordedResponse:
    """A response: status, headers, the body the client read, and how it arrived."""

    status: int
    reason: str
    headers: Headers
    body: bytes
    chunks: tuple[ChunkMark, ...]
    request_at_ms: float = 0.0
    """When the request started, in milliseconds after the recording's first request."""

    def pieces(self) -> list[tuple[float, bytes]]:
        """``(at_ms, data)`` for every chunk, cut from the body."""
        out: list[tuple[float, bytes]] = []
        start = 0
        for mark in self.chunks:
            out.append((mark.at_ms, self.body[start : start + mark.size]))
            start += mark.size
        return out

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), if any."""
        for key, values in self.headers.items():
            if key.lower() == name.lower() and values:
                return values[0]
        return None


@dataclass(frozen=True, slots=True)
class Interaction:
    """One request and the response it got."""

    request: RecordedRequest
    response: RecordedResponse


@dataclass(frozen=True, slots=True)
class CassetteInfo:
    """Where a cassette came from and what the probe measured while recording it."""

    provider: str
    model: str
    prompt: str
    prompt_params: Mapping[str, Any]
    """Everything needed to rebuild the exact prompt (its nonce among them)."""
    recorded_at: datetime
    source: str
    """``emulator``, ``mirror`` or ``live``."""
    harness_version: str
    ttfc_ms: float | None
    total_ms: float | None
    chunks: int
    chars: int
    finish_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Cassette:
    """A recorded probe: its provenance and its HTTP interactions, in request order."""

    info: CassetteInfo
    interactions: tuple[Interaction, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        """``<provider>/<model>--<prompt>``: where the cassette lives under a directory."""
        return f"{self.info.provider}/{file_stem(self.info.model, self.info.prompt)}"


def file_stem(model: str, prompt: str) -> str:
    """``<model>--<prompt>``, with characters unsafe in file names replaced."""
    return f"{_safe(model)}--{_safe(prompt)}"


def _safe(part: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", part) or "_"


def cassette_path(root: Path, provider: str, model: str, prompt: str) -> Path:
    """``root/<provider>/<model>--<prompt>.yaml``."""
    return root / _safe(provider) / (file_stem(model, prompt) + SUFFIX)


def find_cassettes(root: Path) -> list[Path]:
    """Every cassette file under ``root``, sorted, so a new file is a new test."""
    return sorted(root.glob(f"*/*{SUFFIX}"))


# --- YAML mapping ------------------------------------------------------------


def _text_or_bytes(data: bytes) -> str | bytes:
    """UTF-8 text stays readable in the file; anything else is kept as ``!!binary``."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data


def _as_bytes(value: Any, where: str) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise CassetteError(f"{where}: expected text or binary, got {type(value).__name__}")


def _headers(value: Any, where: str) -> Headers:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise CassetteError(f"{where}: headers must be a mapping")
    out: Headers = {}
    for key, values in value.items():
        items = values if isinstance(values, list) else [values]
        out[str(key)] = [str(v) for v in items]
    return out


def _info_to_dict(info: CassetteInfo) -> dict[str, Any]:
    data = {f.name: getattr(info, f.name) for f in dataclasses.fields(info)}
    data["prompt_params"] = dict(info.prompt_params)
    data["recorded_at"] = info.recorded_at.astimezone(UTC).isoformat()
    return data


def _info_from_dict(data: Any, where: str) -> CassetteInfo:
    if not isinstance(data, dict):
        raise CassetteError(f"{where}: no 'harness' block (not recorded by harness record?)")
    names = {f.name for f in dataclasses.fields(CassetteInfo)}
    values = {k: v for k, v in data.items() if k in names}
    try:
        recorded = values["recorded_at"]
        if isinstance(recorded, str):
            recorded = datetime.fromisoformat(recorded)
        if not isinstance(recorded, datetime):
            raise TypeError("recorded_at is not a time")
        values["recorded_at"] = recorded if recorded.tzinfo else recorded.replace(tzinfo=UTC)
        values["prompt_params"] = dict(values.get("prompt_params") or {})
        return CassetteInfo(**values)
    except (KeyError, TypeError, ValueError) as exc:
        raise CassetteError(f"{where}: bad 'harness' block: {exc}") from None


def _interaction_to_dict(interaction: Interaction) -> dict[str, Any]:
    request, response = interaction.request, interaction.response
    return {
        "request": {
            "method": request.method,
            "uri": request.uri,
            "headers": request.headers,
            "body": None if request.body is None else _text_or_bytes(request.body),
        },
        "response": {
            "status": {"code": response.status, "message": response.reason},
            "headers": response.headers,
            "body": {"string": _text_or_bytes(response.body)},
            "request_at_ms": round(response.request_at_ms, 3),
            "chunks": [{"at_ms": round(m.at_ms, 3), "size": m.size} for m in response.chunks],
        },
    }


def _interaction_from_dict(data: Any, where: str) -> Interaction:
    try:
        req, resp = data["request"], data["response"]
        body = req.get("body")
        request = RecordedRequest(
            method=str(req["method"]),
            uri=str(req["uri"]),
            headers=_headers(req.get("headers"), where),
            body=None if body is None else _as_bytes(body, f"{where} request body"),
        )
        response_body = _as_bytes((resp.get("body") or {}).get("string", b""), where)
        chunks = tuple(
            ChunkMark(float(c["at_ms"]), int(c["size"])) for c in resp.get("chunks") or []
        )
        response = RecordedResponse(
            status=int(resp["status"]["code"]),
            reason=str(resp["status"].get("message") or ""),
            headers=_headers(resp.get("headers"), where),
            body=response_body,
            chunks=chunks,
            request_at_ms=float(resp.get("request_at_ms") or 0.0),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CassetteError(f"{where}: malformed interaction ({exc!r})") from None
    if sum(m.size for m in chunks) != len(response_body):
        raise CassetteError(f"{where}: chunk sizes do not add up to the body's length")
    if any(m.size < 0 or m.at_ms < 0 for m in chunks) or response.request_at_ms < 0:
        raise CassetteError(f"{where}: negative chunk size or offset")
    return Interaction(request, response)


def dumps(cassette: Cassette) -> str:
    """The cassette as YAML text."""
    data = {
        "harness": _info_to_dict(cassette.info),
        "interactions": [_interaction_to_dict(i) for i in cassette.interactions],
        "version": FORMAT_VERSION,
    }
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def loads(text: str, origin: str = "<cassette>") -> Cassette:
    """Parse cassette YAML; :class:`CassetteError` names ``origin`` when it is not one."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CassetteError(f"{origin}: not YAML: {exc}") from None
    if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
        raise CassetteError(f"{origin}: not a version {FORMAT_VERSION} cassette")
    raw = data.get("interactions")
    if not isinstance(raw, list):
        raise CassetteError(f"{origin}: 'interactions' must be a list")
    info = _info_from_dict(data.get("harness"), origin)
    interactions = tuple(
        _interaction_from_dict(item, f"{origin} interaction {n}") for n, item in enumerate(raw)
    )
    return Cassette(info, interactions)


def load(path: Path) -> Cassette:
    """Read the cassette at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CassetteError(f"cannot read cassette {path}: {exc}") from None
    return loads(text, str(path))


def save(cassette: Cassette, path: Path) -> None:
    """Write ``cassette`` to ``path`` atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(dumps(cassette), encoding="utf-8")
    tmp.replace(path)


def json_documents(body: bytes) -> Iterator[Any]:
    """The JSON values in a body: the whole body, or each NDJSON / SSE ``data:`` line."""
    text = body.decode("utf-8", "replace")
    try:
        yield json.loads(text)
        return
    except ValueError:
        pass
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("data:"):
            line = line[5:].strip()
        if line[:1] in ("{", "["):
            try:
                yield json.loads(line)
            except ValueError:
                continue
