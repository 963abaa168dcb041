"""The AiChatOnline upstream: a unique-id token, then an NDJSON chat.

Lines look like ``{"code": 200, "data": {"message": "Hel"}}``, with no ``data: `` prefix.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from aiohttp import web

from harness.emulator.answers import answer, parse_prompt, split_tokens
from harness.emulator.state import INVALID_JSON, STATE, add_route, json_body
from harness.emulator.streaming import respond

NAME = "AiChatOnline"
ISSUED = web.AppKey("aichatonline_unique_ids", set[str])


class MessageLines:
    """The NDJSON framing; the drifted variant renames ``message`` to ``content``."""

    content_type = "application/x-ndjson"

    def __init__(self, key: str = "message") -> None:
        self._key = key

    def record(self, text: str) -> bytes:
        return (json.dumps({"code": 200, "data": {self._key: text}}) + "\n").encode()

    def end(self) -> bytes:
        """The stream simply ends."""
        return b""

    def drifted(self) -> MessageLines:
        return MessageLines("content")


def setup(app: web.Application) -> None:
    """Add the AiChatOnline routes and state to ``app``."""
    app[ISSUED] = set()
    add_route(app, NAME, "GET", "/api/v1/user/getUniqueId", get_unique_id)
    add_route(app, NAME, "POST", "/aichatonline/api/chat/gpt", chat)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"code": status, "message": message, "data": None}, status=status)


async def get_unique_id(request: web.Request) -> web.Response:
    """A fresh visitor id for the ``UniqueId`` header of the chat."""
    unique_id = uuid.uuid4().hex
    request.app[ISSUED].add(unique_id)
    return web.json_response({"code": 200, "message": "success", "data": unique_id})


def body_error(body: Any) -> str | None:
    """Why a chat body is unacceptable, or ``None``. Pure."""
    if body is INVALID_JSON or not isinstance(body, dict):
        return "request body must be a JSON object"
    for name in ("conversationId", "prompt"):
        if not isinstance(body.get(name), str) or not body[name]:
            return f"{name} must be a non-empty string"
    return None


async def chat(request: web.Request) -> web.StreamResponse:
    """The answer to the flattened prompt, streamed token by token."""
    if request.headers.get("UniqueId") not in request.app[ISSUED]:
        return _error(401, "invalid or missing UniqueId")
    body = await json_body(request)
    if (error := body_error(body)) is not None:
        return _error(400, error)
    spec = request.app[STATE].faults.take(NAME)
    pieces = split_tokens(answer(parse_prompt(body["prompt"])))
    return await respond(request, spec, MessageLines(), pieces)
