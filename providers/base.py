"""The framework the providers share: model resolution and the calling forms.

A provider subclasses :class:`AsyncGeneratorProvider` (and usually
:class:`ProviderModelMixin`) and implements one class method, ``_stream``: an async
generator of text pieces and at most one :class:`FinishReason`. The base turns it
into ``create_async_generator``, which works in every form the seed documents use::

    async for chunk in Provider.create_async_generator(model="m", messages=msgs): ...
    async for chunk in await Provider.create_async_generator("m", msgs): ...
    provider = Provider(model="m")
    async for chunk in provider.create_async_generator(messages=msgs): ...

Options accepted by a provider are the keyword-only parameters of its ``_stream``;
other keywords that gpt4free callers habitually pass (``web_search=...``) are
dropped instead of leaking into request bodies.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Mapping
from typing import Any, ClassVar

from .errors import ModelNotSupportedError
from .messages import Chunk, Messages


class AsyncResult(AsyncIterator[Chunk]):
    """A provider's stream: iterate it directly, or ``await`` it first (older style)."""

    def __init__(self, stream: AsyncGenerator[Chunk, None]) -> None:
        self._stream = stream

    def __aiter__(self) -> AsyncIterator[Chunk]:
        # The generator itself: ``async for`` then spares a frame per chunk.
        return self._stream

    async def __anext__(self) -> Chunk:
        return await self._stream.__anext__()

    def __await__(self) -> Generator[Any, None, AsyncResult]:
        return self._itself().__await__()

    async def _itself(self) -> AsyncResult:
        return self

    async def aclose(self) -> None:
        """Stop the stream early and release its connection."""
        await self._stream.aclose()


class _CreateAsyncGenerator:
    """Descriptor: a class method when read from the class, bound to the instance's
    ``model`` and ``proxy`` defaults when read from an instance."""

    def __get__(
        self, instance: AsyncGeneratorProvider | None, owner: type[AsyncGeneratorProvider]
    ) -> Callable[..., AsyncResult]:
        default_model = instance.model if instance is not None else None
        default_proxy = instance.proxy if instance is not None else None
        default_options = instance.options if instance is not None else {}

        def create_async_generator(
            model: str | None = None,
            messages: Messages | None = None,
            proxy: str | None = None,
            stream: bool = True,
            timeout: float | None = None,
            **options: Any,
        ) -> AsyncResult:
            """Start a chat completion; returns the stream of text and finish items."""
            if messages is None:
                raise TypeError(f"{owner.__name__}.create_async_generator() needs messages=")
            resolved = owner.resolve_model(model if model is not None else default_model or "")
            merged = {**default_options, **options}
            kept = {k: v for k, v in merged.items() if k in owner.stream_options}
            return AsyncResult(
                owner._stream(
                    resolved,
                    list(messages),
                    proxy=proxy if proxy is not None else default_proxy,
                    stream=stream,
                    timeout=timeout,
                    **kept,
                )
            )

        return create_async_generator


class AsyncGeneratorProvider:
    """Base of every provider: capability flags and the ``create_async_generator`` entry."""

    label: ClassVar[str | None] = None
    url: ClassVar[str] = ""
    working: ClassVar[bool] = False
    """Shipped False; the harness's flags file sets the measured value at import."""
    shipped_working: ClassVar[bool] = False
    """The flag the class was defined with, which an unknown measurement leaves in place."""
    capability: ClassVar[str] = "chat"
    """What the provider makes (``chat``, ``image`` or ``audio``): which prompts probe it."""
    supports_stream: ClassVar[bool] = True
    supports_system_message: ClassVar[bool] = False
    supports_message_history: ClassVar[bool] = False
    upstream_hosts: ClassVar[tuple[str, ...]] = ()
    """The real hosts this provider talks to (for cassettes and the connectivity check)."""

    stream_options: ClassVar[frozenset[str]] = frozenset()
    """The extra keyword options this provider's ``_stream`` takes (found at subclassing)."""

    create_async_generator = _CreateAsyncGenerator()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.shipped_working = cls.working
        parameters = inspect.signature(cls._stream).parameters.items()
        cls.stream_options = frozenset(
            name
            for name, p in parameters
            if p.kind is inspect.Parameter.KEYWORD_ONLY
            and name not in ("proxy", "stream", "timeout")
        )

    def __init__(self, model: str | None = None, proxy: str | None = None, **options: Any) -> None:
        self.model = model
        self.proxy = proxy
        self.options: Mapping[str, Any] = options

    @classmethod
    def name(cls) -> str:
        """The provider's registry name (its class name)."""
        return cls.__name__

    @classmethod
    def resolve_model(cls, model: str) -> str:
        """The upstream model for ``model``, via ``get_model`` where the provider has one."""
        get_model = getattr(cls, "get_model", None)
        return str(get_model(model)) if get_model is not None else model

    @classmethod
    def all_models(cls) -> list[str]:
        """Every model the harness should probe."""
        models: list[str] = list(getattr(cls, "models", []))
        default: str = getattr(cls, "default_model", "")
        return models or ([default] if default else [])

    @classmethod
    def _stream(
        cls,
        model: str,
        messages: Messages,
        *,
        proxy: str | None,
        stream: bool,
        timeout: float | None,
    ) -> AsyncGenerator[Chunk, None]:
        raise NotImplementedError


class ProviderModelMixin:
    """Model list, aliases and resolution for providers that serve several models."""

    default_model: ClassVar[str] = ""
    models: ClassVar[list[str]] = []
    model_aliases: ClassVar[dict[str, str]] = {}

    @classmethod
    def get_model(cls, model: str) -> str:
        """Empty -> ``default_model``; alias -> its model; unknown -> ``ModelNotSupportedError``."""
        if not model:
            return cls.default_model
        if model in cls.model_aliases:
            return cls.model_aliases[model]
        if cls.models and model not in cls.models:
            raise ModelNotSupportedError(
                f"Model is not supported: {model} in: {cls.__name__} Valid models: {cls.models}"
            )
        return model
