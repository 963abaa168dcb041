"""Providers for any OpenAI-compatible chat-completions endpoint, built at run time.

OpenRouter, Groq, Together, DeepInfra, Mistral, Ollama, vLLM, LM Studio, a LiteLLM
proxy: they all take ``POST {base_url}/chat/completions`` and stream server-sent
events. :func:`openai_compatible` returns a provider class for one of them, on the
same base as the seed providers::

    Groq = openai_compatible(
        "groq", "https://api.groq.com/openai/v1", api_key=key, models=["llama-3.3-70b-versatile"]
    )
    async for chunk in Groq.create_async_generator("", [{"role": "user", "content": "hi"}]):
        ...

The stream yields the answer's text, one :class:`FinishReason`, and a :class:`Usage`
when the endpoint reports token counts (with ``completion_tokens_details.
reasoning_tokens`` as the reasoning tokens). ``reasoning_content`` (and ``reasoning``)
deltas are yielded as :class:`Thinking`, never as answer text; comment lines,
role-only deltas and ``null`` content are skipped. An error object inside the stream
(after a 200) raises like the same error would as a status: an endpoint never passes
by breaking off politely; a ``content_filter`` finish raises
:class:`ContentFilterError`.

Errors (``{"error": {"message", "type", "code"}}`` with an HTTP status): 401/403 ->
:class:`AuthError`; 404 or code ``model_not_found`` -> :class:`ModelNotSupportedError`;
429 (and 402) -> :class:`RateLimitError` whose ``retry_after`` comes from
``Retry-After``, else the longest ``x-ratelimit-reset-*`` header; 529 or code
``overloaded``/``overloaded_error`` (what proxies in front of Anthropic pass on) ->
:class:`OverloadedError`; 5xx -> :class:`ServerError`; Cloudflare and bot pages as
for every provider.

Redirection and the API key: see :mod:`providers.endpoint`.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from email.utils import parsedate_to_datetime
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
from .http import read_error_body, status_error
from .messages import Chunk, FinishReason, Messages, Thinking, Usage
from .stream import LineTally, iter_lines

_AUTH_CODES = frozenset(
    {
        "invalid_api_key",
        "authentication_error",
        "unauthorized",
        "permission_denied",
        "permission_error",
    }
)
_MODEL_CODES = frozenset({"model_not_found", "not_found_error"})
_RATE_CODES = frozenset(
    {"rate_limit_exceeded", "rate_limit_error", "insufficient_quota", "too_many_requests"}
)
_OVERLOADED_CODES = frozenset({"overloaded", "overloaded_error"})
FILTER_REASON = "content_filter"
"""The finish reason of an answer the endpoint's filter withheld."""
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_EPOCH_FLOOR = 1_000_000_000
"""A bare number above this in a reset header is an epoch time, not a duration."""


def reset_seconds(value: str, now: float) -> float | None:
    """Seconds until a rate limit resets, from one header value. Pure.

    Accepts ``Retry-After`` forms (seconds, an HTTP date) and the ``x-ratelimit-reset-*``
    forms seen in the wild: Go-style durations (``6m0s``, ``7.66s``, ``20ms``), bare
    seconds, and epoch times in seconds or milliseconds.
    """
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        if number > _EPOCH_FLOOR * 1000:
            number = number / 1000 - now
        elif number > _EPOCH_FLOOR:
            number -= now
        return max(0.0, number)
    parts = _DURATION.findall(text)
    if parts and "".join(n + u for n, u in parts) == text:
        return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)
    try:
        return max(0.0, parsedate_to_datetime(text).timestamp() - now)
    except (TypeError, ValueError):
        return None


def retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """When to try again: ``Retry-After``, else the longest ``x-ratelimit-reset-*``. Pure."""
    lowered = {k.lower(): v for k, v in headers.items()}
    if "retry-after" in lowered:
        seconds = reset_seconds(lowered["retry-after"], now)
        if seconds is not None:
            return seconds
    resets = [
        seconds
        for key, value in lowered.items()
        if key.startswith("x-ratelimit-reset")
        and (seconds := reset_seconds(value, now)) is not None
    ]
    return max(resets) if resets else None


