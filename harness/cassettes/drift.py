"""``harness record --check``: has an upstream changed the shape of its answers?

Each target is recorded afresh (in memory; nothing is written) with the prompt
parameters of its existing cassette, and the shape of every response is compared
with the cassette's: status, content type, framing (SSE ``data:`` lines, a closing
``data: [DONE]``, NDJSON, one JSON document, HTML, text) and the JSON keys that
occur (Anthropic's named events and Gemini's data-only events included). Generated
text, ids, times and chunk timing are ignored. A changed shape is
caught here even when it breaks the provider, since the traffic is compared, not
the probe's verdict.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness.cassettes.cassette import Cassette, Interaction, cassette_path, json_documents, load
from harness.cassettes.record import capture, recording_source, source_kind
from harness.cassettes.replay import prompt_run
from harness.pipeline.run import deadlines_of
from harness.probing.probe import Deadlines
from harness.probing.runner import Target
from harness.result import ProbeResult
from harness.settings.config import Settings

FRAMINGS = {
    "empty": "an empty body",
    "sse+done": "SSE `data:` lines ending in `data: [DONE]`",
    "sse": "SSE `data:` lines without `data: [DONE]`",
    "sse+events": "SSE named events (`event:` lines before their `data:`)",
    "json": "one JSON document",
    "ndjson": "newline-delimited JSON",
    "ndjson+text": "JSON lines mixed with other lines",
    "html": "an HTML page",
    "text": "plain text",
}
"""Framing labels and how a report spells them out."""

_SSE_FIELDS = ("data:", "event:", "id:", "retry:", ":")


@dataclass(frozen=True)
class Shape:
    """What a response looks like, with the content left out."""

    status: int
    content_type: str
    framing: str
    keys: frozenset[str]


def _lines(body: bytes) -> list[str]:
    return [line.strip() for line in body.decode("utf-8", "replace").splitlines() if line.strip()]


def _parses(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def framing_of(body: bytes) -> str:
    """The framing label of a body (a key of :data:`FRAMINGS`). Pure."""
    lines = _lines(body)
    if not lines:
        return "empty"
    if all(line.startswith(_SSE_FIELDS) for line in lines):
        payloads = [line[5:].strip() for line in lines if line.startswith("data:")]
        if payloads and payloads[-1] == "[DONE]":
            return "sse+done"
        return "sse+events" if any(line.startswith("event:") for line in lines) else "sse"
    if _parses(body.decode("utf-8", "replace")):
        return "json"
    json_lines = sum(1 for line in lines if _parses(line))
    if json_lines == len(lines):
        return "ndjson"
    if json_lines:
        return "ndjson+text"
    if lines[0].lower().startswith(("<!doctype", "<html")):
        return "html"
    return "text"


def key_paths(value: Any, prefix: str = "") -> Iterator[str]:
    """Every key path in a JSON value: ``choices[].delta.content``. Pure."""
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            yield path
            yield from key_paths(item, path)
    elif isinstance(value, list):
        for item in value:
            yield from key_paths(item, f"{prefix}[]")


def shape_of(interaction: Interaction) -> Shape:
    """The shape of one recorded response. Pure."""
    response = interaction.response
    content_type = (response.header("Content-Type") or "").split(";")[0].strip().lower()
    keys = frozenset(path for doc in json_documents(response.body) for path in key_paths(doc))
    return Shape(response.status, content_type, framing_of(response.body), keys)


def _request_key(interaction: Interaction) -> str:
    parts = urlsplit(interaction.request.uri)
    return f"{interaction.request.method} {parts.scheme}://{parts.netloc}{parts.path}"


def _labelled(cassette: Cassette) -> dict[str, Shape]:
    """Shapes by request, numbered when one endpoint is called more than once."""
    seen: Counter[str] = Counter()
    out: dict[str, Shape] = {}
    for interaction in cassette.interactions:
        key = _request_key(interaction)
        seen[key] += 1
        out[key if seen[key] == 1 else f"{key} (#{seen[key]})"] = shape_of(interaction)
    return out


def _join(items: Sequence[str]) -> str:
    return ", ".join(sorted(items))


def compare_shapes(old: Shape, new: Shape) -> list[str]:
    """What changed between two response shapes, in words. Pure."""
    changes = []
    if old.status != new.status:
        changes.append(f"status {old.status} -> {new.status}")
    if old.content_type != new.content_type:
        changes.append(f"content type {old.content_type or '-'} -> {new.content_type or '-'}")
    if old.framing != new.framing:
        changes.append(f"framing: {FRAMINGS[old.framing]} -> {FRAMINGS[new.framing]}")
    if added := new.keys - old.keys:
        changes.append(f"JSON keys added: {_join(list(added))}")
    if removed := old.keys - new.keys:
        changes.append(f"JSON keys gone: {_join(list(removed))}")
    return changes


def compare_cassettes(old: Cassette, new: Cassette | None) -> list[str]:
    """Every shape change from ``old`` to ``new``, one line each, naming the request. Pure."""
    before = _labelled(old)
    after = _labelled(new) if new is not None else {}
    changes = [f"{key}: no longer requested (or no response)" for key in before if key not in after]
    changes += [f"{key}: newly requested" for key in after if key not in before]
    for key, shape in before.items():
        if key in after:
            changes += [f"{key}: {change}" for change in compare_shapes(shape, after[key])]
    return changes


@dataclass(frozen=True)
class Drift:
    """One target: what changed, the fresh probe's result, or why nothing was compared."""

    provider: str
    model: str
    prompt: str
    changes: tuple[str, ...] = ()
    result: ProbeResult | None = None
    problem: str | None = None
    """Set when there was nothing to compare (no cassette to compare with)."""

    @property
    def drifted(self) -> bool:
        return bool(self.changes)


