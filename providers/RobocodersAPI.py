"""RobocodersAPI: coding agents behind a token page, a session id and an NDJSON chat."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import aiohttp
from platformdirs import user_cache_dir

from . import upstream
from .base import AsyncGeneratorProvider, ProviderModelMixin
from .errors import (
    AuthError,
    MissingRequirementsError,
    ProtocolError,
    ResponseStatusError,
    ServerError,
    ValidationError,
)
from .http import (
    BROWSER_USER_AGENT,
    client_session,
    read_error_body,
    read_small_json,
    read_small_text,
    status_error,
    url_for,
)
from .messages import Chunk, Messages, format_prompt
from .stream import LineTally, iter_lines

try:
    import bs4
except ImportError:  # pragma: no cover - a test hides bs4 by patching this name
    bs4 = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

CACHE_DIR_ENV = "HARNESS_CACHE_DIR"
TOKEN_EXPIRY_MARGIN_S = 60


@dataclass(frozen=True)
class Credentials:
    """A bearer token and the session id created with it."""

    access_token: str
    sid: str


def default_cache_dir() -> Path:
    """``$HARNESS_CACHE_DIR``, else the per-user cache directory of harness."""
    return Path(os.environ.get(CACHE_DIR_ENV) or user_cache_dir("harness"))


def _jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim of ``token`` when it is a JWT that carries one, else ``None``."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except ValueError:
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return float(exp) if isinstance(exp, int | float) else None


def _expired(expiry: float | None, now: float) -> bool:
    """True when a token expiring at ``expiry`` has expired (or is about to)."""
    return expiry is not None and expiry - TOKEN_EXPIRY_MARGIN_S <= now


@dataclass(frozen=True)
class _Remembered:
    """Credentials held in memory, with their token's expiry decoded once."""

    creds: Credentials
    expiry: float | None


_remembered: dict[Path, _Remembered] = {}
"""Credentials by cache file, for this process: every call after the first reads them
from here instead of from the file on a thread. Touched only from event-loop code."""


