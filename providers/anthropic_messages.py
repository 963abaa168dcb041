"""Providers for endpoints that speak Anthropic's Messages API, built at run time.

Anthropic, and the vendors that serve the same protocol, take ``POST {base_url}/messages``
(``base_url`` ending in ``/v1``) with the key in ``x-api-key`` and ``anthropic-version``;
:func:`anthropic_messages` returns a provider class for one of them::

    Claude = anthropic_messages(
        "claude", "https://api.anthropic.com/v1", api_key_env="ANTHROPIC_API_KEY",
        models=["claude-haiku-4-5"],
    )

The stream (server-sent events) is read by :class:`MessageStream`: ``message_start``
gives the input tokens, ``content_block_delta`` carries ``text_delta`` (the answer)
and ``thinking_delta`` (yielded as :class:`Thinking`, never as answer text),
``message_delta`` the stop reason and the running output token count, ``message_stop``
ends it; ``ping``, ``content_block_start``/``stop``, other delta kinds and unknown event
types are tolerated. An ``error`` event after the 200 raises like the same error as a
status (``overloaded_error`` -> :class:`OverloadedError`); a ``refusal`` stop raises
:class:`ContentFilterError` quoting what was said before it.

Errors as statuses (``{"type": "error", "error": {"type", "message"}}``) map as for
OpenAI-compatible endpoints (:func:`providers.openai_compatible.endpoint_error`): 401/403
auth, 404 model, 429 rate limit, 529 ``overloaded_error`` overloaded, 5xx server.
Discovery: ``GET {base_url}/models``.
"""

from __future__ import annotations

import json
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
from .errors import ContentFilterError, ProtocolError
from .messages import Chunk, FinishReason, Messages, Thinking, Usage
from .openai_compatible import model_ids, raise_for_endpoint_status, stream_error
from .stream import LineTally, iter_lines

VERSION = "2023-06-01"
"""The ``anthropic-version`` header sent with every request."""
DEFAULT_MAX_TOKENS = 1024
"""The Messages API requires ``max_tokens``; this when neither the settings nor the call
give one."""
REFUSAL = "refusal"
"""The stop reason of an answer the model's safety training withheld."""
MODEL_PAGE = 1000
"""Models asked for per page of ``GET /models`` (the API's largest page)."""


def _count(document: Any, key: str) -> int | None:
    value = document.get(key) if isinstance(document, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def refused(said: str, event: Any) -> ContentFilterError:
    """The error for an answer the model refused, quoting what it said first (else the
    event that refused)."""
    return ContentFilterError(
        f"the model refused to answer (stop_reason {REFUSAL})",
        200,
        body=said or json.dumps(event, ensure_ascii=False)[:2000],
    )


class MessageStream:
    """The state of one streamed message: :meth:`feed` each event's JSON in order.

    Pure apart from its own state, so that any sequence of events can be fed to it.
    """

    def __init__(self) -> None:
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.said: list[str] = []
        self.finished = False
        self.stopped = False

    def _usage(self, usage: Any) -> Usage | None:
        # message_delta's counts are cumulative: the latest of each stands.
        for key in ("input_tokens", "output_tokens"):
            if (count := _count(usage, key)) is not None:
                setattr(self, key, count)
        if self.input_tokens is None and self.output_tokens is None:
            return None
        return Usage(self.input_tokens, self.output_tokens)

    def feed(self, event: Any) -> list[Chunk]:
        """The items one event yields; raises for ``error`` events and refusals."""
        if not isinstance(event, dict):
            return []
        kind = event.get("type")
        if kind == "error":
            raise stream_error(event.get("error"))
        if kind == "message_start":
            message = event.get("message")
            usage = self._usage(message.get("usage") if isinstance(message, dict) else None)
            return [usage] if usage is not None else []
        if kind == "content_block_delta":
            return self._delta(event.get("delta"))
        if kind == "message_delta":
            return self._message_delta(event)
        if kind == "message_stop":
            self.stopped = True
        return []

    def _delta(self, delta: Any) -> list[Chunk]:
        if not isinstance(delta, dict):
            return []
        if delta.get("type") == "text_delta":
            text = delta.get("text")
            if isinstance(text, str) and text:
                self.said.append(text)
                return [text]
        elif delta.get("type") == "thinking_delta":
            thought = delta.get("thinking")
            if isinstance(thought, str) and thought:
                return [Thinking(thought)]
        return []

    def _message_delta(self, event: dict[str, Any]) -> list[Chunk]:
        found: list[Chunk] = []
        delta = event.get("delta")
        reason = delta.get("stop_reason") if isinstance(delta, dict) else None
        if reason == REFUSAL:
            raise refused("".join(self.said), event)
        if isinstance(reason, str) and reason and not self.finished:
            self.finished = True
            found.append(FinishReason(reason))
        usage = self._usage(event.get("usage"))
        if usage is not None:
            found.append(usage)
        return found


async def iter_message_chunks(
    response: aiohttp.ClientResponse, tally: LineTally
) -> AsyncIterator[Chunk]:
    """Text, thinking, the stop reason and usage of a streamed message (see module doc)."""
    message = MessageStream()
    async for raw in iter_lines(response):
        line = raw.strip()
        if not line or line.startswith(b":") or line.startswith((b"event:", b"id:", b"retry:")):
            continue
        if not line.startswith(b"data:"):
            tally.lines += 1
            tally.skip(line)
            continue
        event = tally.decode_json(line[5:].strip())
        for chunk in message.feed(event):
            # message_start's usage comes before anything can go wrong: it alone does not
            # make a stream of unreadable lines a readable one.
            if not isinstance(chunk, Usage) or message.finished:
                tally.texts += 1
            yield chunk
        if message.stopped:
            break
    tally.check_end()


def message_chunks(document: Any) -> list[Chunk]:
    """The items of a whole (non-streamed) message. Pure."""
    if not isinstance(document, dict):
        raise ProtocolError("the message is not a JSON object")
    if document.get("type") == "error":
        raise stream_error(document.get("error"))
    items: list[Chunk] = []
    blocks = document.get("content")
    for block in blocks if isinstance(blocks, list) else []:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "thinking" and isinstance(block.get("thinking"), str):
            items.append(Thinking(block["thinking"]))
        elif block.get("type") == "text" and isinstance(block.get("text"), str):
            items.append(block["text"])
    reason = document.get("stop_reason")
    if reason == REFUSAL:
        raise refused("".join(i for i in items if isinstance(i, str)), document)
    if isinstance(reason, str) and reason:
        items.append(FinishReason(reason))
    usage = document.get("usage")
    if _count(usage, "input_tokens") is not None or _count(usage, "output_tokens") is not None:
        items.append(Usage(_count(usage, "input_tokens"), _count(usage, "output_tokens")))
    return items


def request_body(
    model: str, messages: Messages, *, stream: bool, max_tokens: int
) -> dict[str, Any]:
    """The Messages API body: system turns go in ``system``, the rest in ``messages``. Pure."""
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": max_tokens,
        "messages": [
            {"role": m["role"], "content": m["content"]} for m in messages if m["role"] != "system"
        ],
        "stream": stream,
    }
    if system:
        body["system"] = system
    return body


