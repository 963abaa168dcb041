"""The Robocoders upstream: ``/auth`` token page, ``/create-session``, NDJSON ``/chat``.

Chat records follow the agent log format (``id``, ``timestamp``, ``source``,
``message``, ``action``, ``args``, ``sid``); every turn ends with a ``message``
record that waits for a response. The ``resource_limit`` fault pauses the stream
half-way until the client posts ``continue`` for the same session.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web

from harness.emulator.answers import answer, parse_prompt, split_tokens
from harness.emulator.faults import Fault, FaultSpec
from harness.emulator.state import INVALID_JSON, STATE, add_route, json_body
from harness.emulator.streaming import Outlet, respond

NAME = "RobocodersAPI"
AGENTS = ("GeneralCodingAgent", "RepoAgent", "FrontEndAgent")
TOKEN_LIFETIME_S = 24 * 3600
LIMIT_MESSAGE = "Resource limit reached. Reply 'continue' to let the agent go on."

AUTH_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Robocoders API - access token</title></head>
<body>
<h1>Your access token</h1>
<pre id="token">{token}</pre>
<p>Send it as <code>Authorization: Bearer &lt;token&gt;</code>. It expires in 24 hours.</p>
</body>
</html>
"""


@dataclass
class Session:
    """A chat session: who owns it, and the id of its next record."""

    token: str
    next_id: int = 1


@dataclass
class Pause:
    """A turn paused at the resource limit, waiting for ``continue``."""

    pieces: list[str]
    spec: FaultSpec
    claimed: asyncio.Event = field(default_factory=asyncio.Event)
    finished: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class RobocodersState:
    """Tokens issued, sessions created and turns paused, for one app."""

    tokens: set[str] = field(default_factory=set)
    sessions: dict[str, Session] = field(default_factory=dict)
    paused: dict[str, Pause] = field(default_factory=dict)


ROBOCODERS = web.AppKey("robocoders", RobocodersState)


class AgentRecords:
    """The NDJSON framing: one agent record a line, in ``json.dumps`` spacing."""

    content_type = "application/x-ndjson"

    def __init__(self, session: Session, sid: str, *, renamed: bool = False) -> None:
        self._session = session
        self._sid = sid
        self._renamed = renamed

    def _line(self, message: str, content: str, waits: bool) -> bytes:
        args = {"content": content, "wait_for_response": waits, "extras": {}}
        record: dict[str, Any] = {
            "id": self._session.next_id,
            "timestamp": datetime.now().isoformat(),
            "source": "agent",
            "message": message,
            "action": "message",
            "args": args,
            "sid": self._sid,
        }
        if self._renamed:
            record = {
                "id": record["id"],
                "ts": record["timestamp"],
                "source": "agent",
                "msg": message,
                "action": "message",
                "payload": {"text": content, "await_input": waits},
                "session": self._sid,
            }
        self._session.next_id += 1
        return (json.dumps(record) + "\n").encode()

    def record(self, text: str) -> bytes:
        return self._line(text, text, False)

    def end(self) -> bytes:
        """The record that ends every agent turn: waits for the user, no text."""
        return self._line("", "", True)

    def limit(self) -> bytes:
        """The record that pauses a turn at the resource limit."""
        return self._line(LIMIT_MESSAGE, "", True)

    def drifted(self) -> AgentRecords:
        return AgentRecords(self._session, self._sid, renamed=True)


def setup(app: web.Application) -> None:
    """Add the Robocoders routes and state to ``app``."""
    app[ROBOCODERS] = RobocodersState()
    add_route(app, NAME, "GET", "/auth", auth)
    add_route(app, NAME, "GET", "/create-session", create_session)
    add_route(app, NAME, "POST", "/chat", chat)


def _new_token() -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    now = int(time.time())
    claims = {"sub": str(uuid.uuid4()), "iat": now, "exp": now + TOKEN_LIFETIME_S}
    signature = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.{signature}"