class TokenCache:
    """The token+sid file, read and written off the event loop, replaced atomically,
    and remembered in memory so that only a process's first call reads the file.

    A redirected upstream (emulator, mirror) gets a file of its own, so a token
    issued by one never reaches another. A corrupt or expired file counts as empty;
    a remembered token is dropped once it expires. Other processes share the file:
    they start from what it holds, and a token one of them refreshed is picked up
    from it when the upstream refuses ours (:meth:`discard`).
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def for_upstream(cls, cache_dir: str | Path | None, base: str | None) -> TokenCache:
        folder = Path(cache_dir) if cache_dir else default_cache_dir()
        if base is None:
            return cls(folder / "robocoders.json")
        digest = hashlib.sha256(base.encode()).hexdigest()[:12]
        return cls(folder / f"robocoders-{digest}.json")

    def _read(self) -> _Remembered | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict):
            return None
        token, sid = data.get("access_token"), data.get("sid")
        if not (isinstance(token, str) and token and isinstance(sid, str) and sid):
            return None
        expiry = _jwt_expiry(token)
        if _expired(expiry, time.time()):
            return None
        return _Remembered(Credentials(token, sid), expiry)

    def _write(self, creds: Credentials) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".robocoders-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"access_token": creds.access_token, "sid": creds.sid}, handle)
        os.replace(tmp, self.path)

    def _clear(self, only: Credentials | None = None) -> None:
        if only is not None:
            held = self._read()
            if held is not None and held.creds != only:
                return  # another process has replaced them: keep its fresh token
        self.path.unlink(missing_ok=True)

    async def load(self) -> Credentials | None:
        """The cached credentials: from memory, else from the file (once per process)."""
        held = _remembered.get(self.path)
        if held is None:
            held = await asyncio.to_thread(self._read)
            if held is None:
                return None
            _remembered[self.path] = held
        if _expired(held.expiry, time.time()):
            _remembered.pop(self.path, None)
            return None
        return held.creds

    async def save(self, creds: Credentials) -> None:
        _remembered[self.path] = _Remembered(creds, _jwt_expiry(creds.access_token))
        try:
            await asyncio.to_thread(self._write, creds)
        except OSError as exc:
            # The cache only saves two requests next time: a local disk problem must not
            # fail the call (nor be measured as the upstream's failure).
            log.warning("cannot write the credentials cache %s: %s", self.path, exc)

    async def clear(self) -> None:
        """Forget the credentials, in memory and on disk."""
        _remembered.pop(self.path, None)
        await self._remove(None)

    async def discard(self, refused: Credentials) -> None:
        """Forget ``refused`` (the upstream turned them down); the file goes too unless
        another process has meanwhile written different credentials to it."""
        held = _remembered.get(self.path)
        if held is not None and held.creds == refused:
            del _remembered[self.path]
        await self._remove(refused)

    async def _remove(self, only: Credentials | None) -> None:
        try:
            await asyncio.to_thread(self._clear, only)
        except OSError as exc:
            log.warning("cannot remove the credentials cache %s: %s", self.path, exc)


class _StaleToken(Exception):
    """The chat refused a cached token: fetch a fresh one and try once more."""


class RobocodersAPI(AsyncGeneratorProvider, ProviderModelMixin):
    """Robocoders AI agents. Token from ``/auth``, session from ``/create-session``,
    then NDJSON records from ``/chat``; continues once after a resource-limit pause."""

    label = "API Robocoders AI"
    url = "https://api.robocoders.ai/docs"
    api_endpoint = "https://api.robocoders.ai/chat"
    auth_endpoint = "https://api.robocoders.ai/auth"
    session_endpoint = "https://api.robocoders.ai/create-session"
    working = False
    supports_message_history = True
    default_model = "GeneralCodingAgent"
    models: ClassVar[list[str]] = ["GeneralCodingAgent", "RepoAgent", "FrontEndAgent"]
    upstream_hosts = ("api.robocoders.ai",)

    @classmethod
    async def _stream(
        cls,
        model: str,
        messages: Messages,
        *,
        proxy: str | None,
        stream: bool,
        timeout: float | None,
        auto_continue: bool = True,
        max_continues: int = 1,
        cache_dir: str | Path | None = None,
    ) -> AsyncGenerator[Chunk, None]:
        if bs4 is None:
            raise MissingRequirementsError(
                'Install "beautifulsoup4" package | pip install -U beautifulsoup4'
            )
        cache = TokenCache.for_upstream(cache_dir, upstream.base_for(cls.name()))
        prompt = format_prompt(messages)
        continues = max_continues if auto_continue else 0
        async with client_session(proxy=proxy, timeout=timeout) as session:
            creds = await cache.load()
            from_cache = creds is not None
            if creds is None:
                creds = await cls._new_credentials(session, cache)
            try:
                async for chunk in cls._chat(session, creds, prompt, model, continues, cache):
                    yield chunk
            except _StaleToken:
                if not from_cache:
                    raise AuthError("Unauthorized: Invalid token, please retry.", 401) from None
                creds = await cls._new_credentials(session, cache)
                try:
                    async for chunk in cls._chat(session, creds, prompt, model, continues, cache):
                        yield chunk
                except _StaleToken:
                    raise AuthError("Unauthorized: Invalid token, please retry.", 401) from None

    @classmethod
    async def _new_credentials(
        cls, session: aiohttp.ClientSession, cache: TokenCache
    ) -> Credentials:
        token = await cls._fetch_token(session)
        sid = await cls._create_session(session, token, cache)
        creds = Credentials(token, sid)
        await cache.save(creds)
        return creds

    @classmethod
    async def _fetch_token(cls, session: aiohttp.ClientSession) -> str:
        headers = {
            "accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "user-agent": BROWSER_USER_AGENT,
        }
        async with session.get(url_for(cls.name(), cls.auth_endpoint), headers=headers) as response:
            if response.status != 200:
                body = await read_error_body(response)
                raise status_error(response.status, body, response.content_type, response.headers)
            page = await read_small_text(response)
        element = bs4.BeautifulSoup(page, "html.parser").find("pre", id="token")
        token = element.get_text().strip() if element is not None else ""
        if not token:
            raise ProtocolError(
                'The auth page carried no token (<pre id="token"> missing or empty)'
            )
        return str(token)

    @classmethod
    async def _create_session(
        cls, session: aiohttp.ClientSession, token: str, cache: TokenCache
    ) -> str:
        headers = {"Authorization": f"Bearer {token}", "user-agent": BROWSER_USER_AGENT}
        url = url_for(cls.name(), cls.session_endpoint)
        async with session.get(url, headers=headers) as response:
            if response.status == 401:
                await cache.clear()
                raise AuthError("Unauthorized: Invalid token during session creation.", 401)
            if response.status == 422:
                raise ValidationError("Validation Error: Check input parameters.", 422)
            if response.status != 200:
                body = await read_error_body(response)
                raise status_error(response.status, body, response.content_type, response.headers)
            data = await read_small_json(response)
        sid = data.get("sid") if isinstance(data, dict) else None
        if not isinstance(sid, str) or not sid:
            raise ProtocolError("create-session answered without a sid")
        return sid

    @classmethod
    async def _chat(
        cls,
        session: aiohttp.ClientSession,
        creds: Credentials,
        prompt: str,
        agent: str,
        continues: int,
        cache: TokenCache,
    ) -> AsyncGenerator[Chunk, None]:
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {creds.access_token}",
        }
        body = {"sid": creds.sid, "prompt": prompt, "agent": agent}
        url = url_for(cls.name(), cls.api_endpoint)
        async with session.post(url, headers=headers, json=body) as response:
            await cls._check_chat_status(response, cache, creds)
            tally = LineTally()
            async for line in iter_lines(response):
                record = tally.decode_json(line)
                if not isinstance(record, dict):
                    continue
                text = _record_text(record)
                if text:
                    tally.texts += 1
                    yield text
                if continues > 0 and _waits_for_response(record):
                    continues -= 1
                    async for chunk in cls._continue(session, headers, creds, agent, url):
                        tally.texts += 1
                        yield chunk
            tally.check_end()

    @classmethod
    async def _continue(
        cls,
        session: aiohttp.ClientSession,
        headers: dict[str, str],
        creds: Credentials,
        agent: str,
        url: str,
    ) -> AsyncGenerator[str, None]:
        """One ``continue`` round, while the first stream stays open; failures are ignored,
        as the first stream still carries the answer so far."""
        body = {"sid": creds.sid, "prompt": "continue", "agent": agent}
        async with session.post(url, headers=headers, json=body) as response:
            if response.status != 200:
                return
            tally = LineTally()
            async for line in iter_lines(response):
                record = tally.decode_json(line)
                if isinstance(record, dict) and (text := _record_text(record)):
                    yield text

    @staticmethod
    async def _check_chat_status(
        response: aiohttp.ClientResponse, cache: TokenCache, creds: Credentials
    ) -> None:
        status = response.status
        if status == 200:
            return
        if status == 401:
            await cache.discard(creds)
            raise _StaleToken
        if status == 422:
            raise ValidationError("Validation Error: Invalid input.", 422)
        body = await read_error_body(response)
        detected = status_error(status, body, response.content_type, response.headers)
        if type(detected) is not ResponseStatusError and status < 500:
            raise detected  # Cloudflare, bot detection, rate limit: named precisely
        if status >= 500:
            raise ServerError(f"Server Error: {status}", status, body=body)
        raise ResponseStatusError(f"Unexpected Error: {status}", status, body=body)


def _record_text(record: dict[str, Any]) -> str:
    args = record.get("args")
    if isinstance(args, dict) and isinstance(args.get("content"), str):
        return str(args["content"])
    message = record.get("message")
    return message if isinstance(message, str) else ""


def _waits_for_response(record: dict[str, Any]) -> bool:
    args = record.get("args")
    return (
        record.get("action") == "message"
        and isinstance(args, dict)
        and bool(args.get("wait_for_response"))
    )
