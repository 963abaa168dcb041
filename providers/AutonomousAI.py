"""AutonomousAI: five models on four endpoints; base64 messages in, SSE out."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncGenerator
from typing import ClassVar

from .base import AsyncGeneratorProvider, ProviderModelMixin
from .http import BROWSER_USER_AGENT, client_session, raise_for_status, url_for
from .messages import Chunk, Messages
from .stream import LineTally, iter_sse_chunks

_API = "https://chatgpt.autonomous.ai/api/v1/ai"


class AutonomousAI(AsyncGeneratorProvider, ProviderModelMixin):
    """autonomous.ai's anonymous chat, with system messages and history."""

    url = "https://www.autonomous.ai/anon/"
    api_endpoints: ClassVar[dict[str, str]] = {
        "llama": f"{_API}/chat",
        "qwen_coder": f"{_API}/chat",
        "hermes": f"{_API}/chat-hermes",
        "vision": f"{_API}/chat-vision",
        "summary": f"{_API}/summary",
    }
    working = False
    supports_stream = True
    supports_system_message = True
    supports_message_history = True
    default_model = "llama"
    models: ClassVar[list[str]] = ["llama", "qwen_coder", "hermes", "vision", "summary"]
    model_aliases: ClassVar[dict[str, str]] = {
        "llama-3.3-70b": "llama",
        "qwen-2.5-coder-32b": "qwen_coder",
        "hermes-3": "hermes",
        "llama-3.2-90b": "vision",
        "llama-3.2-70b": "summary",
    }
    upstream_hosts = ("chatgpt.autonomous.ai",)

    @classmethod
    def request_headers(cls) -> dict[str, str]:
        """The browser headers every request of this provider carries."""
        return {
            "accept": "*/*",
            "accept-language": "en-US,en;q=0.9",
            "content-type": "application/json",
            "country-code": "US",
            "origin": "https://www.autonomous.ai",
            "referer": "https://www.autonomous.ai/",
            "time-zone": "America/New_York",
            "user-agent": BROWSER_USER_AGENT,
        }

    @classmethod
    async def _stream(
        cls,
        model: str,
        messages: Messages,
        *,
        proxy: str | None,
        stream: bool,
        timeout: float | None,
    ) -> AsyncGenerator[Chunk, None]:
        headers = cls.request_headers()
        encoded = base64.b64encode(json.dumps(messages).encode("utf-8")).decode("ascii")
        body = {"messages": encoded, "threadId": model, "stream": stream, "aiAgent": model}
        url = url_for(cls.name(), cls.api_endpoints[model])
        async with (
            client_session(headers=headers, proxy=proxy, timeout=timeout) as session,
            session.post(url, json=body) as response,
        ):
            await raise_for_status(response)
            async for chunk in iter_sse_chunks(response, LineTally()):
                yield chunk
