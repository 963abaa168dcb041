"""What the emulated models answer: a pure function of the conversation.

The emulators answer the harness's canned prompts correctly (an echo instruction,
a sum, a code word from an earlier turn) and anything else with a short sentence.
Providers that flatten the conversation into one prompt string are parsed back
into messages with :func:`parse_prompt` first.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from typing import Any

WRONG_ANSWER = "I am not able to help with that."
"""A fluent answer that passes no canned prompt's check (the ``wrong_answer`` fault)."""

GENERIC_ANSWER = "Hello! I am happy to help. What would you like to know?"

CAPITALS = {"france": "Paris", "germany": "Berlin", "italy": "Rome", "spain": "Madrid"}

_TRAILING = ".,;:!?)]}\"'`”’"
_LEADING = "\"'`“‘([{"
_ECHO = re.compile(r"reply with (?:exactly|the single word)\s*:?\s*(\S+)", re.IGNORECASE)
_SUM = re.compile(r"(?<![\w.-])(-?\d+)\s*([-+*x×])\s*(-?\d+)(?![\w.])")
_CODE_WORD = re.compile(r"code word(?:\s+is|\s*:)\s*(\S+)", re.IGNORECASE)
_CAPITAL = re.compile(r"capital of ([a-z][a-z ]*[a-z])", re.IGNORECASE)
_ROLE_LINE = re.compile(r"^(System|User|Assistant):(?: (.*))?$")


def parse_prompt(prompt: str) -> list[dict[str, str]]:
    """The conversation behind a flattened prompt (``"User: ...\\nAssistant:"``).

    A prompt that is not in that shape is one user message.
    """
    lines = prompt.split("\n")
    if not (prompt.endswith("\nAssistant:") and _ROLE_LINE.match(lines[0])):
        return [{"role": "user", "content": prompt}]
    messages: list[dict[str, str]] = []
    for line in lines[:-1]:
        match = _ROLE_LINE.match(line)
        if match:
            messages.append({"role": match[1].lower(), "content": match[2] or ""})
        else:
            messages[-1]["content"] += "\n" + line
    return messages


def answer(messages: Sequence[Mapping[str, Any]]) -> str:
    """The emulated model's reply to ``messages`` (``{"role", "content"}`` mappings)."""
    turns = [(str(m.get("role", "")), _text(m.get("content"))) for m in messages]
    user_turns = [i for i, (role, _) in enumerate(turns) if role == "user"]
    last = user_turns[-1] if user_turns else len(turns) - 1
    question = turns[last][1] if turns else ""
    instructions = [text for role, text in turns if role == "system"] + [question]
    for text in instructions:
        if match := _ECHO.search(text):
            return _clean(match[1])
    if match := _SUM.search(question):
        return str(_compute(int(match[1]), match[2], int(match[3])))
    if "code word" in question.lower():
        for _, text in reversed(turns[:last]):
            if found := _CODE_WORD.findall(text):
                return _clean(found[-1])
    if (match := _CAPITAL.search(question)) and match[1].lower() in CAPITALS:
        return f"{CAPITALS[match[1].lower()]} is the capital of {match[1].title()}."
    return GENERIC_ANSWER


TOKEN_CHARS = 4
"""The most characters one streamed piece holds: about one token of a real model."""

_TOKEN = re.compile(rf"\s*(?:\d|[^\s\d]{{1,{TOKEN_CHARS}}})|\s+$")


def split_tokens(text: str) -> list[str]:
    """``text`` as a model streams it: token-sized pieces, each carrying the spaces before
    it (joined, the text). A piece is one digit (as the Llama and Mistral tokenizers
    split numbers) or up to :data:`TOKEN_CHARS` other visible characters, so that even
    ``51`` or ``PONG-1a2b3c`` arrives in several chunks."""
    return _TOKEN.findall(text)


def split_evenly(text: str, pieces: int) -> list[str]:
    """``text`` in ``pieces`` runs of near-equal length (fewer when it is shorter)."""
    count = min(pieces, len(text))
    if count == 0:
        return []
    bounds = [len(text) * i // count for i in range(count + 1)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # multi-part content: keep the text parts
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, Mapping))
    return ""


def _clean(token: str) -> str:
    return token.lstrip(_LEADING).rstrip(_TRAILING)


def _compute(a: int, operator: str, b: int) -> int:
    if operator == "+":
        return a + b
    if operator == "-":
        return a - b
    return a * b
