"""Anthropic's Messages API: ``POST /v1/messages`` (and ``GET /v1/models`` in its shape).

What api.anthropic.com speaks, and the vendors that serve the same protocol. Point a
client at ``http://HOST:PORT/v1`` (the official SDK: ``base_url=http://HOST:PORT``), or
at ``http://HOST:PORT/NAME/v1`` to address it by an endpoint's name. Either key header
(``x-api-key`` or ``Authorization: Bearer``) and any ``anthropic-version`` are accepted.

Streaming (``"stream": true``) answers named server-sent events: ``message_start``
(with the input tokens), for a thinking model (a name containing ``think`` or
``reason``) a ``thinking`` block streamed as ``thinking_delta`` pieces and closed with
a ``signature_delta``, a ``ping``, a ``text`` block streamed as token-sized
``text_delta`` pieces, ``message_delta`` (``stop_reason: end_turn`` and the output
tokens) and ``message_stop``. Otherwise one ``message`` object with ``usage``.

Fault addressing as for the OpenAI-compatible routes, with the name ``anthropic``.
Every mode applies, plus ``stream_error`` (an ``overloaded_error`` event after the
200), ``overloaded`` (a 529 ``overloaded_error``) and ``safety_block`` (the stream
ends with ``stop_reason: refusal`` and no text). Status faults answer with
Anthropic's error bodies (``{"type": "error", "error": {"type", "message"}}``).
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from harness.emulator.answers import answer, split_tokens
from harness.emulator.faults import ANTHROPIC, Fault, FaultSpec
from harness.emulator.pages import status_response
from harness.emulator.state import STATE
from harness.emulator.streaming import respond

MODELS = ("emulated-claude", "emulated-claude-thinking")
"""What ``GET /v1/models`` lists in Anthropic's shape; messages accept any model name."""
MESSAGES = "/v1/messages"
LIST = "/v1/models"
THOUGHT = "Let me think about what is being asked. The answer follows from the question."
"""What a thinking model thinks before it answers."""
ROLES = ("user", "assistant")


def is_thinking(model: str) -> bool:
    """Whether the emulated ``model`` thinks before it answers. Pure."""
    lowered = model.lower()
    return "think" in lowered or "reason" in lowered


def setup(app: web.Application) -> None:
    """Add the Messages route (bare and under ``/NAME``) to ``app``; the model list is
    the OpenAI route's, which answers in Anthropic's shape when asked that way."""
    app.router.add_post(MESSAGES, messages)
    app.router.add_post("/{endpoint}" + MESSAGES, messages)


def fault_name(request: web.Request) -> str:
    """The fault name addressing ``request``: its endpoint's when set, else ``anthropic``."""
    endpoint = request.match_info.get("endpoint")
    board = request.app[STATE].faults
    if endpoint is not None and endpoint in board.endpoints and board.has(endpoint):
        return endpoint
    return ANTHROPIC


def _error(status: int, kind: str, message: str) -> web.Response:
    return web.json_response(
        {"type": "error", "error": {"type": kind, "message": message}}, status=status
    )


def anthropic_status_response(spec: FaultSpec) -> web.Response:
    """The error answer of a status fault, in Anthropic's shape where the API sends one."""
    if spec.mode is Fault.http_401:
        return _error(401, "authentication_error", "invalid x-api-key")
    if spec.mode is Fault.http_429:
        response = _error(429, "rate_limit_error", "Number of requests has exceeded your limit.")
        response.headers["retry-after"] = str(spec.retry_after)
        return response
    if spec.mode is Fault.http_500:
        return _error(500, "api_error", "Internal server error")
    if spec.mode is Fault.overloaded:
        return _error(529, "overloaded_error", "Overloaded")
    return status_response(spec)


def body_error(body: Any) -> str | None:
    """Why a Messages body is unacceptable, or ``None``. Pure."""
    if not isinstance(body, dict):
        return "request body must be a JSON object"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model: Field required"
    max_tokens = body.get("max_tokens")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        return "max_tokens: Field required (a positive integer)"
    turns = body.get("messages")
    if not isinstance(turns, list) or not turns:
        return "messages: at least one message is required"
    for turn in turns:
        if not (
            isinstance(turn, dict)
            and turn.get("role") in ROLES
            and isinstance(turn.get("content"), str | list)
        ):
            return "messages: each message needs a role of user or assistant and a content"
    system = body.get("system")
    if system is not None and not isinstance(system, str | list):
        return "system: must be a string or a list of text blocks"
    if not isinstance(body.get("stream", False), bool):
        return "stream: must be a boolean"
    return None


