"""An OpenAI-compatible upstream: ``POST /v1/chat/completions`` and ``GET /v1/models``.

What OpenRouter, Groq, Ollama, vLLM and LM Studio speak, so that configured endpoints
(and gpt4free's OpenAI-style providers) can be probed offline. Point a client at
``http://HOST:PORT/v1``, or at ``http://HOST:PORT/NAME/v1`` to address it by name.

Streaming (``"stream": true``) answers server-sent events: a ``: keep-alive``
comment, a role-only delta, the answer in several small content deltas (a
``reasoning_content`` delta first when the model's name contains ``reason``), a
finish chunk (``finish_reason: stop``), a usage chunk when the request asked for
``stream_options.include_usage``, and ``data: [DONE]``. Otherwise one
``chat.completion`` JSON object with ``usage``. Any model name is accepted;
``/v1/models`` lists :data:`MODELS`.

Fault addressing: requests under ``/v1/...`` take the fault set for the name
``openai``; requests under ``/NAME/v1/...`` take the fault set for ``NAME`` when
``NAME`` is one of the emulator's ``endpoints`` and has a fault set, else the one
for ``openai``. So ``--fault openai=http_429`` throttles every OpenAI-compatible
route, and ``--fault groq=http_500`` (with ``groq`` among the endpoints, as
``--sandbox`` arranges for declared endpoints) only ``/groq/v1/...``. Faults apply
to chat completions (every mode, plus ``stream_error``: an error object inside the
stream after a 200; ``overloaded``: a 503 with code ``overloaded``; ``safety_block``:
the stream ends with ``finish_reason: content_filter`` and no text); ``/v1/models``
always answers, in Anthropic's shape when the request sends ``anthropic-version``.
Status faults answer with OpenAI-shaped error bodies (a Cloudflare page and nginx
pages for 403, 502, 503, as the fronts of real APIs send them).
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from aiohttp import web

from harness.emulator.answers import answer
from harness.emulator.anthropic import model_list as anthropic_models
from harness.emulator.faults import OPENAI, Fault, FaultSpec
from harness.emulator.pages import status_response
from harness.emulator.state import STATE
from harness.emulator.streaming import respond

MODELS = ("emulated-chat", "emulated-mini", "emulated-reasoning")
"""What ``GET /v1/models`` lists; chat completions accept any model name."""
PIECE_CHARS = 3
"""The answer is streamed in pieces of at most this many characters."""
ROLES = ("system", "user", "assistant", "tool", "developer")
STREAM_ERROR = {
    "message": "The server had an error while processing your request.",
    "type": "server_error",
    "code": "server_error",
}
"""The error object sent inside the stream by the ``stream_error`` fault."""
CHAT = "/v1/chat/completions"
LIST = "/v1/models"


def base_url(emulator_url: str, endpoint: str | None = None) -> str:
    """The OpenAI-compatible base URL of the emulator at ``emulator_url``: ``URL/v1``, or
    ``URL/ENDPOINT/v1`` (addressed by that endpoint's faults)."""
    root = emulator_url.rstrip("/")
    return f"{root}/{endpoint}/v1" if endpoint else f"{root}/v1"


def setup(app: web.Application) -> None:
    """Add the OpenAI-compatible routes (bare and under ``/NAME``) to ``app``."""
    app.router.add_post(CHAT, chat)
    app.router.add_get(LIST, models)
    app.router.add_post("/{endpoint}" + CHAT, chat)
    app.router.add_get("/{endpoint}" + LIST, models)


def fault_name(request: web.Request, family: str = OPENAI) -> str:
    """The fault name addressing ``request`` (see the module docstring): its endpoint's,
    when that has a fault set, else its protocol's (``family``)."""
    endpoint = request.match_info.get("endpoint")
    board = request.app[STATE].faults
    if endpoint is not None and endpoint in board.endpoints and board.has(endpoint):
        return endpoint
    return family


def _error(status: int, message: str, kind: str, code: str | None) -> web.Response:
    return web.json_response(
        {"error": {"message": message, "type": kind, "param": None, "code": code}}, status=status
    )


def openai_status_response(spec: FaultSpec) -> web.Response:
    """The error answer of a status fault, in OpenAI's shape where an API would send it."""
    if spec.mode is Fault.http_401:
        return _error(
            401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
        )
    if spec.mode is Fault.http_429:
        response = _error(
            429, "Rate limit reached for requests.", "requests", "rate_limit_exceeded"
        )
        response.headers["Retry-After"] = str(spec.retry_after)
        response.headers["x-ratelimit-reset-requests"] = f"{spec.retry_after}s"
        return response
    if spec.mode is Fault.http_500:
        return _error(500, STREAM_ERROR["message"], "server_error", None)
    if spec.mode is Fault.overloaded:
        return _error(503, "The engine is currently overloaded.", "server_error", "overloaded")
    return status_response(spec)


def body_error(body: Any) -> str | None:
    """Why a chat-completions body is unacceptable, or ``None``. Pure."""
    if not isinstance(body, dict):
        return "request body must be a JSON object"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model must be a non-empty string"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages must be a non-empty list"
    for message in messages:
        if not (
            isinstance(message, dict)
            and message.get("role") in ROLES
            and (message.get("content") is None or isinstance(message["content"], str | list))
        ):
            return "each message must be an object with a known role and a content"
    if not isinstance(body.get("stream", False), bool):
        return "stream must be a boolean"
    max_tokens = body.get("max_tokens")
    if max_tokens is not None and (
        isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1
    ):
        return "max_tokens must be a positive integer"
    options = body.get("stream_options")
    if options is not None and not isinstance(options, dict):
        return "stream_options must be an object"
    return None


def split_small(text: str) -> list[str]:
    """``text`` in pieces of at most :data:`PIECE_CHARS` characters (joined, the text)."""
    return [text[i : i + PIECE_CHARS] for i in range(0, len(text), PIECE_CHARS)]


REASONING = "Thinking it over."
"""What a reasoning model thinks aloud (one ``reasoning_content`` delta)."""


def usage_of(
    messages: list[dict[str, Any]], pieces: list[str], *, reasoning: bool = False
) -> dict[str, Any]:
    """Token counts the emulator reports: words asked, pieces answered (and thought, as
    ``completion_tokens_details.reasoning_tokens``, for a reasoning model). Pure."""
    words = sum(len(str(m.get("content") or "").split()) for m in messages)
    thought = len(split_small(REASONING)) if reasoning else 0
    prompt, completion = max(1, words), len(pieces) + thought
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    if reasoning:
        usage["completion_tokens_details"] = {"reasoning_tokens": thought}
    return usage


class CompletionChunks:
    """The framing of a streamed chat completion (see the module docstring)."""

    content_type = "text/event-stream; charset=utf-8"

    def __init__(
        self,
        model: str,
        usage: dict[str, Any] | None,
        *,
        reasoning: bool = False,
        error: bool = False,
        blocked: bool = False,
        prefix: bool = True,
    ) -> None:
        self.model = model
        self.usage = usage
        self.reasoning = reasoning
        self.error = error
        self.blocked = blocked
        self._prefix = prefix
        self._started = False
        self._id = f"chatcmpl-{secrets.token_hex(12)}"
        self._created = int(time.time())

    def _event(self, payload: str) -> bytes:
        return f"{'data: ' if self._prefix else ''}{payload}\n\n".encode()

    def _chunk(self, delta: dict[str, Any] | None, finish_reason: str | None = None) -> bytes:
        """A chat.completion.chunk; ``delta=None``: the usage chunk (no choices)."""
        chunk: dict[str, Any] = {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": self.model,
            "choices": [],
        }
        if delta is None:
            chunk["usage"] = self.usage
        else:
            chunk["choices"] = [{"index": 0, "delta": delta, "finish_reason": finish_reason}]
        return self._event(json.dumps(chunk, separators=(",", ":")))

    def _start(self) -> bytes:
        if self._started:
            return b""
        self._started = True
        start = b": keep-alive\n\n" + self._chunk({"role": "assistant", "content": None})
        if self.reasoning:
            start += self._chunk({"reasoning_content": REASONING})
        return start

    def record(self, text: str) -> bytes:
        """A chunk whose delta carries ``text`` (after the opening events, the first time)."""
        return self._start() + self._chunk({"content": text})

    def end(self) -> bytes:
        """The finish chunk, the usage chunk when asked for, and ``[DONE]``.

        With ``error``: an error object instead, and no ``[DONE]``.
        """
        if self.error:
            return self._start() + self._event(json.dumps({"error": STREAM_ERROR}))
        end = self._start() + self._chunk({}, "content_filter" if self.blocked else "stop")
        if self.usage is not None:
            end += self._chunk(None)
        return end + self._event("[DONE]")

    def drifted(self) -> CompletionChunks:
        """Bare JSON lines, without the ``data: `` prefix."""
        return CompletionChunks(self.model, self.usage, reasoning=self.reasoning, prefix=False)


def completion(
    model: str, text: str, usage: dict[str, Any], *, reasoning: bool = False
) -> dict[str, Any]:
    """The non-streaming answer: one ``chat.completion`` object. Pure."""
    message = {"role": "assistant", "content": text}
    if reasoning:
        message["reasoning_content"] = REASONING
    return {
        "id": f"chatcmpl-{secrets.token_hex(12)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "stop",
            }
        ],
        "usage": usage,
    }


