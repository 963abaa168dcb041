"""The AutonomousAI upstream: four endpoints, base64 messages in, OpenAI-style SSE out."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from aiohttp import web

from harness.emulator.answers import answer, split_tokens
from harness.emulator.sse import ChatCompletionEvents
from harness.emulator.state import INVALID_JSON, STATE, Handler, add_route, json_body
from harness.emulator.streaming import respond

NAME = "AutonomousAI"
ENDPOINTS = {
    "/api/v1/ai/chat": ("llama", "qwen_coder"),
    "/api/v1/ai/chat-hermes": ("hermes",),
    "/api/v1/ai/chat-vision": ("vision",),
    "/api/v1/ai/summary": ("summary",),
}
"""Path -> the ``aiAgent`` values it serves."""
ROLES = ("system", "user", "assistant")


def setup(app: web.Application) -> None:
    """Add the AutonomousAI routes to ``app``."""
    for path, agents in ENDPOINTS.items():
        add_route(app, NAME, "POST", path, _chat_for(agents))


def decode_body(body: Any, agents: tuple[str, ...]) -> tuple[list[dict[str, Any]], str] | str:
    """``(messages, agent)`` from a request body, or why it is unacceptable. Pure."""
    if body is INVALID_JSON or not isinstance(body, dict):
        return "request body must be a JSON object"
    if not isinstance(body.get("messages"), str):
        return "messages must be a base64 string"
    try:
        messages = json.loads(base64.b64decode(body["messages"], validate=True).decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return "messages must be base64 of a UTF-8 JSON list"
    if (
        not isinstance(messages, list)
        or not messages
        or not all(
            isinstance(m, dict)
            and m.get("role") in ROLES
            and isinstance(m.get("content"), str | list)
            for m in messages
        )
    ):
        return "messages must be a non-empty list of {role, content}"
    if not isinstance(body.get("threadId"), str):
        return "threadId must be a string"
    if not isinstance(body.get("stream", False), bool):
        return "stream must be a boolean"
    agent = body.get("aiAgent")
    if agent not in agents:
        return f"aiAgent must be one of {', '.join(agents)} on this endpoint"
    return messages, agent


def _chat_for(agents: tuple[str, ...]) -> Handler:
    async def chat(request: web.Request) -> web.StreamResponse:
        """The answer as chat.completion.chunk events (one chunk when not streaming)."""
        body = await json_body(request)
        decoded = decode_body(body, agents)
        if isinstance(decoded, str):
            return web.json_response(
                {"statusCode": 400, "message": decoded, "error": "Bad Request"}, status=400
            )
        messages, agent = decoded
        spec = request.app[STATE].faults.take(NAME)
        text = answer(messages)
        pieces = split_tokens(text) if body.get("stream") else [text]
        return await respond(request, spec, ChatCompletionEvents(agent), pieces)

    return chat
