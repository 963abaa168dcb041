"""Request matching for replay: blind to per-request randomness, not to what matters.

vcrpy's default matching ignores request bodies, so two POSTs to one URL would be
answered in recorded order whatever they asked. Matching raw bodies instead breaks
on values that change on every call. :func:`harness_body` compares a normalised form:

- ``conversationId`` and ``sid`` values (random, or scrubbed) are ignored, but must
  be present where they were;
- the ``canvas`` query parameter (random) is ignored;
- prompt texts are compared with their random parts masked: a word holding a digit,
  or a run of six or more hex digits (the nonce, the numbers of the sum, the code
  word's number), so ``continue`` and the real prompt still differ;
- message lists (plain, or base64-encoded JSON as AutonomousAI sends them) are
  compared by their roles and keys;
- everything else (endpoint path, ``agent``, ``aiAgent``, ``threadId``, ``model``,
  ``stream``, ``temperature``) must be equal, so endpoints, models and agents differ.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any
from urllib.parse import parse_qsl

import vcr
from vcr.request import Request

MATCHER_NAME = "harness_body"
VOLATILE_QUERY = frozenset({"canvas"})
VOLATILE_KEYS = frozenset({"conversationId", "sid"})
TEXT_KEYS = frozenset({"prompt", "content"})
MESSAGE_LIST_KEYS = frozenset({"messages"})

MATCH_ON = ("method", "scheme", "host", "port", "path", MATCHER_NAME)
"""What :func:`configure` makes vcrpy compare, in this order."""

_RANDOM_WORD = re.compile(r"\b(?:[A-Za-z]*\d[A-Za-z0-9]*|[0-9a-fA-F]{6,})\b")


def mask_text(text: str) -> str:
    """``text`` with its random-looking words replaced by ``#``. Pure."""
    return _RANDOM_WORD.sub("#", text)


def _message_shape(messages: Any) -> Any:
    if isinstance(messages, str):
        try:
            messages = json.loads(base64.b64decode(messages, validate=True))
        except (binascii.Error, ValueError):
            return ("text", mask_text(messages))
    if not isinstance(messages, list):
        return ("value", _normalise(messages))
    return [
        (m.get("role"), tuple(sorted(m))) if isinstance(m, dict) else type(m).__name__
        for m in messages
    ]


def _normalise(value: Any, key: str | None = None) -> Any:
    if key in VOLATILE_KEYS:
        return "<volatile>"
    if key in MESSAGE_LIST_KEYS:
        return _message_shape(value)
    if isinstance(value, dict):
        return {k: _normalise(v, k) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, str) and key in TEXT_KEYS:
        return mask_text(value)
    return value


def normalised_body(body: Any) -> Any:
    """What :func:`harness_body` compares of a body (bytes, text, or vcrpy's JSON dict)."""
    if body is None or body in (b"", ""):
        return None
    if isinstance(body, dict | list):
        return _normalise(body)
    raw = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    try:
        return _normalise(json.loads(raw))
    except ValueError:
        return ("text", mask_text(raw))


def normalised_query(request: Request) -> list[tuple[str, str]]:
    """The query parameters, without the random ones, sorted."""
    return sorted((k, v) for k, v in parse_qsl(request.parsed_uri.query) if k not in VOLATILE_QUERY)


def harness_body(r1: Request, r2: Request) -> None:
    """vcrpy matcher: raises ``AssertionError`` (saying what differs) when the requests'
    query or body differ in anything but per-request randomness."""
    q1, q2 = normalised_query(r1), normalised_query(r2)
    if q1 != q2:
        raise AssertionError(f"query {q1} != {q2}")
    b1, b2 = normalised_body(r1.body), normalised_body(r2.body)
    if b1 != b2:
        raise AssertionError(f"body {b1!r} != {b2!r}")


def configure(recorder: vcr.VCR) -> None:
    """Register :func:`harness_body` on a vcrpy ``VCR`` (pytest-recording's hook calls this)."""
    recorder.register_matcher(MATCHER_NAME, harness_body)


VCR_OPTIONS: dict[str, Any] = {"match_on": MATCH_ON}
"""``use_cassette`` options for harness cassettes. Deliberately no ``record_mode``: a
record mode here would override pytest-recording's ``--record-mode`` flag."""