def error_fields(body: Any) -> tuple[str, str]:
    """``(message, code)`` of an OpenAI-style error document (code falls back to type). Pure."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, str):
        return error, ""
    if not isinstance(error, dict):
        detail = body.get("detail") if isinstance(body, dict) else None
        return (detail if isinstance(detail, str) else ""), ""
    message = error.get("message")
    code = error.get("code")
    if code is None or code == "":
        code = error.get("type")
    return (message if isinstance(message, str) else ""), ("" if code is None else str(code))


def _trim(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def endpoint_error(
    status: int, body: str, content_type: str, headers: Mapping[str, str], now: float
) -> ProviderError:
    """The exception for a non-2xx answer of an OpenAI-compatible endpoint. Pure."""
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    message, code = error_fields(document)
    if not (message or code):
        # No error object: a front's page (Cloudflare, nginx) or a bare status.
        generic = status_error(status, body, content_type, headers)
        if isinstance(generic, RateLimitError):
            generic.retry_after = retry_after(headers, now)
        elif type(generic) is ResponseStatusError and status == 404:
            return ModelNotSupportedError(str(generic))
        elif type(generic) is ResponseStatusError and status == 403:
            return AuthError(str(generic), status)
        return generic
    described = f"Response {status}: {_trim(message)}" + (f" ({code})" if code else "")
    if status == 404 or code in _MODEL_CODES:
        return ModelNotSupportedError(described)
    if status in (401, 403) or code in _AUTH_CODES:
        return AuthError(described, status)
    if status == 529 or code in _OVERLOADED_CODES:
        return OverloadedError(described, status, retry_after(headers, now))
    if status in (402, 429) or code in _RATE_CODES:
        return RateLimitError(described, status, retry_after(headers, now))
    if status >= 500:
        return ServerError(described, status)
    return ResponseStatusError(described, status)


def stream_error(error: Any) -> ProviderError:
    """The exception for an error object sent inside a 200 stream, by its code. Pure.

    A numeric code is read as an HTTP status; a known string code as its kind;
    anything else is the upstream failing on its side.
    """
    message, code = error_fields({"error": error})
    described = f"error inside the stream: {_trim(message) or '(no message)'}" + (
        f" ({code})" if code else ""
    )
    if code.isdigit() and 400 <= int(code) < 600:
        status = int(code)
        if status == 404:
            return ModelNotSupportedError(described)
        if status in (401, 403):
            return AuthError(described, status)
        if status == 529:
            return OverloadedError(described, status)
        if status in (402, 429):
            return RateLimitError(described, status)
        if status >= 500:
            return ServerError(described, status)
        return ResponseStatusError(described, status)
    if code in _MODEL_CODES:
        return ModelNotSupportedError(described)
    if code in _OVERLOADED_CODES:
        return OverloadedError(described, 200)
    if code in _AUTH_CODES:
        return AuthError(described, 200)
    if code in _RATE_CODES:
        return RateLimitError(described, 200)
    return ServerError(described, 200)


def usage_of(document: Any) -> Usage | None:
    """The ``usage`` object of a chunk or completion, when it carries token counts. Pure."""
    usage = document.get("usage") if isinstance(document, dict) else None
    if not isinstance(usage, dict):
        return None

    def count(key: str) -> int | None:
        value = usage.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    details = usage.get("completion_tokens_details")
    reasoning = details.get("reasoning_tokens") if isinstance(details, dict) else None
    found = Usage(
        count("prompt_tokens"),
        count("completion_tokens"),
        reasoning if isinstance(reasoning, int) and not isinstance(reasoning, bool) else None,
    )
    return found if found != Usage() else None


def filtered(reason: str, said: str) -> ContentFilterError:
    """The error for an answer the endpoint's filter withheld, quoting what came back."""
    return ContentFilterError(
        f"the endpoint's content filter withheld the answer (finish_reason {reason})",
        200,
        body=said or None,
    )


def delta_chunks(delta: Any) -> list[Chunk]:
    """The reasoning and the answer text of one delta (or message), in that order. Pure."""
    if not isinstance(delta, dict):
        return []
    found: list[Chunk] = []
    for key in ("reasoning_content", "reasoning"):
        thought = delta.get(key)
        if isinstance(thought, str) and thought:
            found.append(Thinking(thought))
            break
    content = delta.get("content")
    if isinstance(content, str) and content:
        found.append(content)
    return found


def _choice(document: dict[str, Any]) -> dict[str, Any]:
    choices = document.get("choices")
    first = choices[0] if isinstance(choices, list) and choices else None
    return first if isinstance(first, dict) else {}


async def iter_completion_chunks(
    response: aiohttp.ClientResponse, tally: LineTally
) -> AsyncIterator[Chunk]:
    """Text, the finish reason and usage of a streamed chat completion (see module doc)."""
    finished = False
    said: list[str] = []
    async for raw in iter_lines(response):
        line = raw.strip()
        if not line or line.startswith(b":") or line.startswith((b"event:", b"id:", b"retry:")):
            continue
        if not line.startswith(b"data:"):
            tally.lines += 1
            tally.skipped += 1
            continue
        payload = line[5:].strip()
        if payload == b"[DONE]":
            break
        event = tally.decode_json(payload)
        if not isinstance(event, dict):
            continue
        if event.get("error"):
            raise stream_error(event["error"])
        choice = _choice(event)
        for chunk in delta_chunks(choice.get("delta") or choice.get("message")):
            tally.texts += 1
            if isinstance(chunk, str):
                said.append(chunk)
            yield chunk
        reason = choice.get("finish_reason")
        if reason == FILTER_REASON:
            raise filtered(reason, "".join(said))
        if isinstance(reason, str) and reason and not finished:
            finished = True
            yield FinishReason(reason)
        if (usage := usage_of(event)) is not None:
            tally.texts += 1  # a usage-only stream is not an undecodable one
            yield usage
    tally.check_end()


