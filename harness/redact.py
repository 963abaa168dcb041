"""Secret redaction and trimming for text the harness keeps (errors, answer samples). Pure.

What is removed: bearer (and basic) credentials, JWTs, the values of sensitive keys
(``sid``, tokens, passwords, cookies, api keys) in ``key=value``, ``key: value`` and
JSON/dict forms, ``Cookie``/``Set-Cookie`` and API-key header values (``x-api-key``,
``x-goog-api-key``), Google API keys wherever they appear, credentials in URLs
(``http://user:pass@proxy``), and any extra secrets the configuration lists.
Redaction runs before trimming, so a secret cut in half by the trim is never kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "[REDACTED]"

ERROR_LIMIT = 500
"""Characters of error text kept."""
SAMPLE_LIMIT = 200
"""Characters of answer text kept as a sample."""
LABEL_LIMIT = 100
"""Characters kept of a short upstream label (a finish reason)."""
EXCERPT_LIMIT = 200
"""Characters kept of what an upstream answered, quoted in an error."""

_SURROGATE = re.compile("[\ud800-\udfff]")
"""Lone UTF-16 surrogates: valid JSON escapes (``"\\ud800"``), but no UTF-8 encoder
(SQLite, a terminal, a file) accepts them."""

_SENSITIVE_KEYS = (
    r"sid|session(?:_?id)?|(?:access_|refresh_|id_|api_?|auth_?)?token|api_?key|secret"
    r"|password|passwd|pwd|cookie|set-cookie|uniqueid"
)
_HEADER_KEYS = r"(?:set-)?cookie|(?:proxy-)?authorization|x-(?:goog-)?api-key"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Credentials inside URLs: scheme://user:password@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^\s/@:]+(?::[^\s/@]*)?@"), rf"\1{MASK}@"),
    # Authorization schemes, wherever they appear.
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]+"), rf"\1 {MASK}"),
    # Google API keys (Gemini's), even outside any key=value form.
    (re.compile(r"\bAIza[0-9A-Za-z_\-]{35}"), MASK),
    # JWTs, even when cut short (three base64url parts starting with '{"').
    (re.compile(r"\beyJ[A-Za-z0-9_\-]{6,}(?:\.[A-Za-z0-9_\-]*){0,2}"), MASK),
    # Header lines whose whole value is secret.
    (re.compile(rf"(?im)^(\s*(?:{_HEADER_KEYS})\s*:\s*).+$"), rf"\1{MASK}"),
    # Quoted values of sensitive keys: "sid": "...", 'Authorization': '...'
    (
        re.compile(
            rf"""(?i)(["']?\b(?:{_SENSITIVE_KEYS}|{_HEADER_KEYS})\b["']?\s*[:=]\s*)(["'])(?:(?!\2).)*\2?"""
        ),
        rf"\1\2{MASK}\2",
    ),
    # Bare values of sensitive keys: sid=abc; token: abc
    (
        re.compile(rf"""(?i)(\b(?:{_SENSITIVE_KEYS})\b\s*[:=]\s*)(?!["'\[])[^\s,;&"'}}\])]+"""),
        rf"\1{MASK}",
    ),
)


_MAYBE_SECRET = re.compile(r"(?i)[:=@]|eyJ|bearer|basic|AIza")
"""What every pattern above needs somewhere in the text (a separator, a JWT's start, a
scheme): most answers ("pong") have none, and skip the six passes."""


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every credential-looking value and every literal in ``secrets`` masked."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)
    if _MAYBE_SECRET.search(text) is None:
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def storable(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD, so that it encodes as UTF-8."""
    return _SURROGATE.sub("\N{REPLACEMENT CHARACTER}", text)


def trim(text: str, limit: int) -> str:
    """At most ``limit`` characters, ending in an ellipsis when something was cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def clean_error(text: str, secrets: Iterable[str] = (), limit: int = ERROR_LIMIT) -> str:
    """An error message fit to store: redacted, whitespace collapsed to one line, trimmed."""
    return trim(" ".join(redact(storable(text), secrets).split()), limit)


def clean_sample(text: str, secrets: Iterable[str] = (), limit: int = SAMPLE_LIMIT) -> str:
    """The start of an answer fit to store: redacted, then trimmed to ``limit`` characters.

    Only a bounded head is scanned (answers may be a megabyte); the margin covers any
    secret that starts inside the kept part.
    """
    return trim(redact(storable(text[: limit + 4096]), secrets), limit)


_ESCAPED = re.compile(r'[\x00-\x1f\x7f-\x9f"\\]')
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", '"': '\\"', "\\": "\\\\"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED_ESCAPES.get(char) or f"\\x{ord(char):02x}"


def quoted_excerpt(text: str, secrets: Iterable[str] = (), limit: int = EXCERPT_LIMIT) -> str:
    """What an upstream sent, fit to show in an error: redacted, with control characters,
    quotes and backslashes escaped (``\\n``, ``\\x1b``), trimmed to ``limit`` characters,
    in double quotes. Only a bounded head of ``text`` is read."""
    head = redact(storable(text[: limit + 4096]), secrets)
    return f'"{trim(_ESCAPED.sub(_escape, head), limit)}"'


_URL = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^\s'\"]+")
_REQUEST_PATH = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE) /[^\s'\"]*")


def mask_urls(text: str) -> str:
    """``text`` with every URL's part after the scheme, and every request path, masked.

    For text about alert destinations, whose URLs often hold tokens in their paths."""
    return _REQUEST_PATH.sub(rf"\1 /{MASK}", _URL.sub(rf"\1{MASK}", text))
