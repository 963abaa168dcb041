"""Taking secrets out of cassettes, and finding any that were left in. Pure functions.

What counts as a secret: the values of the ``Authorization``, ``x-api-key``
(Anthropic), ``x-goog-api-key`` (Gemini), ``Cookie``, ``Set-Cookie`` and ``UniqueId``
headers; the ``key`` query parameter of a URL (Gemini's other way of sending its key);
the token on Robocoders' auth page
(``<pre id="token">``); the values of ``sid`` and token-like keys in JSON bodies
(NDJSON and SSE lines included); and any secret named in the configuration.

Each secret is replaced everywhere it occurs (URL, any header, any body) by a
placeholder such as ``scrubbed-token-1``. The same value always gets the same
placeholder within a cassette, so a replay stays consistent: the token the auth
page hands out is the one the chat request carries, and the ``sid`` that
create-session returns is the one the chat body sends.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import bs4
from yarl import URL

from harness.cassettes.cassette import (
    Cassette,
    ChunkMark,
    Headers,
    Interaction,
    RecordedRequest,
    RecordedResponse,
    json_documents,
)

PLACEHOLDER_PREFIX = "scrubbed-"
SECRET_JSON_KEYS = frozenset(
    {"sid", "access_token", "token", "refresh_token", "api_key", "apikey", "session_id"}
)
MIN_SECRET_LENGTH = 4
"""Shorter values are not treated as secrets: replacing every "1" would wreck the file."""

_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"Bearer\s+([A-Za-z0-9._~+/-]{4,}=*)")
"""An RFC 6750 credential after ``Bearer`` (not prose such as ``Bearer &lt;token&gt;``)."""
_KEY_PATTERNS = (
    re.compile(r"\bsk-[A-Za-z0-9_-]{20,}"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}"),
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    re.compile(r"\bAIza[0-9A-Za-z_-]{35}"),
)


@dataclass(frozen=True, slots=True)
class Secret:
    """A value to scrub, and what kind of thing it is (names its placeholder)."""

    value: str
    kind: str


def is_placeholder(value: str) -> bool:
    """True for a value this module wrote."""
    return value.startswith(PLACEHOLDER_PREFIX)


# --- finding secrets -----------------------------------------------------------


def _authorization(value: str) -> Iterator[Secret]:
    scheme, _, credentials = value.partition(" ")
    yield Secret(credentials.strip() if credentials else scheme, "token")


def _cookies(value: str) -> Iterator[Secret]:
    for part in value.split(";"):
        _, _, cookie = part.partition("=")
        yield Secret(cookie.strip(), "cookie")


def _set_cookie(value: str) -> Iterator[Secret]:
    first = value.split(";", 1)[0]
    _, _, cookie = first.partition("=")
    yield Secret(cookie.strip(), "cookie")


def _unique_id(value: str) -> Iterator[Secret]:
    yield Secret(value.strip(), "uniqueid")


def _api_key(value: str) -> Iterator[Secret]:
    yield Secret(value.strip(), "token")


SECRET_HEADERS: Mapping[str, Callable[[str], Iterator[Secret]]] = {
    "authorization": _authorization,
    "cookie": _cookies,
    "set-cookie": _set_cookie,
    "uniqueid": _unique_id,
    "x-api-key": _api_key,
    "x-goog-api-key": _api_key,
}
"""The headers whose values are secret (lower case), and how to take the secrets out of one."""


def _header_secrets(name: str, value: str) -> Iterator[Secret]:
    secrets = SECRET_HEADERS.get(name.lower())
    if secrets is not None:
        yield from secrets(value)


def _json_secrets(value: Any) -> Iterator[Secret]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key.lower() in SECRET_JSON_KEYS and isinstance(item, str):
                yield Secret(item, "sid" if key.lower() == "sid" else "token")
            else:
                yield from _json_secrets(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_secrets(item)


def _page_tokens(body: bytes) -> Iterator[Secret]:
    if b"<pre" not in body:
        return
    page = bs4.BeautifulSoup(body.decode("utf-8", "replace"), "html.parser")
    element = page.find("pre", id="token")
    if element is not None:
        yield Secret(element.get_text().strip(), "token")


def _query_secrets(uri: str) -> Iterator[Secret]:
    for value in URL(uri).query.getall("key", []):
        yield Secret(value, "token")


def _interaction_secrets(interaction: Interaction) -> Iterator[Secret]:
    request, response = interaction.request, interaction.response
    yield from _query_secrets(request.uri)
    for headers in (request.headers, response.headers):
        for name, values in headers.items():
            for value in values:
                yield from _header_secrets(name, value)
    for body in (request.body, response.body):
        if body:
            for document in json_documents(body):
                yield from _json_secrets(document)
    yield from _page_tokens(response.body)


def collect_secrets(cassette: Cassette, configured: Iterable[str] = ()) -> list[Secret]:
    """Every secret value in ``cassette`` (first seen first), plus ``configured`` ones present.

    Placeholders and values shorter than :data:`MIN_SECRET_LENGTH` are left out.
    """
    found: dict[str, Secret] = {}
    candidates = [s for i in cassette.interactions for s in _interaction_secrets(i)]
    candidates += [Secret(value, "secret") for value in configured]
    for secret in candidates:
        value = secret.value
        if len(value) >= MIN_SECRET_LENGTH and not is_placeholder(value):
            found.setdefault(value, secret)
    return list(found.values())


def placeholders(secrets: Iterable[Secret]) -> dict[str, str]:
    """Value -> ``scrubbed-<kind>-<n>``, numbered per kind in order of appearance."""
    counts: dict[str, int] = {}
    mapping: dict[str, str] = {}
    for secret in secrets:
        if secret.value in mapping:
            continue
        counts[secret.kind] = counts.get(secret.kind, 0) + 1
        mapping[secret.value] = f"{PLACEHOLDER_PREFIX}{secret.kind}-{counts[secret.kind]}"
    return mapping


# --- replacing them ------------------------------------------------------------


def replace_in_text(text: str, mapping: dict[str, str]) -> str:
    """``text`` with every key of ``mapping`` replaced by its value (longest first)."""
    if not mapping:
        return text
    pattern = re.compile("|".join(re.escape(k) for k in sorted(mapping, key=len, reverse=True)))
    return pattern.sub(lambda m: mapping[m.group(0)], text)


def replace_in_chunks(
    body: bytes, sizes: list[int], mapping: dict[str, str]
) -> tuple[bytes, list[int]]:
    """Replace secrets in a body received in pieces of ``sizes``; return the new body and
    piece sizes. A secret cut across pieces is still found (the body is searched whole);
    its placeholder goes with the piece that completed it."""
    if not mapping:
        return body, sizes
    encoded = {k.encode("utf-8"): v.encode("utf-8") for k, v in mapping.items()}
    pattern = re.compile(b"|".join(re.escape(k) for k in sorted(encoded, key=len, reverse=True)))
    out = bytearray()
    # (old start, old end, new start) of each replaced span, to move the piece boundaries.
    spans: list[tuple[int, int, int]] = []
    last = 0
    for match in pattern.finditer(body):
        out += body[last : match.start()]
        spans.append((match.start(), match.end(), len(out)))
        out += encoded[match.group(0)]
        last = match.end()
    out += body[last:]

    def moved(position: int) -> int:
        shift = 0
        for start, end, new_start in spans:
            if position <= start:
                break
            if position < end:
                return new_start
            shift = new_start + len(encoded[body[start:end]]) - end
        return position + shift

    boundaries = [0]
    for size in sizes:
        boundaries.append(boundaries[-1] + size)
    new_boundaries = [moved(b) for b in boundaries[:-1]] + [len(out)]
    new_sizes = [b - a for a, b in itertools.pairwise(new_boundaries)]
    return bytes(out), new_sizes


def _scrub_headers(headers: Headers, mapping: dict[str, str]) -> Headers:
    return {name: [replace_in_text(v, mapping) for v in values] for name, values in headers.items()}


def _scrub_interaction(interaction: Interaction, mapping: dict[str, str]) -> Interaction:
    request, response = interaction.request, interaction.response
    body = request.body
    if body is not None:
        body, _ = replace_in_chunks(body, [len(body)], mapping)
    new_body, sizes = replace_in_chunks(response.body, [m.size for m in response.chunks], mapping)
    chunks = tuple(ChunkMark(m.at_ms, size) for m, size in zip(response.chunks, sizes, strict=True))
    return Interaction(
        RecordedRequest(
            request.method,
            replace_in_text(request.uri, mapping),
            _scrub_headers(request.headers, mapping),
            body,
        ),
        RecordedResponse(
            response.status,
            response.reason,
            _scrub_headers(response.headers, mapping),
            new_body,
            chunks,
            response.request_at_ms,
        ),
    )


def scrub(cassette: Cassette, configured: Iterable[str] = ()) -> Cassette:
    """``cassette`` with every secret replaced by its stable placeholder."""
    mapping = placeholders(collect_secrets(cassette, configured))
    info = replace(
        cassette.info,
        prompt_params=json.loads(
            replace_in_text(json.dumps(dict(cassette.info.prompt_params)), mapping)
        ),
    )
    return Cassette(info, tuple(_scrub_interaction(i, mapping) for i in cassette.interactions))


# --- checking the result -------------------------------------------------------


def _mask(value: str) -> str:
    return f"{value[:3]}… ({len(value)} chars)"


def _texts(cassette: Cassette) -> Iterator[tuple[str, str]]:
    yield "harness block", json.dumps(dict(cassette.info.prompt_params))
    for n, interaction in enumerate(cassette.interactions):
        request, response = interaction.request, interaction.response
        yield f"interaction {n} uri", request.uri
        for side, headers in (("request", request.headers), ("response", response.headers)):
            for name, values in headers.items():
                for value in values:
                    yield f"interaction {n} {side} header {name}", f"{name}: {value}"
        if request.body:
            yield f"interaction {n} request body", request.body.decode("utf-8", "replace")
            yield from _decoded_payloads(f"interaction {n} request body", request.body)
        yield f"interaction {n} response body", response.body.decode("utf-8", "replace")


def _decoded_payloads(where: str, body: bytes) -> Iterator[tuple[str, str]]:
    """Base64 strings inside a JSON body, decoded, so a secret cannot hide in one."""
    for document in json_documents(body):
        if not isinstance(document, dict):
            continue
        for key, value in document.items():
            if isinstance(value, str) and len(value) >= 8:
                try:
                    decoded = base64.b64decode(value, validate=True).decode("utf-8")
                except ValueError:
                    continue
                yield f"{where} ({key}, base64)", decoded


def find_leaks(cassette: Cassette, configured: Iterable[str] = ()) -> list[str]:
    """Descriptions (secret values masked) of everything secret-looking left in ``cassette``."""
    leaks = [
        f"{secret.kind} {_mask(secret.value)} left in place" for secret in collect_secrets(cassette)
    ]
    wanted = [s for s in configured if len(s) >= MIN_SECRET_LENGTH]
    for where, text in _texts(cassette):
        for match in _BEARER.finditer(text):
            if not is_placeholder(match.group(1)):
                leaks.append(f"{where}: Bearer value {_mask(match.group(1))}")
        for pattern in (_JWT, *_KEY_PATTERNS):
            leaks.extend(f"{where}: token {_mask(m.group(0))}" for m in pattern.finditer(text))
        leaks.extend(f"{where}: configured secret {_mask(s)}" for s in wanted if s in text)
    return list(dict.fromkeys(leaks))
