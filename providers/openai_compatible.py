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
when the endpoint reports token counts. Comment lines, role-only deltas, ``null``
content and ``reasoning_content`` deltas carry no answer text and are skipped. An
error object inside the stream (after a 200) raises like the same error would as a
status: an endpoint never passes by breaking off politely.

Errors (``{"error": {"message", "type", "code"}}`` with an HTTP status): 401/403 ->
:class:`AuthError`; 404 or code ``model_not_found`` -> :class:`ModelNotSupportedError`;
429 (and 402) -> :class:`RateLimitError` whose ``retry_after`` comes from
``Retry-After``, else the longest ``x-ratelimit-reset-*`` header; 5xx ->
:class:`ServerError`; Cloudflare and bot pages as for every provider.

Redirection (``providers.upstream``): a base set for this provider's own name
replaces the whole ``base_url`` (the emulator serves ``/NAME/v1``); a global base
keeps the base URL's path, as for the seed providers.

The API key lives only inside the class's request function, never in an attribute,
so no listing, repr or serialisation of the class can show it.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

import aiohttp
from yarl import URL

from . import upstream
from .base import AsyncGeneratorProvider, ProviderModelMixin
from .errors import (
    AuthError,
    MissingRequirementsError,
    ModelNotSupportedError,
    ProtocolError,
    ProviderError,
    RateLimitError,
    ResponseStatusError,
    ServerError,
)
from .http import client_session, read_error_body, read_small_json, status_error
from .messages import Chunk, FinishReason, Messages, Usage
from .stream import LineTally, iter_lines

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
"""An endpoint's name: it names a provider, a badge file and a URL path segment."""

_AUTH_CODES = frozenset(
    {"invalid_api_key", "authentication_error", "unauthorized", "permission_denied"}
)
_RATE_CODES = frozenset(
    {"rate_limit_exceeded", "rate_limit_error", "insufficient_quota", "too_many_requests"}
)
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
    if status == 404 or code == "model_not_found":
        return ModelNotSupportedError(described)
    if status in (401, 403) or code in _AUTH_CODES:
        return AuthError(described, status)
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
        if status in (402, 429):
            return RateLimitError(described, status)
        if status >= 500:
            return ServerError(described, status)
        return ResponseStatusError(described, status)
    if code == "model_not_found":
        return ModelNotSupportedError(described)
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

    found = Usage(count("prompt_tokens"), count("completion_tokens"))
    return found if found != Usage() else None


def _choice(document: dict[str, Any]) -> dict[str, Any]:
    choices = document.get("choices")
    first = choices[0] if isinstance(choices, list) and choices else None
    return first if isinstance(first, dict) else {}


async def iter_completion_chunks(
    response: aiohttp.ClientResponse, tally: LineTally
) -> AsyncIterator[Chunk]:
    """Text, the finish reason and usage of a streamed chat completion (see module doc)."""
    finished = False
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
        delta = choice.get("delta") or choice.get("message") or {}
        content = delta.get("content") if isinstance(delta, dict) else None
        if isinstance(content, str) and content:
            tally.texts += 1
            yield content
        reason = choice.get("finish_reason")
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
    message = choice.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    items: list[Chunk] = [content] if isinstance(content, str) and content else []
    reason = choice.get("finish_reason")
    if isinstance(reason, str) and reason:
        items.append(FinishReason(reason))
    if (usage := usage_of(document)) is not None:
        items.append(usage)
    return items


def api_base(provider: str, base_url: str) -> str:
    """Where ``provider``'s requests go under the redirection in force (see module doc)."""
    own = upstream.own_base(provider)
    if own:
        return own.rstrip("/")
    return upstream.resolve(provider, base_url.rstrip("/"))


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
    if not NAME_PATTERN.fullmatch(name):
        raise ValueError(f"endpoint name {name!r} must be letters, digits, '_' or '-' (at most 64)")
    upstream.validate_base(base_url)
    if max_tokens is not None and max_tokens < 1:
        raise ValueError(f"max_tokens must be positive, got {max_tokens}")
    fixed_headers = dict(headers or {})
    default_max_tokens = max_tokens

    def request_headers(stream: bool) -> dict[str, str]:
        key = api_key
        if api_key_env is not None:
            key = os.environ.get(api_key_env)
            if not key:
                raise MissingRequirementsError(
                    f"the environment variable {api_key_env} (the API key of {name}) is not set"
                )
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
        url = f"{api_base(cls.name(), cls.base_url)}/chat/completions"
        async with (
            client_session(headers=request_headers(stream), proxy=proxy, timeout=timeout) as s,
            s.post(url, json=body) as response,
        ):
            await raise_for_endpoint_status(response)
            # Some servers stream events under another content type; a JSON answer to a
            # streaming request is a server that ignored ``stream``.
            if stream and response.content_type != "application/json":
                async for chunk in iter_completion_chunks(response, LineTally()):
                    yield chunk
            else:
                for chunk in completion_chunks(await read_small_json(response)):
                    yield chunk

    async def list_models(
        cls: type[OpenAICompatibleProvider],
        *,
        proxy: str | None = None,
        timeout: float | None = 30.0,
    ) -> list[str]:
        url = f"{api_base(cls.name(), cls.base_url)}/models"
        async with (
            client_session(headers=request_headers(False), proxy=proxy, timeout=timeout) as s,
            s.get(url) as response,
        ):
            await raise_for_endpoint_status(response)
            return model_ids(await read_small_json(response))

    namespace: dict[str, Any] = {
        "__module__": __name__,
        "__doc__": f"The OpenAI-compatible endpoint {name!r} at {base_url}.",
        "label": label or name,
        "url": base_url,
        "base_url": base_url,
        "models": list(dict.fromkeys(models)),
        "default_model": models[0] if models else "",
        "upstream_hosts": (URL(base_url).host or "",),
        "_stream": classmethod(_stream),
        "list_models": classmethod(list_models),
    }
    return type(name, (OpenAICompatibleProvider,), namespace)


class OpenAICompatibleProvider(AsyncGeneratorProvider, ProviderModelMixin):
    """The base of the classes :func:`openai_compatible` builds (not used on its own)."""

    working = False
    supports_stream = True
    supports_system_message = True
    supports_message_history = True
    base_url: ClassVar[str] = ""

    list_models: ClassVar[Callable[..., Any]]
    """``await cls.list_models(proxy=None, timeout=30.0)``: the ids ``GET {base}/models`` lists."""

    @classmethod
    def set_models(cls, models: Sequence[str]) -> None:
        """Probe ``models`` from now on (the first is the default), e.g. after discovery."""
        cls.models = list(dict.fromkeys(models))
        cls.default_model = cls.models[0] if cls.models else ""

    @classmethod
    def _stream(
        cls,
        model: str,
        messages: Messages,
        *,
        proxy: str | None,
        stream: bool,
        timeout: float | None,
        max_tokens: int | None = None,
    ) -> AsyncGenerator[Chunk, None]:
        raise NotImplementedError


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
