"""The messages between the harness and a gpt4free worker process: one JSON object a line.

A worker first says ``{"ready": true}`` once it has gpt4free imported. The harness
sends ``{"op": "call", "id", "ref", "model", "messages", "options"}`` and
``{"op": "cancel", "id"}``. The worker answers each call with its answer data as it
comes (``{"id", "text"}``, ``{"id", "thinking"}``, ``{"id", "finish"}``, ``{"id",
"usage": [prompt, completion, reasoning]}``: only what :func:`~.translate.to_chunk`
keeps), then exactly one last
line, ``{"id", "end": true}`` or ``{"id", "error": {...}}``; a worker about to die
says why first (``{"fatal": "MemoryError: ..."}``).

An error crosses as a description, translated by the worker first
(:func:`~.translate.translate_error`): its classes (most specific first), message,
and the fields this package's errors carry (status, retry_after, body, errno). The
harness rebuilds the class (never importing a module a worker names: only classes it
has loaded count); one whose constructor wants more than a message, or that is not
loaded here, becomes a subclass of it (or of its nearest loaded base) under its own
name, made from the message alone, so the classifier and the error text see what the
provider raised.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Mapping
from typing import Any

from .. import errors as pe
from ..messages import Chunk, FinishReason, Thinking, Usage

LINE_LIMIT = 16 * 1024 * 1024
"""The longest line either side reads (one chunk of text, JSON-escaped)."""

Message = dict[str, Any]


def encode(message: Mapping[str, Any]) -> bytes:
    """One line of the protocol."""
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def decode(line: bytes) -> Message:
    """The message of one line; ``ValueError`` when it is not one."""
    message = json.loads(line)
    if not isinstance(message, dict):
        raise ValueError(f"not a message: {line[:80]!r}")
    return message


def chunk_message(call_id: int, chunk: Chunk) -> Message:
    """The line carrying one piece of answer data."""
    if isinstance(chunk, FinishReason):
        return {"id": call_id, "finish": chunk.reason}
    if isinstance(chunk, Usage):
        counts = [chunk.prompt_tokens, chunk.completion_tokens, chunk.reasoning_tokens]
        return {"id": call_id, "usage": counts}
    if isinstance(chunk, Thinking):
        return {"id": call_id, "thinking": chunk.text}
    return {"id": call_id, "text": chunk}


def chunk_of(message: Message) -> Chunk:
    """The answer data a line carries (``ValueError`` for a line that carries none)."""
    if "text" in message and isinstance(message["text"], str):
        return str(message["text"])
    if "thinking" in message and isinstance(message["thinking"], str):
        return Thinking(message["thinking"])
    if "finish" in message and isinstance(message["finish"], str):
        return FinishReason(message["finish"])
    usage = message.get("usage")
    if isinstance(usage, list) and len(usage) in (2, 3):
        return Usage(*(_count(count) for count in usage))
    raise ValueError(f"not answer data: {sorted(message)}")


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def describe_error(exc: BaseException) -> Message:
    """What crosses the process boundary of an exception."""
    classes = [f"{c.__module__}:{c.__qualname__}" for c in type(exc).__mro__ if c is not object]
    strerror = getattr(exc, "strerror", None)
    errno = getattr(exc, "errno", None)
    retry_after = getattr(exc, "retry_after", None)
    return {
        "classes": classes,
        "message": strerror if isinstance(strerror, str) and errno is not None else str(exc),
        "status": _count(getattr(exc, "status", None)),
        "retry_after": retry_after if isinstance(retry_after, int | float) else None,
        "body": getattr(exc, "body", None) if isinstance(getattr(exc, "body", None), str) else None,
        "errno": _count(errno),
    }


def error_of(described: Mapping[str, Any]) -> Exception:
    """The exception a worker described, rebuilt here (see the module docstring)."""
    classes = [c for c in described.get("classes", []) if isinstance(c, str)]
    fields = {
        "message": str(described.get("message") or ""),
        "status": _count(described.get("status")),
        "retry_after": described.get("retry_after"),
        "body": described.get("body") if isinstance(described.get("body"), str) else None,
        "errno": _count(described.get("errno")),
    }
    for position, name in enumerate(classes):
        cls = _loaded_class(name)
        if cls is None:
            continue
        if position == 0:
            with contextlib.suppress(Exception):  # its constructor wants more
                return _build(cls, fields)
        rebuilt = _stand_in(classes[0], cls)(fields["message"])
        if fields["status"] is not None:
            with contextlib.suppress(AttributeError):
                rebuilt.status = fields["status"]  # type: ignore[attr-defined]
        return rebuilt
    return pe.ProviderError(fields["message"] or (classes[0] if classes else "unknown error"))


def _loaded_class(name: str) -> type[Exception] | None:
    """The exception class ``module:qualname`` if its module is already imported."""
    module_name, _, qualname = name.partition(":")
    found: Any = sys.modules.get(module_name)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    if isinstance(found, type) and issubclass(found, Exception):
        return found
    return None


_STAND_INS: dict[tuple[str, type[Exception]], type[Exception]] = {}


def _stand_in(name: str, base: type[Exception]) -> type[Exception]:
    """A subclass of ``base`` named as the class the worker raised, made from its message
    alone (made once per pair)."""
    key = (name, base)
    if key not in _STAND_INS:
        module, _, qualname = name.partition(":")
        namespace = {"__module__": module, "__init__": _from_message, "__str__": _message}
        _STAND_INS[key] = type(qualname.rsplit(".", 1)[-1], (base,), namespace)
    return _STAND_INS[key]


def is_stand_in(cls: type) -> bool:
    """Whether ``cls`` was made here to stand in for a class a worker raised."""
    return cls in _STAND_INS.values()


def _from_message(self: BaseException, message: str) -> None:
    BaseException.__init__(self, message)


def _message(self: BaseException) -> str:
    return str(self.args[0]) if self.args else ""


def _build(cls: type[Exception], fields: Mapping[str, Any]) -> Exception:
    message, status, errno, body = (fields[k] for k in ("message", "status", "errno", "body"))
    if issubclass(cls, pe.RateLimitError) and status is not None:
        retry = fields["retry_after"]
        retry_after = float(retry) if isinstance(retry, int | float) else None
        return cls(message, status, retry_after, body=body)
    if issubclass(cls, pe.ResponseStatusError) and status is not None:
        return cls(message, status, body=body)
    if issubclass(cls, pe.ResponseError):
        return cls(message, body=body)
    if issubclass(cls, OSError) and errno is not None:
        return cls(errno, message)
    return cls(message)
