"""The baseline: the providers' requests, sent by a bare aiohttp loop.

Each probe opens its own ``ClientSession`` (as every provider call does, so both
sides pay for the same TCP connections) and sends the same requests with the same
headers and bodies to the same paths as the provider would: AiChatOnline fetches a
unique id before its chat, RobocodersAPI reuses one token and session id (as the
provider's token cache does), AutonomousAI and CodeLinkAva post once. The body is
read line by line with aiohttp's own reader and each line is parsed for its text;
there are no deadlines, no tracing, no classification, no result objects.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import aiohttp
from yarl import URL

from harness.policy.prompts import PROMPTS, PromptRun
from harness.probing.runner import Target
from providers import AiChatOnline, AutonomousAI, CodeLinkAva, RobocodersAPI
from providers.http import BROWSER_USER_AGENT, DEFAULT_TIMEOUT
from providers.messages import Messages, format_prompt, random_string

_TOKEN = re.compile(r'<pre id="token">\s*([^<\s]+)\s*</pre>')


@dataclass(frozen=True)
class BareSample:
    """One bare probe: whether its answer passed the prompt's check, and its timings."""

    ok: bool
    ttfc_ms: float | None
    total_ms: float


@dataclass(frozen=True)
class Credentials:
    """The Robocoders bearer token and session id, fetched once."""

    token: str
    sid: str


class Answer:
    """The text pieces of one answer, and when the first arrived."""

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.first_at: float | None = None

    def add(self, text: str) -> None:
        if text:
            if self.first_at is None:
                self.first_at = time.perf_counter()
            self.pieces.append(text)


Chat = Callable[[aiohttp.ClientSession, str, Messages, Answer], Awaitable[None]]


def sse_text(line: bytes) -> str:
    """The delta text of a ``data: {chunk}`` line; ``""`` for anything else."""
    if not line.startswith(b"data: {"):
        return ""
    choices = json.loads(line[6:])["choices"]
    return str(choices[0]["delta"].get("content") or "") if choices else ""


class BareClient:
    """The four providers' chat requests against one base URL, without the harness."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._credentials: Credentials | None = None
        self._chats: dict[str, Chat] = {
            CodeLinkAva.name(): self._codelinkava,
            AutonomousAI.name(): self._autonomousai,
            AiChatOnline.name(): self._aichatonline,
            RobocodersAPI.name(): self._robocoders,
        }

    async def login(self) -> None:
        """Fetch the Robocoders token and session id that every Robocoders probe reuses."""
        headers = {"user-agent": BROWSER_USER_AGENT}
        async with aiohttp.ClientSession(timeout=DEFAULT_TIMEOUT) as session:
            async with session.get(f"{self.base_url}/auth", headers=headers) as response:
                response.raise_for_status()
                match = _TOKEN.search(await response.text())
            if match is None:
                raise RuntimeError("the Robocoders emulator's auth page carried no token")
            auth = {"Authorization": f"Bearer {match[1]}", **headers}
            async with session.get(f"{self.base_url}/create-session", headers=auth) as response:
                response.raise_for_status()
                sid = (await response.json())["sid"]
        self._credentials = Credentials(match[1], sid)

    async def _codelinkava(
        self, session: aiohttp.ClientSession, model: str, messages: Messages, answer: Answer
    ) -> None:
        headers = CodeLinkAva.request_headers()
        body = {"messages": messages, "temperature": 0.6, "stream": True}
        url = f"{self.base_url}/api/chat"
        async with session.post(url, json=body, headers=headers) as response:
            response.raise_for_status()
            async for line in response.content:
                answer.add(sse_text(line))

    async def _autonomousai(
        self, session: aiohttp.ClientSession, model: str, messages: Messages, answer: Answer
    ) -> None:
        headers = AutonomousAI.request_headers()
        encoded = base64.b64encode(json.dumps(messages).encode("utf-8")).decode("ascii")
        body = {"messages": encoded, "threadId": model, "stream": True, "aiAgent": model}
        url = f"{self.base_url}{URL(AutonomousAI.api_endpoints[model]).path}"
        async with session.post(url, json=body, headers=headers) as response:
            response.raise_for_status()
            async for line in response.content:
                answer.add(sse_text(line))

    async def _aichatonline(
        self, session: aiohttp.ClientSession, model: str, messages: Messages, answer: Answer
    ) -> None:
        headers = AiChatOnline.request_headers()
        token_url = f"{self.base_url}/api/v1/user/getUniqueId?canvas=-{random_string()}"
        async with session.get(token_url, headers=headers) as response:
            response.raise_for_status()
            unique_id = (await response.json(content_type=None))["data"]
        body = {"conversationId": random_string(), "prompt": format_prompt(messages)}
        url = f"{self.base_url}{AiChatOnline.api_endpoint}"
        headers["UniqueId"] = unique_id
        async with session.post(url, json=body, headers=headers) as response:
            response.raise_for_status()
            async for line in response.content:
                if line.strip():
                    answer.add(json.loads(line)["data"].get("message") or "")

    async def _robocoders(
        self, session: aiohttp.ClientSession, model: str, messages: Messages, answer: Answer
    ) -> None:
        # Like the provider: a record waiting for a response gets one "continue",
        # posted while the first stream is still open.
        if self._credentials is None:
            raise RuntimeError("BareClient.login() must run before Robocoders probes")
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {self._credentials.token}",
        }
        url = f"{self.base_url}/chat"
        body = {"sid": self._credentials.sid, "prompt": format_prompt(messages), "agent": model}
        continues = 1
        async with session.post(url, json=body, headers=headers) as response:
            response.raise_for_status()
            async for line in response.content:
                if not line.strip():
                    continue
                args = json.loads(line)["args"]
                answer.add(args.get("content") or "")
                if continues and args.get("wait_for_response"):
                    continues -= 1
                    more = {**body, "prompt": "continue"}
                    async with session.post(url, json=more, headers=headers) as rest:
                        async for extra in rest.content:
                            if extra.strip():
                                answer.add(json.loads(extra)["args"].get("content") or "")

    async def probe(self, provider: str, model: str, run: PromptRun) -> BareSample:
        """One chat with ``provider``/``model``: time to first text, total time, check."""
        chat = self._chats[provider]
        answer = Answer()
        start = time.perf_counter()
        async with aiohttp.ClientSession(timeout=DEFAULT_TIMEOUT) as session:
            await chat(session, model, list(run.messages), answer)
        end = time.perf_counter()
        return BareSample(
            ok=run.check("".join(answer.pieces)),
            ttfc_ms=None if answer.first_at is None else (answer.first_at - start) * 1000,
            total_ms=(end - start) * 1000,
        )


async def run_bare(
    client: BareClient, targets: Sequence[Target], concurrency: int
) -> list[BareSample]:
    """Probe every target, at most ``concurrency`` at once; samples in target order."""
    limit = asyncio.Semaphore(concurrency)

    async def one(target: Target) -> BareSample:
        async with limit:
            run = PROMPTS[target.prompt].build()
            return await client.probe(target.provider.name(), target.model, run)

    return list(await asyncio.gather(*(one(t) for t in targets)))