def conversation(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The body's turns as ``{"role", "content"}`` mappings, the system prompt first. Pure."""
    system = body.get("system")
    turns = [{"role": "system", "content": system}] if system else []
    return turns + [{"role": t["role"], "content": t["content"]} for t in body["messages"]]


def usage_of(turns: list[dict[str, Any]], pieces: list[str], thought: list[str]) -> dict[str, int]:
    """Token counts the emulator reports: words asked; pieces answered and thought. Pure."""
    words = sum(len(str(t.get("content") or "").split()) for t in turns)
    return {"input_tokens": max(1, words), "output_tokens": len(pieces) + len(thought)}


class MessageEvents:
    """The framing of a streamed message (see the module docstring)."""

    content_type = "text/event-stream; charset=utf-8"

    def __init__(
        self,
        model: str,
        usage: dict[str, int],
        *,
        thought: list[str],
        error: bool = False,
        blocked: bool = False,
        named: bool = True,
    ) -> None:
        self.model = model
        self.usage = usage
        self.thought = thought
        self.error = error
        self.blocked = blocked
        self._named = named
        self._started = False
        self._id = f"msg_{secrets.token_hex(12)}"

    def _event(self, payload: dict[str, Any]) -> bytes:
        data = json.dumps(payload, separators=(",", ":"))
        if not self._named:
            return f"{data}\n\n".encode()
        return f"event: {payload['type']}\ndata: {data}\n\n".encode()

    def _start(self) -> bytes:
        if self._started:
            return b""
        self._started = True
        opening: dict[str, Any] = {
            "id": self._id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": self.usage["input_tokens"], "output_tokens": 1},
        }
        start = self._event({"type": "message_start", "message": opening})
        index = 0
        if self.thought:
            start += self._event(
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "thinking", "thinking": "", "signature": ""},
                }
            )
            for piece in self.thought:
                start += self._delta(0, {"type": "thinking_delta", "thinking": piece})
            signature = {"type": "signature_delta", "signature": secrets.token_hex(16)}
            start += self._delta(0, signature)
            start += self._event({"type": "content_block_stop", "index": 0})
            index = 1
        start += self._event({"type": "ping"})
        if not self.blocked:
            start += self._event(
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "text", "text": ""},
                }
            )
        return start

    def _delta(self, index: int, delta: dict[str, Any]) -> bytes:
        return self._event({"type": "content_block_delta", "index": index, "delta": delta})

    @property
    def _text_index(self) -> int:
        return 1 if self.thought else 0

    def record(self, text: str) -> bytes:
        """A ``text_delta`` carrying ``text`` (after the opening events, the first time)."""
        return self._start() + self._delta(self._text_index, {"type": "text_delta", "text": text})

    def end(self) -> bytes:
        """The end of the text block, ``message_delta`` and ``message_stop``; with
        ``error`` an ``overloaded_error`` event instead, with ``blocked`` a refusal."""
        start = self._start()
        if self.error:
            error = {"type": "overloaded_error", "message": "Overloaded"}
            return start + self._event({"type": "error", "error": error})
        end = (
            b""
            if self.blocked
            else self._event({"type": "content_block_stop", "index": self._text_index})
        )
        delta = {"stop_reason": "refusal" if self.blocked else "end_turn", "stop_sequence": None}
        end += self._event(
            {
                "type": "message_delta",
                "delta": delta,
                "usage": {"output_tokens": self.usage["output_tokens"]},
            }
        )
        return start + end + self._event({"type": "message_stop"})

    def drifted(self) -> MessageEvents:
        """Bare JSON lines: no ``event:`` or ``data:`` fields."""
        return MessageEvents(
            self.model, self.usage, thought=self.thought, error=self.error, named=False
        )


def message(model: str, text: str, thought: str, usage: dict[str, int]) -> dict[str, Any]:
    """The non-streaming answer: one ``message`` object. Pure."""
    content: list[dict[str, Any]] = []
    if thought:
        content.append(
            {"type": "thinking", "thinking": thought, "signature": secrets.token_hex(16)}
        )
    content.append({"type": "text", "text": text})
    return {
        "id": f"msg_{secrets.token_hex(12)}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": usage,
    }


async def messages(request: web.Request) -> web.StreamResponse:
    """A message, streamed or whole, with the addressed fault applied."""
    state = request.app[STATE]
    name = fault_name(request)
    state.requests[(name, MESSAGES)] += 1
    try:
        body = json.loads(await request.read())
    except ValueError:
        body = None
    state.bodies[(name, MESSAGES)] = body
    if (error := body_error(body)) is not None:
        return _error(400, "invalid_request_error", error)
    assert isinstance(body, dict)
    spec = state.faults.take(name)
    turns = conversation(body)
    text = answer(turns)
    pieces = split_tokens(text)
    model = body["model"]
    thought = split_tokens(THOUGHT) if is_thinking(model) else []
    usage = usage_of(turns, pieces, thought)
    if not body.get("stream", False) and spec.mode is Fault.none:
        return web.json_response(message(model, text, "".join(thought), usage))
    framing = MessageEvents(
        model,
        usage,
        thought=thought,
        error=spec.mode is Fault.stream_error,
        blocked=spec.mode is Fault.safety_block,
    )
    return await respond(request, spec, framing, pieces, errors=anthropic_status_response)


def models_document() -> dict[str, Any]:
    """The model list in Anthropic's shape (one page holding every model). Pure."""
    created = datetime(2026, 1, 1, tzinfo=UTC).isoformat().replace("+00:00", "Z")
    data = [
        {
            "type": "model",
            "id": m,
            "display_name": m.replace("-", " ").title(),
            "created_at": created,
        }
        for m in MODELS
    ]
    return {"data": data, "has_more": False, "first_id": MODELS[0], "last_id": MODELS[-1]}


async def model_list(request: web.Request) -> web.Response:
    """``GET /v1/models`` asked with ``anthropic-version``: the list in Anthropic's shape."""
    request.app[STATE].requests[(fault_name(request), LIST)] += 1
    return web.json_response(models_document())
