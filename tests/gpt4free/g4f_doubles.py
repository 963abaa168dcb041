"""gpt4free-shaped test doubles: classes with gpt4free's attributes and calling form
(``create_async_generator(model, messages, **kwargs)``), misbehaving on purpose. Each
lives at module level: a gpt4free worker process imports it by reference."""

from __future__ import annotations

import asyncio
import os
import signal
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


class BlocksForever(Double):
    """Blocks its event loop with ``time.sleep`` and never answers."""

    @classmethod
    async def create_async_generator(
        cls, model: str, messages: list[dict[str, str]], **kwargs: Any
    ) -> AsyncIterator[object]:
        while True:
            time.sleep(0.05)  # noqa: ASYNC251 - on purpose: the event loop stops
            if not messages:
                yield ""


class Spins(Double):
    """Spins the CPU and never answers."""

    @classmethod
    async def create_async_generator(
        cls, model: str, messages: list[dict[str, str]], **kwargs: Any
    ) -> AsyncIterator[object]:
        spins = 0
        while messages:
            spins += 1
        yield str(spins)


class Deaf(Double):
    """Never answers and swallows every cancellation."""

    @classmethod
    async def create_async_generator(
        cls, model: str, messages: list[dict[str, str]], **kwargs: Any
    ) -> AsyncIterator[object]:
        while True:
            try:
                await asyncio.sleep(0.05)
            except asyncio.CancelledError:
                continue  # swallowed on purpose
            if not messages:
                yield ""


class Allocates(Double):
    """Allocates memory without end (each piece written, so it is really held)."""

    @classmethod
    async def create_async_generator(
        cls, model: str, messages: list[dict[str, str]], **kwargs: Any
    ) -> AsyncIterator[object]:
        hoard = []
        while messages:
            hoard.append(bytearray(32 * 1024 * 1024))
        yield str(len(hoard))


class Dies(Double):
    """Kills its own process (as the kernel's out-of-memory killer would)."""

    @classmethod
    async def create_async_generator(
        cls, model: str, messages: list[dict[str, str]], **kwargs: Any
    ) -> AsyncIterator[object]:
        os.kill(os.getpid(), signal.SIGKILL)
        yield answer(messages)


PACE_S = 0.3
"""How long :class:`Paced` takes to its first text."""


class Paced(Double):
    """Answers the ping after :data:`PACE_S` seconds, in two pieces."""

    @classmethod
    async def create_async_generator(
        cls, model: str, messages: list[dict[str, str]], **kwargs: Any
    ) -> AsyncIterator[object]:
        await asyncio.sleep(PACE_S)
        text = answer(messages)
        yield text[:3]
        await asyncio.sleep(0.01)
        yield text[3:]


class RateLimited(Double):
    """Streams ``count`` pieces (the model name says how many), then fails as gpt4free
    does when throttled."""

    @classmethod
    async def create_async_generator(
        cls, model: str, messages: list[dict[str, str]], **kwargs: Any
    ) -> AsyncIterator[object]:
        from g4f.errors import RateLimitError

        for i in range(int(model)):
            yield f"{i} "
        raise RateLimitError("Response 429: slow down")


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
