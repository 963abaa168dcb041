"""What every configured endpoint shares, whatever protocol it speaks.

An endpoint is a provider built at run time for one API (OpenAI-compatible, Anthropic
Messages, Gemini): a name, a base URL, models (listed, or discovered with
``list_models``), and an API key read from the environment at each request. The
protocol modules (``openai_compatible``, ``anthropic_messages``, ``gemini``) build
their classes on :class:`EndpointProvider` with the helpers here.

The API key lives only inside the function :func:`key_reader` returns, never in an
attribute, so no listing, repr or serialisation of a class can show it.
"""

from __future__ import annotations

import os
import re
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
    Sequence,
)
from typing import Any, ClassVar

import aiohttp

from . import upstream
from .base import AsyncGeneratorProvider, ProviderModelMixin
from .errors import MissingRequirementsError
from .http import client_session, read_small_json
from .messages import Chunk, Messages
from .stream import LineTally

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
"""An endpoint's name: it names a provider, a badge file and a URL path segment."""


def check_endpoint(name: str, base_url: str, max_tokens: int | None) -> None:
    """``ValueError`` for a malformed name, base URL or token cap."""
    if not NAME_PATTERN.fullmatch(name):
        raise ValueError(f"endpoint name {name!r} must be letters, digits, '_' or '-' (at most 64)")
    upstream.validate_base(base_url)
    if max_tokens is not None and max_tokens < 1:
        raise ValueError(f"max_tokens must be positive, got {max_tokens}")


def key_reader(name: str, api_key: str | None, api_key_env: str | None) -> Callable[[], str | None]:
    """A function giving the key to send now: ``api_key``, or the value of the environment
    variable ``api_key_env`` read at each call (unset: :class:`MissingRequirementsError`,
    so nothing is sent without it)."""

    def read() -> str | None:
        if api_key_env is None:
            return api_key
        key = os.environ.get(api_key_env)
        if not key:
            raise MissingRequirementsError(
                f"the environment variable {api_key_env} (the API key of {name}) is not set"
            )
        return key

    return read


StatusCheck = Callable[[aiohttp.ClientResponse], Awaitable[None]]
"""Raise the protocol's error for a response that is not a success."""


async def post_for_chunks(
    url: str,
    body: Mapping[str, Any],
    *,
    headers: dict[str, str],
    proxy: str | None,
    timeout: float | None,
    stream: bool,
    check: StatusCheck,
    streamed: Callable[[aiohttp.ClientResponse, LineTally], AsyncIterator[Chunk]],
    whole: Callable[[Any], Iterable[Chunk]],
    params: Mapping[str, str] | None = None,
) -> AsyncGenerator[Chunk, None]:
    """POST ``body`` and yield the answer's chunks: read as an event stream
    (``streamed``) or, for a JSON answer, as one document (``whole``)."""
    async with (
        client_session(headers=headers, proxy=proxy, timeout=timeout) as session,
        session.post(url, json=body, params=params) as response,
    ):
        await check(response)
        # Some servers stream events under another content type; a JSON answer to a
        # streaming request is a server that ignored ``stream``.
        if stream and response.content_type != "application/json":
            async for chunk in streamed(response, LineTally()):
                yield chunk
        else:
            for chunk in whole(await read_small_json(response)):
                yield chunk


async def get_json(
    url: str,
    *,
    headers: dict[str, str],
    proxy: str | None,
    timeout: float | None,
    check: StatusCheck,
    params: Mapping[str, str] | None = None,
) -> Any:
    """GET ``url`` and return its (size-capped) JSON document."""
    async with (
        client_session(headers=headers, proxy=proxy, timeout=timeout) as session,
        session.get(url, params=params) as response,
    ):
        await check(response)
        return await read_small_json(response)


def api_base(provider: str, base_url: str) -> str:
    """Where ``provider``'s requests go under the redirection in force: a base set for its
    own name replaces the whole ``base_url`` (the emulator serves ``/NAME/...``); a global
    base keeps the base URL's path, as for the seed providers."""
    own = upstream.own_base(provider)
    if own:
        return own.rstrip("/")
    return upstream.resolve(provider, base_url.rstrip("/"))


class EndpointProvider(AsyncGeneratorProvider, ProviderModelMixin):
    """The base of every endpoint class (not used on its own)."""

    working = False
    supports_stream = True
    supports_system_message = True
    supports_message_history = True
    base_url: ClassVar[str] = ""
    protocol: ClassVar[str] = ""
    """The wire protocol: ``openai``, ``anthropic`` or ``gemini``."""

    list_models: ClassVar[Callable[..., Any]]
    """``await cls.list_models(proxy=None, timeout=30.0)``: the ids the endpoint lists."""

    @classmethod
    def set_models(cls, models: Sequence[str]) -> None:
        """Probe ``models`` from now on (the first is the default), e.g. after discovery."""
        cls.models = list(dict.fromkeys(models))
        cls.default_model = cls.models[0] if cls.models else ""

    @classmethod
    def _stream(
        cls,
        model: str,
        messages: Messages,
        *,
        proxy: str | None,
        stream: bool,
        timeout: float | None,
        max_tokens: int | None = None,
    ) -> AsyncGenerator[Chunk, None]:
        raise NotImplementedError


def endpoint_class(
    base: type[EndpointProvider],
    name: str,
    base_url: str,
    *,
    models: Sequence[str],
    label: str | None,
    hosts: tuple[str, ...],
    stream: Callable[..., AsyncGenerator[Chunk, None]],
    list_models: Callable[..., Any],
) -> type[EndpointProvider]:
    """A subclass of ``base`` named ``name``, with its stream and model listing."""
    listed = list(dict.fromkeys(models))
    namespace: dict[str, Any] = {
        "__doc__": f"The {base.protocol} endpoint {name} at {base_url}.",
        "__module__": base.__module__,
        "label": label or name,
        "url": base_url,
        "base_url": base_url,
        "upstream_hosts": hosts,
        "models": listed,
        "default_model": listed[0] if listed else "",
        "_stream": classmethod(stream),
        "list_models": classmethod(list_models),
    }
    return type(name, (base,), namespace)
