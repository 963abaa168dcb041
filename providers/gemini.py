"""Providers for Google's Gemini API (``generateContent``), built at run time.

``POST {base_url}/models/{model}:streamGenerateContent?alt=sse`` with the key in
``x-goog-api-key``; :func:`gemini` returns a provider class::

    Gemini = gemini(
        "gemini", "https://generativelanguage.googleapis.com/v1beta",
        api_key_env="GEMINI_API_KEY", models=["gemini-2.5-flash"],
    )

The stream is data-only server-sent events, each a ``GenerateContentResponse``, read by
:class:`ContentStream`: the text parts of the first candidate are the answer, parts
marked ``thought`` are yielded as :class:`Thinking` (Gemini sends them only when asked
with ``include_thoughts``, which models that do not think refuse), ``finishReason`` is
the finish reason and ``usageMetadata`` the usage (the completion counts the answer's
and the thoughts' tokens, ``thoughtsTokenCount`` the reasoning tokens). A
``promptFeedback.blockReason``, or a finish reason of :data:`FILTER_REASONS`, raises
:class:`ContentFilterError` quoting what Gemini said.

Errors (``{"error": {"code", "message", "status", "details"}}``), by ``status``:
``RESOURCE_EXHAUSTED`` -> :class:`RateLimitError` (``retryDelay`` of its ``RetryInfo``,
else ``Retry-After``); ``UNAVAILABLE`` -> :class:`OverloadedError`; ``UNAUTHENTICATED``,
``PERMISSION_DENIED``, and ``INVALID_ARGUMENT`` whose reason or message is about the API
key -> :class:`AuthError`; ``NOT_FOUND`` -> :class:`ModelNotSupportedError`; others by
HTTP status. Discovery: ``GET {base_url}/models``, keeping the models that support
``generateContent``.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from typing import Any

import aiohttp
from yarl import URL

from .endpoint import (
    EndpointProvider,
    api_base,
    check_endpoint,
    endpoint_class,
    get_json,
    key_reader,
    post_for_chunks,
)
from .errors import (
    AuthError,
    ContentFilterError,
    ModelNotSupportedError,
    OverloadedError,
    ProtocolError,
    ProviderError,
    RateLimitError,
    ResponseStatusError,
    ServerError,
)
from .http import read_error_body
from .messages import Chunk, FinishReason, Messages, Thinking, Usage
from .openai_compatible import endpoint_error, reset_seconds, retry_after
from .stream import LineTally, iter_lines

FILTER_REASONS = frozenset({"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "IMAGE_SAFETY"})
"""Finish reasons of an answer Gemini's filters withheld."""
GENERATE = "generateContent"
"""The generation method a model must support to be probed."""
MODEL_PAGE = 1000
"""Models asked for per page of ``GET /models``."""
_QUOTED_LIMIT = 2000