def anthropic_messages(
    name: str,
    base_url: str,
    *,
    api_key: str | None = None,
    api_key_env: str | None = None,
    models: Sequence[str] = (),
    headers: Mapping[str, str] | None = None,
    max_tokens: int | None = None,
    label: str | None = None,
) -> type[AnthropicMessagesProvider]:
    """A provider class for the Anthropic Messages endpoint at ``base_url`` (``.../v1``).

    The arguments are those of :func:`providers.openai_compatible.openai_compatible`; the
    key goes in ``x-api-key``, and ``max_tokens`` (required by the protocol) defaults to
    :data:`DEFAULT_MAX_TOKENS`.
    """
    check_endpoint(name, base_url, max_tokens)
    fixed_headers = dict(headers or {})
    default_max_tokens = max_tokens or DEFAULT_MAX_TOKENS
    read_key = key_reader(name, api_key, api_key_env)

    def request_headers(stream: bool) -> dict[str, str]:
        key = read_key()
        sent = {
            "Content-Type": "application/json",
            "Accept": "text/event-stream" if stream else "application/json",
            "anthropic-version": VERSION,
            **fixed_headers,
        }
        if key:
            sent["x-api-key"] = key
        return sent

    async def _stream(
        cls: type[AnthropicMessagesProvider],
        model: str,
        messages: Messages,
        *,
        proxy: str | None,
        stream: bool,
        timeout: float | None,
        max_tokens: int | None = None,
    ) -> AsyncGenerator[Chunk, None]:
        body = request_body(
            model, messages, stream=stream, max_tokens=max_tokens or default_max_tokens
        )
        async for chunk in post_for_chunks(
            f"{api_base(cls.name(), cls.base_url)}/messages",
            body,
            headers=request_headers(stream),
            proxy=proxy,
            timeout=timeout,
            stream=stream,
            check=raise_for_endpoint_status,
            streamed=iter_message_chunks,
            whole=message_chunks,
        ):
            yield chunk

    async def list_models(
        cls: type[AnthropicMessagesProvider],
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
            params={"limit": str(MODEL_PAGE)},
        )
        return model_ids(listed)

    built = endpoint_class(
        AnthropicMessagesProvider,
        name,
        base_url,
        models=models,
        label=label,
        hosts=(URL(base_url).host or "",),
        stream=_stream,
        list_models=list_models,
    )
    assert issubclass(built, AnthropicMessagesProvider)
    return built


class AnthropicMessagesProvider(EndpointProvider):
    """The base of the classes :func:`anthropic_messages` builds (not used on its own)."""

    protocol = "anthropic"
