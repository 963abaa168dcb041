"""OpenAI-style server-sent events: ``data: {chunk}`` lines, then ``data: [DONE]``."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any


class ChatCompletionEvents:
    """The framing of AutonomousAI and CodeLinkAva: chat.completion.chunk events.

    Every line ends with ``"\\n"`` and every event with a blank line, as clients that
    slice ``line[6:-1]`` expect. The drifted variant drops the ``data: `` prefix.
    """

    content_type = "text/event-stream; charset=utf-8"

    def __init__(self, model: str, *, prefix: bool = True) -> None:
        self.model = model
        self._prefix = prefix
        self._id = f"chatcmpl-{secrets.token_hex(12)}"
        self._created = int(time.time())

    def _event(self, payload: str) -> bytes:
        return f"{'data: ' if self._prefix else ''}{payload}\n\n".encode()

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None) -> bytes:
        chunk = {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }
        return self._event(json.dumps(chunk, separators=(",", ":")))

    def record(self, text: str) -> bytes:
        """A chunk whose delta carries ``text``."""
        return self._chunk({"content": text}, None)

    def end(self) -> bytes:
        """The finish chunk (empty delta, ``finish_reason: stop``) and ``[DONE]``."""
        return self._chunk({}, "stop") + self._event("[DONE]")

    def drifted(self) -> ChatCompletionEvents:
        """Bare JSON lines, without the ``data: `` prefix."""
        return ChatCompletionEvents(self.model, prefix=False)