@dataclass(frozen=True)
class DriftReport:
    """Every target checked, in order."""

    entries: list[Drift]

    @property
    def drifted(self) -> list[Drift]:
        return [e for e in self.entries if e.drifted]

    @property
    def unchecked(self) -> list[Drift]:
        return [e for e in self.entries if e.problem is not None]

    @property
    def exit_code(self) -> int:
        """0 when every target was compared and none changed shape, else 1."""
        return 0 if self.entries and not self.drifted and not self.unchecked else 1

    def lines(self) -> list[str]:
        """A plain-text report, one line per finding."""
        out = []
        for entry in self.entries:
            name = f"{entry.provider}/{entry.model}--{entry.prompt}"
            if entry.problem is not None:
                out.append(f"{name}: not checked: {entry.problem}")
            for change in entry.changes:
                out.append(f"{name}: {change}")
            if entry.result is not None and not entry.result.ok:
                out.append(
                    f"{name}: the fresh probe failed ({entry.result.kind}): {entry.result.error}"
                )
            if entry.problem is None and not entry.changes:
                out.append(f"{name}: unchanged")
        return out


async def check_drift(
    targets: Sequence[Target],
    *,
    against: Path,
    upstream: str | None = None,
    sandbox: bool = False,
    settings: Settings,
    deadlines: Deadlines | None = None,
) -> DriftReport:
    """Record ``targets`` afresh and compare their response shapes with the cassettes
    under ``against``. ``upstream``/``sandbox`` as for :func:`~harness.cassettes.record`."""
    kind = source_kind(sandbox=sandbox, upstream_base=upstream or settings.upstream)
    limits = deadlines or deadlines_of(settings)
    entries: list[Drift] = []
    async with recording_source(settings, upstream_base=upstream, sandbox=sandbox) as source:
        for target in targets:
            name = target.provider.name()
            path = cassette_path(against, name, target.model, target.prompt)
            if not await asyncio.to_thread(path.exists):
                problem = f"no cassette to compare with at {path}"
                entries.append(Drift(name, target.model, target.prompt, problem=problem))
                continue
            baseline = await asyncio.to_thread(load, path)
            run = prompt_run(baseline.info, str(path))
            fresh = await capture(
                target, run, settings=settings, deadlines=limits, source=source, kind=kind
            )
            changes = tuple(compare_cassettes(baseline, fresh.cassette))
            entries.append(Drift(name, target.model, target.prompt, changes, fresh.result))
    return DriftReport(entries)