async def chat(request: web.Request) -> web.StreamResponse:
    """A chat completion, streamed or whole, with the addressed fault applied."""
    state = request.app[STATE]
    name = fault_name(request)
    state.requests[(name, CHAT)] += 1
    try:
        body = json.loads(await request.read())
    except ValueError:
        body = None
    state.bodies[(name, CHAT)] = body
    if (error := body_error(body)) is not None:
        return _error(400, error, "invalid_request_error", None)
    assert isinstance(body, dict)
    spec = state.faults.take(name)
    text = answer(body["messages"])
    pieces = split_small(text)
    model = body["model"]
    reasoning = "reason" in model.lower()
    usage = usage_of(body["messages"], pieces, reasoning=reasoning)
    if not body.get("stream", False) and spec.mode is Fault.none:
        return web.json_response(completion(model, text, usage, reasoning=reasoning))
    options = body.get("stream_options") or {}
    framing = CompletionChunks(
        model,
        usage if options.get("include_usage") else None,
        reasoning=reasoning,
        error=spec.mode is Fault.stream_error,
        blocked=spec.mode is Fault.safety_block,
    )
    return await respond(request, spec, framing, pieces, errors=openai_status_response)


async def models(request: web.Request) -> web.Response:
    """The model list, in OpenAI's ``{"object": "list", "data": [...]}`` shape, or in
    Anthropic's when the request sends ``anthropic-version``."""
    state = request.app[STATE]
    if "anthropic-version" in request.headers:
        return await anthropic_models(request)
    state.requests[(fault_name(request), LIST)] += 1
    created = int(time.time())
    return web.json_response(
        {
            "object": "list",
            "data": [
                {"id": m, "object": "model", "created": created, "owned_by": "emulator"}
                for m in MODELS
            ],
        }
    )
