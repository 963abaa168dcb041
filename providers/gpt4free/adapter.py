"""A gpt4free provider as a provider of this package, named ``g4f.NAME``.

:func:`wrap` builds a subclass of :class:`~providers.base.AsyncGeneratorProvider` around
one loaded gpt4free class (or around a load failure, whose every call raises the
translated load error, so the failure is probed and recorded like any other). A call
runs the gpt4free provider in a worker process (:mod:`~providers.gpt4free.isolation`),
which keeps only answer data (:func:`~.translate.to_chunk`) and translates its errors
(:func:`~.translate.translate_error`).

Models: the configured ones, else the model its capability is probed with (the chat
default, or an image or audio provider's media default); a provider without one is
probed as ``default`` (gpt4free then picks its own model).
``base_url`` and an API key read from ``api_key_env`` at call time go to the providers
that accept them (gpt4free's OpenAI-style providers).
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, Sequence
from typing import Any, ClassVar

from yarl import URL

from ..base import AsyncGeneratorProvider
from ..errors import ProviderError
from ..messages import Chunk, Messages
from .catalog import G4FInfo, LoadFailure
from .isolation import Call, reference, workers
from .translate import translate_error

PREFIX = "g4f."
DEFAULT_MODEL = "default"
"""The model name of a target whose provider's default model is empty."""


def target_name(g4f_name: str) -> str:
    """The harness's name for gpt4free provider ``g4f_name``."""
    return PREFIX + g4f_name


class G4FProvider(AsyncGeneratorProvider):
    """Base of the wrapped gpt4free providers (one subclass per provider, from :func:`wrap`)."""

    g4f_name: ClassVar[str] = ""
    info: ClassVar[G4FInfo | None] = None
    load_error: ClassVar[BaseException | None] = None
    base_url: ClassVar[str | None] = None
    api_key_env: ClassVar[str | None] = None
    default_model: ClassVar[str] = DEFAULT_MODEL
    models: ClassVar[list[str]] = []

    @classmethod
    def get_model(cls, model: str) -> str:
        """Any model name goes to gpt4free, which refuses unknown ones itself."""
        return model or cls.default_model

    @classmethod
    def _call_kwargs(cls, proxy: str | None, timeout: float | None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if cls.base_url:
            kwargs["base_url"] = cls.base_url
        key = os.environ.get(cls.api_key_env) if cls.api_key_env else None
        if key:
            kwargs["api_key"] = key
        if proxy:
            kwargs["proxy"] = proxy
        if timeout:
            kwargs["timeout"] = timeout
        return kwargs

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
        if cls.info is None:
            error = cls.load_error or ProviderError(f"{cls.g4f_name} was not loaded")
            raise translate_error(error) from error
        g4f_model = "" if model == DEFAULT_MODEL and not cls.info.probe_model else model
        options = {"stream": stream, **cls._call_kwargs(proxy, timeout)}
        history = [dict(m) for m in messages]
        call = Call(reference(cls.info.cls, cls.g4f_name), g4f_model, history, options)
        async for chunk in workers().stream(call):
            yield chunk


def _host(url: str | None) -> tuple[str, ...]:
    host = URL(url).host if url else None
    return (host,) if host else ()


def wrap(
    loaded: G4FInfo | LoadFailure,
    *,
    models: Sequence[str] = (),
    base_url: str | None = None,
    api_key_env: str | None = None,
) -> type[G4FProvider]:
    """The provider ``g4f.NAME`` for one loaded (or failed) gpt4free provider.

    ``base_url`` is refused (``ValueError``) for a provider that does not accept one.
    """
    if isinstance(loaded, LoadFailure):
        attributes: dict[str, Any] = {"info": None, "load_error": loaded.error, "url": ""}
        default = DEFAULT_MODEL
    else:
        if base_url and not loaded.accepts_base_url:
            raise ValueError(f"g4f provider {loaded.name} does not accept a base_url")
        default = loaded.probe_model or DEFAULT_MODEL
        attributes = {
            "info": loaded,
            "capability": loaded.capability,
            "load_error": None,
            "url": loaded.url,
            "working": loaded.working,
            "supports_system_message": loaded.supports_system_message,
            "supports_message_history": loaded.supports_message_history,
        }
    attributes.update(
        g4f_name=loaded.name,
        base_url=base_url,
        api_key_env=api_key_env,
        default_model=default,
        models=list(dict.fromkeys(models)),
        upstream_hosts=_host(base_url) or _host(attributes["url"]),
        __module__=__name__,
        __doc__=f"gpt4free's {loaded.name}, run in isolation.",
    )
    return type(target_name(loaded.name), (G4FProvider,), attributes)