def _bearer(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _unauthorized(detail: str) -> web.Response:
    return web.json_response({"detail": detail}, status=401, headers={"WWW-Authenticate": "Bearer"})


def _invalid(errors: list[dict[str, Any]]) -> web.Response:
    return web.json_response({"detail": errors}, status=422)


async def auth(request: web.Request) -> web.Response:
    """The token page."""
    token = _new_token()
    request.app[ROBOCODERS].tokens.add(token)
    return web.Response(text=AUTH_PAGE.format(token=token), content_type="text/html")


async def create_session(request: web.Request) -> web.Response:
    """A new session id for a known bearer token."""
    state = request.app[ROBOCODERS]
    token = _bearer(request)
    if token is None:
        return _unauthorized("Not authenticated")
    if token not in state.tokens:
        return _unauthorized("Could not validate credentials")
    sid = str(uuid.uuid4())
    state.sessions[sid] = Session(token)
    return web.json_response({"sid": sid})


def _error(kind: str, loc: list[str | int], msg: str, value: Any) -> dict[str, Any]:
    return {"type": kind, "loc": loc, "msg": msg, "input": value}


def validation_errors(body: Any) -> list[dict[str, Any]]:
    """FastAPI-style errors for a chat body; empty when it is valid. Pure."""
    if body is INVALID_JSON:
        return [_error("json_invalid", ["body", 0], "JSON decode error", "")]
    if not isinstance(body, dict):
        return [_error("model_attributes_type", ["body"], "Input should be an object", body)]
    errors: list[dict[str, Any]] = []
    for name in ("sid", "prompt", "agent"):
        if name not in body:
            errors.append(_error("missing", ["body", name], "Field required", body))
        elif not isinstance(body[name], str):
            text = "Input should be a valid string"
            errors.append(_error("string_type", ["body", name], text, body[name]))
    agent = body.get("agent")
    if isinstance(agent, str) and agent not in AGENTS:
        expected = "'GeneralCodingAgent', 'RepoAgent' or 'FrontEndAgent'"
        errors.append(_error("enum", ["body", "agent"], f"Input should be {expected}", agent))
    return errors


async def chat(request: web.Request) -> web.StreamResponse:
    """A turn of the agent, or the rest of a paused turn when the prompt is ``continue``."""
    state = request.app[ROBOCODERS]
    token = _bearer(request)
    if token is None or token not in state.tokens:
        return _unauthorized("Could not validate credentials")
    body = await json_body(request)
    if errors := validation_errors(body):
        return _invalid(errors)
    sid = body["sid"]
    session = state.sessions.get(sid)
    if session is None or session.token != token:
        return _unauthorized("Session not found for this token")
    framing = AgentRecords(session, sid)
    if body["prompt"].strip().lower() == "continue":
        return await _resume(request, state.paused.pop(sid, None), framing)
    spec = request.app[STATE].faults.take(NAME)
    pieces = split_tokens(answer(parse_prompt(body["prompt"])))
    if spec.mode is Fault.resource_limit:
        return await _pause(request, spec, framing, pieces, sid)
    return await respond(request, spec, framing, pieces)


async def _pause(
    request: web.Request, spec: FaultSpec, framing: AgentRecords, pieces: list[str], sid: str
) -> web.StreamResponse:
    """Send half the turn and the limit record, then hold the stream open until the
    ``continue`` has streamed the rest (or nobody asks for it in time)."""
    state = request.app[ROBOCODERS]
    outlet = Outlet(request, spec)
    response = await outlet.open(framing.content_type)
    half = len(pieces) // 2
    for text in pieces[:half]:
        await outlet.send(framing.record(text))
    pause = Pause(pieces[half:], spec)
    state.paused[sid] = pause
    await outlet.send(framing.limit())
    if await outlet.pacer.until(pause.claimed, request.app[STATE].continue_timeout):
        await outlet.pacer.until(pause.finished, None)
    elif state.paused.get(sid) is pause:
        del state.paused[sid]
    return response


async def _resume(
    request: web.Request, pause: Pause | None, framing: AgentRecords
) -> web.StreamResponse:
    """The rest of a paused turn; an empty stream when nothing is paused."""
    if pause is None:
        response = web.StreamResponse(headers={"Content-Type": framing.content_type})
        await response.prepare(request)
        return response
    pause.claimed.set()
    try:
        latency = dataclasses.replace(pause.spec, mode=Fault.none, times=None)
        return await respond(request, latency, framing, pause.pieces)
    finally:
        pause.finished.set()
