"""The CodeLinkAva upstream: an OpenAI-style chat body in, SSE out, on ``/api/chat``."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from harness.emulator.answers import answer, split_tokens
from harness.emulator.sse import ChatCompletionEvents
from harness.emulator.state import INVALID_JSON, STATE, add_route, json_body
from harness.emulator.streaming import respond

NAME = "CodeLinkAva"
MODEL = "gpt-3.5-turbo"


def setup(app: web.Application) -> None:
    """Add the CodeLinkAva route to ``app``."""
    add_route(app, NAME, "POST", "/api/chat", chat)


def body_error(body: Any) -> str | None:
    """Why a chat body is unacceptable, or ``None``. Pure."""
    if body is INVALID_JSON or not isinstance(body, dict):
        return "request body must be a JSON object"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages must be a non-empty list"
    for message in messages:
        if not (
            isinstance(message, dict)
            and isinstance(message.get("role"), str)
            and isinstance(message.get("content"), str)
        ):
            return "each message must be an object with string role and content"
    temperature = body.get("temperature", 1)
    if isinstance(temperature, bool) or not isinstance(temperature, int | float):
        return "temperature must be a number"
    if not isinstance(body.get("stream", False), bool):
        return "stream must be a boolean"
    return None


async def chat(request: web.Request) -> web.StreamResponse:
    """The answer as chat.completion.chunk events (one chunk when not streaming)."""
    body = await json_body(request)
    if (error := body_error(body)) is not None:
        return web.json_response(
            {"error": {"message": error, "type": "invalid_request_error"}}, status=400
        )
    spec = request.app[STATE].faults.take(NAME)
    text = answer(body["messages"])
    pieces = split_tokens(text) if body.get("stream", False) else [text]
    model = body.get("model") if isinstance(body.get("model"), str) else MODEL
    return await respond(request, spec, ChatCompletionEvents(model), pieces)
