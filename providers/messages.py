"""Message types, the finish marker, and prompt formatting shared by the providers."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from typing import Literal, TypedDict

Role = Literal["system", "user", "assistant"]


class Message(TypedDict):
    """One chat turn, as every provider takes it."""

    role: Role
    content: str


Messages = list[Message]


@dataclass(frozen=True, slots=True)
class FinishReason:
    """A non-text item a provider may yield after the text: why the model stopped."""

    reason: str


@dataclass(frozen=True, slots=True)
class Usage:
    """A non-text item a provider may yield: the tokens the upstream says it counted."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    reasoning_tokens: int | None = None
    """Of the completion, the tokens spent thinking, where the upstream says so."""


@dataclass(frozen=True, slots=True)
class Thinking:
    """A non-text item a provider may yield: a piece of the model's reasoning.

    It is never part of the answer; it tells when the model started producing tokens
    of any kind (a reasoning model thinks long before it answers)."""

    text: str


Chunk = str | Thinking | FinishReason | Usage
"""What a provider's stream yields: text pieces (and ``Thinking`` pieces before or
between them), then at most one ``FinishReason``, and a ``Usage`` where the upstream
reports one."""


def format_prompt(messages: Messages) -> str:
    """Flatten a conversation into one prompt for upstreams that take a single string.

    One message is sent as its content alone; a longer conversation becomes
    ``"Role: content"`` lines followed by ``"Assistant:"`` so the model answers next.
    """
    if len(messages) == 1:
        return messages[0]["content"]
    lines = [f"{m['role'].capitalize()}: {m['content']}" for m in messages]
    return "\n".join(lines) + "\nAssistant:"


_ALPHABET = string.ascii_lowercase + string.digits


def random_string(length: int = 10) -> str:
    """``length`` characters of ``[a-z0-9]``, for the ids some upstreams want per request."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))