def _count(document: Any, key: str) -> int | None:
    value = document.get(key) if isinstance(document, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _trim(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _reasons(error: dict[str, Any]) -> list[str]:
    details = error.get("details")
    return [
        d["reason"]
        for d in (details if isinstance(details, list) else [])
        if isinstance(d, dict) and isinstance(d.get("reason"), str)
    ]


def _retry_delay(error: dict[str, Any], now: float) -> float | None:
    details = error.get("details")
    for detail in details if isinstance(details, list) else []:
        if isinstance(detail, dict) and isinstance(detail.get("retryDelay"), str):
            return reset_seconds(detail["retryDelay"], now)
    return None


def gemini_error(
    http_status: int,
    error: Any,
    headers: Mapping[str, str] | None = None,
    now: float = 0.0,
) -> ProviderError | None:
    """The exception for a Gemini error object (see the module doc); ``None`` when
    ``error`` is not one. Pure."""
    if not isinstance(error, dict):
        return None
    message = error.get("message")
    message = message if isinstance(message, str) else ""
    status = error.get("status")
    status = status if isinstance(status, str) else ""
    code = error.get("code")
    if not (message or status):
        return None
    if not 400 <= http_status < 600 and isinstance(code, int) and 400 <= code < 600:
        http_status = code  # an error inside a 200 stream names its own status
    described = f"Response {http_status}: {_trim(str(message))}" + (
        f" ({status})" if status else ""
    )
    key_problem = any("API_KEY" in r for r in _reasons(error)) or "api key" in message.lower()
    if status == "RESOURCE_EXHAUSTED":
        wait = _retry_delay(error, now)
        if wait is None and headers is not None:
            wait = retry_after(headers, now)
        return RateLimitError(described, http_status, wait)
    if status == "UNAVAILABLE":
        return OverloadedError(described, http_status)
    if status in ("UNAUTHENTICATED", "PERMISSION_DENIED") or (
        status == "INVALID_ARGUMENT" and key_problem
    ):
        return AuthError(described, http_status)
    if status == "NOT_FOUND" or http_status == 404:
        return ModelNotSupportedError(described)
    if http_status >= 500:
        return ServerError(described, http_status)
    if http_status == 429:
        return RateLimitError(described, http_status)
    if http_status in (401, 403):
        return AuthError(described, http_status)
    return ResponseStatusError(described, http_status)


def status_error(
    status: int, body: str, content_type: str, headers: Mapping[str, str], now: float
) -> ProviderError:
    """The exception for a non-2xx answer of the Gemini API. Pure."""
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    error = document.get("error") if isinstance(document, dict) else None
    found = gemini_error(status, error, headers, now)
    return found if found is not None else endpoint_error(status, body, content_type, headers, now)


def _quoted(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False)[:_QUOTED_LIMIT]


class ContentStream:
    """The state of one streamed answer: :meth:`feed` each ``GenerateContentResponse``.

    Pure apart from its own state, so that any sequence of events can be fed to it.
    """

    def __init__(self) -> None:
        self.finished = False
        self.said: list[str] = []

    def feed(self, event: Any) -> list[Chunk]:
        """The items one response yields; raises for errors and filtered answers."""
        if not isinstance(event, dict):
            return []
        if "error" in event:
            raise gemini_error(200, event["error"]) or ServerError(
                f"error inside the stream: {_trim(_quoted(event['error']))}", 200
            )
        feedback = event.get("promptFeedback")
        block = feedback.get("blockReason") if isinstance(feedback, dict) else None
        if isinstance(block, str) and block:
            raise ContentFilterError(
                f"Gemini blocked the prompt (blockReason {block})", 200, body=_quoted(feedback)
            )
        found: list[Chunk] = []
        candidates = event.get("candidates")
        candidate = candidates[0] if isinstance(candidates, list) and candidates else None
        if isinstance(candidate, dict):
            found.extend(self._parts(candidate.get("content")))
            reason = candidate.get("finishReason")
            if reason in FILTER_REASONS:
                said = "".join(self.said)
                raise ContentFilterError(
                    f"Gemini withheld the answer (finishReason {reason})",
                    200,
                    body=_quoted({"text": said, **candidate}) if said else _quoted(candidate),
                )
            if isinstance(reason, str) and reason and not self.finished:
                self.finished = True
                found.append(FinishReason(reason))
        usage = usage_of(event.get("usageMetadata"))
        if usage is not None:
            found.append(usage)
        return found

    def _parts(self, content: Any) -> list[Chunk]:
        parts = content.get("parts") if isinstance(content, dict) else None
        found: list[Chunk] = []
        for part in parts if isinstance(parts, list) else []:
            text = part.get("text") if isinstance(part, dict) else None
            if not isinstance(text, str) or not text:
                continue
            if part.get("thought") is True:
                found.append(Thinking(text))
            else:
                self.said.append(text)
                found.append(text)
        return found


def usage_of(metadata: Any) -> Usage | None:
    """The usage of ``usageMetadata`` (completion = answer + thoughts). Pure."""
    prompt = _count(metadata, "promptTokenCount")
    answer = _count(metadata, "candidatesTokenCount")
    thoughts = _count(metadata, "thoughtsTokenCount")
    if prompt is None and answer is None and thoughts is None:
        return None
    completion = None if answer is None and thoughts is None else (answer or 0) + (thoughts or 0)
    return Usage(prompt, completion, thoughts)


async def iter_content_chunks(
    response: aiohttp.ClientResponse, tally: LineTally
) -> AsyncIterator[Chunk]:
    """Text, thoughts, the finish reason and usage of a streamed answer (see module doc)."""
    answer = ContentStream()
    async for raw in iter_lines(response):
        line = raw.strip()
        if not line or line.startswith(b":") or line.startswith((b"event:", b"id:", b"retry:")):
            continue
        if not line.startswith(b"data:"):
            tally.lines += 1
            tally.skip(line)
            continue
        for chunk in answer.feed(tally.decode_json(line[5:].strip())):
            tally.texts += 1
            yield chunk
    tally.check_end()


def content_chunks(document: Any) -> list[Chunk]:
    """The items of a whole (non-streamed) answer. Pure."""
    if not isinstance(document, dict):
        raise ProtocolError("the answer is not a JSON object")
    return ContentStream().feed(document)


def request_body(
    messages: Messages, *, max_tokens: int | None, include_thoughts: bool
) -> dict[str, Any]:
    """The ``generateContent`` body: system turns as ``systemInstruction``, assistant
    turns as the ``model`` role. Pure."""
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    body: dict[str, Any] = {
        "contents": [
            {
                "role": "model" if m["role"] == "assistant" else "user",
                "parts": [{"text": m["content"]}],
            }
            for m in messages
            if m["role"] != "system"
        ]
    }
    if system:
        body["systemInstruction"] = {"parts": [{"text": system}]}
    config: dict[str, Any] = {}
    if max_tokens is not None:
        config["maxOutputTokens"] = max_tokens
    if include_thoughts:
        config["thinkingConfig"] = {"includeThoughts": True}
    if config:
        body["generationConfig"] = config
    return body


def generating_models(document: Any) -> list[str]:
    """The ids (without ``models/``) of the listed models that support
    ``generateContent``. Pure."""
    entries = document.get("models") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ProtocolError("the model list has no 'models' array")
    return [
        e["name"].removeprefix("models/")
        for e in entries
        if isinstance(e, dict)
        and isinstance(e.get("name"), str)
        and GENERATE in (e.get("supportedGenerationMethods") or [])
    ]


async def raise_for_gemini_status(response: aiohttp.ClientResponse) -> None:
    """Raise the matching error (see the module doc) when ``response`` is not 2xx."""
    if 200 <= response.status < 300:
        return
    body = await read_error_body(response)
    raise status_error(response.status, body, response.content_type, response.headers, time.time())


def gemini(
    name: str,
    base_url: str,
    *,
    api_key: str | None = None,
    api_key_env: str | None = None,
    models: Sequence[str] = (),
    headers: Mapping[str, str] | None = None,
    max_tokens: int | None = None,
    label: str | None = None,
    include_thoughts: bool = False,
) -> type[GeminiProvider]:
    """A provider class for the Gemini API at ``base_url`` (``.../v1beta``).

    The arguments are those of :func:`providers.openai_compatible.openai_compatible`; the
    key goes in ``x-goog-api-key``. ``include_thoughts`` asks thinking models to stream
    their thoughts (so that the first token is seen when thinking starts); models that
    do not think refuse the request with it.
    """
    check_endpoint(name, base_url, max_tokens)
    fixed_headers = dict(headers or {})
    default_max_tokens = max_tokens
    read_key = key_reader(name, api_key, api_key_env)

    def request_headers(stream: bool) -> dict[str, str]:
        key = read_key()
        sent = {
            "Content-Type": "application/json",
            "Accept": "text/event-stream" if stream else "application/json",
            **fixed_headers,
        }
        if key:
            sent["x-goog-api-key"] = key
        return sent

    async def _stream(
        cls: type[GeminiProvider],
        model: str,
        messages: Messages,
        *,
        proxy: str | None,
        stream: bool,
        timeout: float | None,
        max_tokens: int | None = None,
    ) -> AsyncGenerator[Chunk, None]:
        body = request_body(
            messages,
            max_tokens=max_tokens if max_tokens is not None else default_max_tokens,
            include_thoughts=include_thoughts,
        )
        method = "streamGenerateContent" if stream else GENERATE
        async for chunk in post_for_chunks(
            f"{api_base(cls.name(), cls.base_url)}/models/{model}:{method}",
            body,
            headers=request_headers(stream),
            proxy=proxy,
            timeout=timeout,
            stream=stream,
            check=raise_for_gemini_status,
            streamed=iter_content_chunks,
            whole=content_chunks,
            params={"alt": "sse"} if stream else None,
        ):
            yield chunk

    async def list_models(
        cls: type[GeminiProvider],
        *,
        proxy: str | None = None,
        timeout: float | None = 30.0,
    ) -> list[str]:
        listed = await get_json(
            f"{api_base(cls.name(), cls.base_url)}/models",
            headers=request_headers(False),
            proxy=proxy,
            timeout=timeout,
            check=raise_for_gemini_status,
            params={"pageSize": str(MODEL_PAGE)},
        )
        return generating_models(listed)

    built = endpoint_class(
        GeminiProvider,
        name,
        base_url,
        models=models,
        label=label,
        hosts=(URL(base_url).host or "",),
        stream=_stream,
        list_models=list_models,
    )
    assert issubclass(built, GeminiProvider)
    return built


class GeminiProvider(EndpointProvider):
    """The base of the classes :func:`gemini` builds (not used on its own)."""

    protocol = "gemini"