def completion_chunks(document: Any) -> list[Chunk]:
    """The items of a whole (non-streamed) chat completion. Pure."""
    if not isinstance(document, dict):
        raise ProtocolError("the completion is not a JSON object")
    if document.get("error"):
        raise stream_error(document["error"])
    choice = _choice(document)
    items = delta_chunks(choice.get("message"))
    reason = choice.get("finish_reason")
    if reason == FILTER_REASON:
        raise filtered(reason, "".join(c for c in items if isinstance(c, str)))
    if isinstance(reason, str) and reason:
        items.append(FinishReason(reason))
    if (usage := usage_of(document)) is not None:
        items.append(usage)
    return items


def openai_compatible(
    name: str,
    base_url: str,
    *,
    api_key: str | None = None,
    api_key_env: str | None = None,
    models: Sequence[str] = (),
    headers: Mapping[str, str] | None = None,
    max_tokens: int | None = None,
    label: str | None = None,
) -> type[OpenAICompatibleProvider]:
    """A provider class for the OpenAI-compatible endpoint at ``base_url`` (``.../v1``).

    ``name`` is its registry name (letters, digits, ``_``, ``-``); ``api_key`` is sent as
    ``Authorization: Bearer`` when given; ``api_key_env`` instead names the environment
    variable read for the key at each request (unset: the call fails with
    :class:`MissingRequirementsError` before sending anything); ``models`` are probed
    (the first is the default; empty: set later with ``set_models``, e.g. after
    ``list_models``);
    ``headers`` go with every request; ``max_tokens`` caps each answer (a call may pass
    its own). ``ValueError`` for a malformed name or base URL.
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
            sent["Authorization"] = f"Bearer {key}"
        return sent

    async def _stream(
        cls: type[OpenAICompatibleProvider],
        model: str,
        messages: Messages,
        *,
        proxy: str | None,
        stream: bool,
        timeout: float | None,
        max_tokens: int | None = None,
    ) -> AsyncGenerator[Chunk, None]:
        body: dict[str, Any] = {"model": model, "messages": messages, "stream": stream}
        if stream:
            body["stream_options"] = {"include_usage": True}
        cap = max_tokens if max_tokens is not None else default_max_tokens
        if cap is not None:
            body["max_tokens"] = cap
        async for chunk in post_for_chunks(
            f"{api_base(cls.name(), cls.base_url)}/chat/completions",
            body,
            headers=request_headers(stream),
            proxy=proxy,
            timeout=timeout,
            stream=stream,
            check=raise_for_endpoint_status,
            streamed=iter_completion_chunks,
            whole=completion_chunks,
        ):
            yield chunk

    async def list_models(
        cls: type[OpenAICompatibleProvider],
        *,
        proxy: str | None = None,
        timeout: float | None = 30.0,
    ) -> list[str]:
        listed = await get_json(
            f"{api_base(cls.name(), cls.base_url)}/models",
            headers=request_headers(False),
            proxy=proxy,
            timeout=timeout,
            check=raise_for_endpoint_status,
        )
        return model_ids(listed)

    built = endpoint_class(
        OpenAICompatibleProvider,
        name,
        base_url,
        models=models,
        label=label,
        hosts=(URL(base_url).host or "",),
        stream=_stream,
        list_models=list_models,
    )
    assert issubclass(built, OpenAICompatibleProvider)
    return built


class OpenAICompatibleProvider(EndpointProvider):
    """The base of the classes :func:`openai_compatible` builds (not used on its own)."""

    protocol = "openai"


def model_ids(document: Any) -> list[str]:
    """The model ids of a ``/models`` answer (``{"data": [{"id": ...}]}``). Pure."""
    entries = document.get("data") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ProtocolError("the model list has no 'data' array")
    return [e["id"] for e in entries if isinstance(e, dict) and isinstance(e.get("id"), str)]


async def raise_for_endpoint_status(response: aiohttp.ClientResponse) -> None:
    """Raise the matching error (see the module doc) when ``response`` is not 2xx."""
    if 200 <= response.status < 300:
        return
    body = await read_error_body(response)
    raise endpoint_error(
        response.status, body, response.content_type, response.headers, time.time()
    )
