"""CodeLinkAva: an OpenAI-style SSE chat answering as gpt-3.5-turbo."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any, ClassVar

from .base import AsyncGeneratorProvider, ProviderModelMixin
from .http import BROWSER_USER_AGENT, client_session, raise_for_status, url_for
from .messages import Chunk, Messages
from .stream import LineTally, iter_sse_chunks


class CodeLinkAva(AsyncGeneratorProvider, ProviderModelMixin):
    """CodeLink's Ava assistant. Only named sampling options reach the request body."""

    url = "https://ava-ai-ef611.web.app"
    api_endpoint = "https://ava-alpha-api.codelink.io/api/chat"
    supports_gpt_35_turbo = True
    working = False
    default_model = "gpt-3.5-turbo"
    models: ClassVar[list[str]] = ["gpt-3.5-turbo"]
    upstream_hosts = ("ava-alpha-api.codelink.io",)

    @classmethod
    def request_headers(cls) -> dict[str, str]:
        """The browser headers every request of this provider carries."""
        return {
            "User-Agent": BROWSER_USER_AGENT,
            "Accept": "*/*",
            "Accept-language": "en,fr-FR;q=0.9,fr;q=0.8,es-ES;q=0.7,es;q=0.6,en-US;q=0.5",
            "Origin": cls.url,
            "Referer": f"{cls.url}/",
            "Sec-Fetch-Dest": "empty",
            "Sec-Fetch-Mode": "cors",
            "Sec-Fetch-Site": "same-site",
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
        temperature: float = 0.6,
        top_p: float | None = None,
        max_tokens: int | None = None,
    ) -> AsyncGenerator[Chunk, None]:
        headers = cls.request_headers()
        body: dict[str, Any] = {"messages": messages, "temperature": temperature, "stream": True}
        if top_p is not None:
            body["top_p"] = top_p
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        url = url_for(cls.name(), cls.api_endpoint)
        async with (
            client_session(headers=headers, proxy=proxy, timeout=timeout) as session,
            session.post(url, json=body) as response,
        ):
            await raise_for_status(response)
            async for chunk in iter_sse_chunks(response, LineTally()):
                yield chunk
