"""AiChatOnline: a unique-id token, then an NDJSON chat with one model."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import ClassVar

import aiohttp

from .base import AsyncGeneratorProvider, ProviderModelMixin
from .errors import ProtocolError
from .http import BROWSER_USER_AGENT, client_session, raise_for_status, read_small_json, url_for
from .messages import Chunk, Messages, format_prompt, random_string
from .stream import LineTally, iter_lines


class AiChatOnline(AsyncGeneratorProvider, ProviderModelMixin):
    """aichatonline.org's GPT endpoint; the upstream serves one model."""

    site_url = "https://aichatonline.org"
    url = "https://aichatonlineorg.erweima.ai"
    api_endpoint = "/aichatonline/api/chat/gpt"
    working = False
    default_model = "gpt-4o-mini"
    models: ClassVar[list[str]] = ["gpt-4o-mini"]
    upstream_hosts = ("aichatonlineorg.erweima.ai",)

    @classmethod
    def request_headers(cls) -> dict[str, str]:
        """The browser headers every request of this provider carries."""
        return {
            "User-Agent": BROWSER_USER_AGENT,
            "Accept": "*/*",
            "Accept-Language": "en-US,en;q=0.9",
            "Referer": f"{cls.url}/chatgpt/chat/",
            "Content-Type": "application/json",
            "Origin": cls.url,
        }

    @classmethod
    async def grab_token(cls, session: aiohttp.ClientSession, proxy: str | None = None) -> str:
        """Fetch the per-visitor unique id the chat endpoint wants in its ``UniqueId`` header."""
        url = url_for(cls.name(), f"{cls.url}/api/v1/user/getUniqueId?canvas=-{random_string()}")
        async with session.get(url, proxy=proxy) as response:
            await raise_for_status(response)
            data = await read_small_json(response)
        token = data.get("data") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise ProtocolError("getUniqueId answered without a unique id in 'data'")
        return token

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
        async with client_session(
            headers=cls.request_headers(), proxy=proxy, timeout=timeout
        ) as session:
            unique_id = await cls.grab_token(session)
            body = {"conversationId": random_string(), "prompt": format_prompt(messages)}
            url = url_for(cls.name(), f"{cls.url}{cls.api_endpoint}")
            async with session.post(url, json=body, headers={"UniqueId": unique_id}) as response:
                await raise_for_status(response)
                tally = LineTally()
                async for line in iter_lines(response):
                    record = tally.decode_json(line)
                    data = record.get("data") if isinstance(record, dict) else None
                    message = data.get("message") if isinstance(data, dict) else None
                    if isinstance(message, str) and message:
                        tally.texts += 1
                        yield message
                tally.check_end()
