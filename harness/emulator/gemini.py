"""Google's Gemini API: ``/v1beta/models`` and ``/v1beta/models/{model}:streamGenerateContent``.

What generativelanguage.googleapis.com speaks. Point a client at
``http://HOST:PORT/v1beta`` (the official SDK: ``http_options={"base_url":
"http://HOST:PORT"}``, which asks under ``/v1`` unless told ``api_version="v1beta"``:
both are served), or at ``http://HOST:PORT/NAME/v1beta`` to address it by an
endpoint's name. The key may come in ``x-goog-api-key`` or ``?key=``.

``POST .../models/{model}:streamGenerateContent?alt=sse`` answers data-only
server-sent events, each a ``GenerateContentResponse``: token-sized text parts of one
candidate, then one with ``finishReason: STOP`` and the full ``usageMetadata``. A
thinking model (a name containing ``think`` or ``reason``) reports
``thoughtsTokenCount``, and streams its thoughts first (parts marked ``thought``)
when the request asks for them (``generationConfig.thinkingConfig.includeThoughts``),
as Gemini does. ``:generateContent`` answers the whole response at once. ``GET
.../models`` lists :data:`MODELS` with their generation methods.

Fault addressing as for the OpenAI-compatible routes, with the name ``gemini``. Every
mode applies, plus ``stream_error`` (an error object after the 200), ``overloaded``
(a 503 ``UNAVAILABLE``) and ``safety_block`` (``finishReason: SAFETY`` and no text).
Status faults answer with Google's error bodies (``{"error": {"code", "message",
"status", "details"}}``): 401 as Gemini sends it, a 400 ``INVALID_ARGUMENT`` with
reason ``API_KEY_INVALID``; 429 ``RESOURCE_EXHAUSTED`` with a ``RetryInfo``.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from aiohttp import web

from harness.emulator.answers import answer, split_tokens
from harness.emulator.faults import GEMINI, Fault, FaultSpec
from harness.emulator.pages import status_response
from harness.emulator.state import STATE
from harness.emulator.streaming import respond

MODELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("emulated-gemini", ("generateContent", "countTokens")),
    ("emulated-gemini-thinking", ("generateContent", "countTokens")),
    ("emulated-embedding", ("embedContent",)),
)
"""What ``GET .../models`` lists, with the methods each supports; any name generates."""
VERSIONS = ("/v1beta", "/v1")
CALL = "/models/{call}"
LIST = "/v1beta/models"
THOUGHT = "Let me think about what is being asked. The answer follows from the question."
"""What a thinking model thinks before it answers."""
_RATING = {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True}


def base_url(emulator_url: str, endpoint: str | None = None) -> str:
    """The Gemini base URL of the emulator at ``emulator_url``: ``URL/v1beta``, or
    ``URL/ENDPOINT/v1beta`` (addressed by that endpoint's faults)."""
    root = emulator_url.rstrip("/")
    return f"{root}/{endpoint}/v1beta" if endpoint else f"{root}/v1beta"


def is_thinking(model: str) -> bool:
    """Whether the emulated ``model`` thinks before it answers. Pure."""
    lowered = model.lower()
    return "think" in lowered or "reason" in lowered


def setup(app: web.Application) -> None:
    """Add the Gemini routes (bare and under ``/NAME``) to ``app``."""
    for version in VERSIONS:
        app.router.add_post(version + CALL, generate)
        app.router.add_post("/{endpoint}" + version + CALL, generate)
    app.router.add_get(LIST, models)
    app.router.add_get("/{endpoint}" + LIST, models)


def fault_name(request: web.Request) -> str:
    """The fault name addressing ``request``: its endpoint's when set, else ``gemini``."""
    endpoint = request.match_info.get("endpoint")
    board = request.app[STATE].faults
    if endpoint is not None and endpoint in board.endpoints and board.has(endpoint):
        return endpoint
    return GEMINI


def _error(
    code: int, status: str, message: str, details: list[dict[str, Any]] | None = None
) -> web.Response:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    return web.json_response({"error": error}, status=code)


def gemini_status_response(spec: FaultSpec) -> web.Response:
    """The error answer of a status fault, in Google's shape where the API sends one."""
    if spec.mode is Fault.http_401:
        info = {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "API_KEY_INVALID",
            "domain": "googleapis.com",
        }
        return _error(
            400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", [info]
        )
    if spec.mode is Fault.http_429:
        retry = {
            "@type": "type.googleapis.com/google.rpc.RetryInfo",
            "retryDelay": f"{spec.retry_after}s",
        }
        return _error(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota.", [retry])
    if spec.mode is Fault.http_500:
        return _error(500, "INTERNAL", "An internal error has occurred.")
    if spec.mode in (Fault.overloaded, Fault.http_503):
        return _error(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")
    return status_response(spec)


def body_error(body: Any) -> str | None:
    """Why a ``generateContent`` body is unacceptable, or ``None``. Pure."""
    if not isinstance(body, dict):
        return "Invalid JSON payload received."
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        return "* GenerateContentRequest.contents: contents is not specified"
    for content in contents:
        parts = content.get("parts") if isinstance(content, dict) else None
        if not isinstance(parts, list) or not parts:
            return "* GenerateContentRequest.contents: each content needs parts"
        if content.get("role", "user") not in ("user", "model"):
            return "Please use a valid role: user, model."
    config = body.get("generationConfig")
    if config is not None and not isinstance(config, dict):
        return "Invalid value at 'generation_config'"
    return None


def _text(content: Any) -> str:
    parts = content.get("parts") if isinstance(content, dict) else None
    texts = [
        p["text"] for p in parts or [] if isinstance(p, dict) and isinstance(p.get("text"), str)
    ]
    return "".join(texts)


def conversation(body: dict[str, Any]) -> list[dict[str, str]]:
    """The body's contents as ``{"role", "content"}`` turns, the system instruction first. Pure."""
    system = _text(body.get("systemInstruction"))
    turns = [{"role": "system", "content": system}] if system else []
    for content in body["contents"]:
        role = "assistant" if content.get("role") == "model" else "user"
        turns.append({"role": role, "content": _text(content)})
    return turns


def wants_thoughts(body: dict[str, Any]) -> bool:
    """Whether the request asks for the model's thoughts. Pure.

    Field names in either spelling, as the API's JSON parser takes them (the official
    SDK sends ``include_thoughts``)."""
    config = body.get("generationConfig") or {}
    thinking = config.get("thinkingConfig") if isinstance(config, dict) else None
    return isinstance(thinking, dict) and True in (
        thinking.get("includeThoughts"),
        thinking.get("include_thoughts"),
    )


def usage_of(turns: list[dict[str, str]], pieces: list[str], thoughts: int) -> dict[str, int]:
    """Token counts the emulator reports: words asked, pieces answered, thoughts. Pure."""
    prompt = max(1, sum(len(t["content"].split()) for t in turns))
    usage = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": len(pieces),
        "totalTokenCount": prompt + len(pieces) + thoughts,
    }
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    return usage


class ContentEvents:
    """The framing of a streamed answer (see the module docstring)."""

    content_type = "text/event-stream"

    def __init__(
        self,
        model: str,
        usage: dict[str, int],
        *,
        thought: list[str],
        error: bool = False,
        blocked: bool = False,
        prefix: bool = True,
    ) -> None:
        self.model = model
        self.usage = usage
        self.thought = thought
        self.error = error
        self.blocked = blocked
        self._prefix = prefix
        self._started = False
        self._id = secrets.token_urlsafe(12)

    def _event(self, payload: dict[str, Any]) -> bytes:
        data = json.dumps(payload, separators=(",", ":"))
        return f"{'data: ' if self._prefix else ''}{data}\r\n\r\n".encode()

    def _response(
        self, parts: list[dict[str, Any]], finish: str | None = None, full: bool = False
    ) -> bytes:
        candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
        if finish is not None:
            candidate["finishReason"] = finish
        if finish == "SAFETY":
            candidate["safetyRatings"] = [_RATING]
        usage = self.usage if full else {"promptTokenCount": self.usage["promptTokenCount"]}
        return self._event(
            {
                "candidates": [candidate],
                "usageMetadata": usage,
                "modelVersion": self.model,
                "responseId": self._id,
            }
        )

    def _start(self) -> bytes:
        if self._started:
            return b""
        self._started = True
        return b"".join(self._response([{"text": t, "thought": True}]) for t in self.thought)

    def record(self, text: str) -> bytes:
        """A response whose one part carries ``text`` (after the thoughts, the first time)."""
        return self._start() + self._response([{"text": text}])

    def end(self) -> bytes:
        """The last response (``finishReason`` and the full usage); with ``error`` an error
        object instead, with ``blocked`` a ``SAFETY`` finish."""
        start = self._start()
        if self.error:
            error = {
                "code": 500,
                "message": "An internal error has occurred.",
                "status": "INTERNAL",
            }
            return start + self._event({"error": error})
        if self.blocked:
            self.usage = {**self.usage, "candidatesTokenCount": 0}  # nothing was let through
            return start + self._response([], "SAFETY", full=True)
        return start + self._response([{"text": ""}], "STOP", full=True)

    def drifted(self) -> ContentEvents:
        """Bare JSON lines, without the ``data: `` prefix."""
        return ContentEvents(
            self.model, self.usage, thought=self.thought, error=self.error, prefix=False
        )


def whole(model: str, text: str, thought: list[str], usage: dict[str, int]) -> dict[str, Any]:
    """The non-streaming answer: one ``GenerateContentResponse``. Pure."""
    parts = [{"text": "".join(thought), "thought": True}] if thought else []
    parts.append({"text": text})
    return {
        "candidates": [
            {"content": {"parts": parts, "role": "model"}, "finishReason": "STOP", "index": 0}
        ],
        "usageMetadata": usage,
        "modelVersion": model,
    }


async def generate(request: web.Request) -> web.StreamResponse:
    """``{model}:streamGenerateContent`` or ``{model}:generateContent``, with the addressed
    fault applied."""
    state = request.app[STATE]
    name = fault_name(request)
    model, _, method = request.match_info["call"].partition(":")
    path = f"{LIST}/{{model}}:{method}"
    state.requests[(name, path)] += 1
    if method not in ("streamGenerateContent", "generateContent") or not model:
        return _error(404, "NOT_FOUND", f"Method {method!r} is not found for this model.")
    try:
        body = json.loads(await request.read())
    except ValueError:
        body = None
    state.bodies[(name, path)] = body
    if (error := body_error(body)) is not None:
        return _error(400, "INVALID_ARGUMENT", error)
    assert isinstance(body, dict)
    spec = state.faults.take(name)
    turns = conversation(body)
    text = answer(turns)
    pieces = split_tokens(text)
    thinking = split_tokens(THOUGHT) if is_thinking(model) else []
    usage = usage_of(turns, pieces, len(thinking))
    shown = thinking if wants_thoughts(body) else []
    if method == "generateContent" and spec.mode is Fault.none:
        return web.json_response(whole(model, text, shown, usage))
    framing = ContentEvents(
        model,
        usage,
        thought=shown,
        error=spec.mode is Fault.stream_error,
        blocked=spec.mode is Fault.safety_block,
    )
    return await respond(request, spec, framing, pieces, errors=gemini_status_response)


async def models(request: web.Request) -> web.Response:
    """The model list in Gemini's ``{"models": [...]}`` shape (one page)."""
    request.app[STATE].requests[(fault_name(request), LIST)] += 1
    return web.json_response(
        {
            "models": [
                {
                    "name": f"models/{name}",
                    "version": "001",
                    "displayName": name.replace("-", " ").title(),
                    "inputTokenLimit": 1_048_576,
                    "outputTokenLimit": 65_536,
                    "supportedGenerationMethods": list(methods),
                    "thinking": is_thinking(name),
                }
                for name, methods in MODELS
            ]
        }
    )
