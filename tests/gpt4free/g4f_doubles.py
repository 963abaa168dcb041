"""gpt4free-shaped test doubles: classes with gpt4free's attributes and calling form
(``create_async_generator(model, messages, **kwargs)``), misbehaving on purpose."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

from providers.gpt4free import G4FInfo, describe


def answer(messages: list[dict[str, str]]) -> str:
    """The ping prompt's expected answer (``PONG-<nonce>``)."""
    return messages[-1]["content"].rsplit(" ", 1)[-1]


class Double:
    """The attributes gpt4free's providers carry."""

    working = True
    needs_auth = False
    default_model = "double-model"
    url = "http://127.0.0.1"
    supports_system_message = True
    supports_message_history = True


class Good(Double):
    """Answers the ping, with a finish reason and a usage count as gpt4free yields them."""

    @classmethod
    async def create_async_generator(
        cls, model: str, messages: list[dict[str, str]], **kwargs: Any
    ) -> AsyncIterator[object]:
        from g4f.providers.response import FinishReason, ProviderInfo, Reasoning, Usage

        yield ProviderInfo(name="Good", url=cls.url, label="Good", model=model)
        yield Reasoning("thinking about pong")
        text = answer(messages)
        yield text[:3]
        yield text[3:]
        yield FinishReason("stop")
        yield Usage(prompt_tokens=7, completion_tokens=3)


def blocking(release: threading.Event) -> type[Double]:
    """Blocks its event loop with ``time.sleep`` until ``release`` is set."""

    class Blocking(Double):
        @classmethod
        async def create_async_generator(
            cls, model: str, messages: list[dict[str, str]], **kwargs: Any
        ) -> AsyncIterator[object]:
            while not release.is_set():
                time.sleep(0.05)  # noqa: ASYNC251 - on purpose: the event loop stops
            yield answer(messages)

    return Blocking


def deaf(release: threading.Event) -> type[Double]:
    """Never answers and ignores cancellation, until ``release`` is set."""

    class Deaf(Double):
        @classmethod
        async def create_async_generator(
            cls, model: str, messages: list[dict[str, str]], **kwargs: Any
        ) -> AsyncIterator[object]:
            while not release.is_set():
                try:
                    await asyncio.sleep(0.05)
                except asyncio.CancelledError:
                    continue  # swallowed on purpose
            yield answer(messages)

    return Deaf


class Endless(Double):
    """Streams text forever."""

    @classmethod
    async def create_async_generator(
        cls, model: str, messages: list[dict[str, str]], **kwargs: Any
    ) -> AsyncIterator[object]:
        while True:
            yield "more "
            await asyncio.sleep(0.01)


def info(cls: type, name: str | None = None) -> G4FInfo:
    """What the catalog would say about ``cls``."""
    return describe(name or cls.__name__, cls)


class Painter(Double):
    """An image provider: answers with an image result, as gpt4free's image providers do."""

    default_model = "double-image"
    default_image_model = "double-image"
    image_models = ("double-image",)

    @classmethod
    async def create_async_generator(
        cls, model: str, messages: list[dict[str, str]], **kwargs: Any
    ) -> AsyncIterator[object]:
        from g4f.providers.response import ImagePreview, ImageResponse

        yield ImagePreview(["http://127.0.0.1/preview.png"], "preview")
        yield ImageResponse(["http://127.0.0.1/picture.png"], messages[-1]["content"])


class Speaker(Double):
    """An audio provider: answers with inline audio bytes."""

    default_model = "double-voice"
    audio_models = ("double-voice",)

    @classmethod
    async def create_async_generator(
        cls, model: str, messages: list[dict[str, str]], **kwargs: Any
    ) -> AsyncIterator[object]:
        from g4f.providers.response import AudioResponse

        yield AudioResponse("data:audio/mpeg;base64,SUQzBAAAAAAAI1RTU0U=")
